// The console's contract: the page and its JSON on the debug listener, the fields the page renders from, and who
// may read them (loopback by default; exposed only with a bearer token).
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from '../../testing/fake-engine.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from '../../testing/harness.js';
import { checkExposure, decideAccess } from './access.js';
import { CONSOLE_API_VERSION, type ConsoleState } from './state.js';

const FILES = (a: FakeEngine, b: FakeEngine, c: FakeEngine) => ({
  'route.yaml': routeYaml(
    'chat',
    '  modelName: chat\n  rules:\n  - name: canary\n    targetModels: [{modelServerName: stable, weight: 70}, {modelServerName: next, weight: 30}]\n',
  ),
  'lora.yaml': routeYaml(
    'sql',
    '  loraAdapters: [sql-lora]\n  rules:\n  - targetModels: [{modelServerName: stable}]\n',
  ),
  'servers.yaml': `${serverYaml('stable', '  model: base-model\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: stable}}\n  workloadPort: {port: 8000}\n')}---\n${serverYaml('next', '  model: base-model\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: next}}\n  workloadPort: {port: 8000}\n')}`,
  'eps.yaml': [
    endpointYaml('a', a, { app: 'stable' }),
    endpointYaml('b', b, { app: 'stable' }),
    endpointYaml('c', c, { app: 'next' }),
  ].join('---\n'),
});

async function get(url: string, headers: Record<string, string> = {}) {
  const r = await request(url, { headers });
  const text = await r.body.text();
  return { status: r.statusCode, headers: r.headers, text };
}

describe('console on the debug listener', () => {
  let engines: FakeEngine[];
  let h: Harness;
  let base: string;
  before(async () => {
    engines = [
      await startFakeEngine('a', { models: ['base-model', 'sql-lora'] }),
      await startFakeEngine('b'),
      await startFakeEngine('c'),
    ];
    engines[0].metricsText =
      'vllm:kv_cache_usage_perc 0.25\nvllm:prefix_cache_queries_total 200\nvllm:prefix_cache_hits_total 50\n';
    h = await startHarness(FILES(engines[0], engines[1], engines[2]));
    base = `http://127.0.0.1:${h.router.debugPort}`;
  });
  after(async () => {
    await h.close();
    for (const e of engines) await e.close();
  });

  test('serves the page and its script without a CDN', async () => {
    const page = await get(`${base}/console/`);
    assert.equal(page.status, 200);
    assert.match(String(page.headers['content-type']), /text\/html/);
    assert.match(page.text, /<html/);
    assert.doesNotMatch(page.text, /https?:\/\//, 'the page loads nothing from elsewhere');
    const js = await get(`${base}/console/console.js`);
    assert.equal(js.status, 200);
    assert.match(js.text, /api\/state/);
    assert.equal((await get(`${base}/console/../package.json`)).status, 404);
    assert.equal((await get(`${base}/`)).status, 302);
  });

  test('api/state: routes with weights and served shares, endpoints with live state, the decision just made', async () => {
    for (let i = 0; i < 6; i++) {
      const r = await h.post('/v1/chat/completions', {
        model: 'chat',
        messages: [{ role: 'user', content: `hi ${i}` }],
      });
      assert.equal(r.status, 200);
    }
    const sentAt = new Date().toISOString();
    const r = await get(`${base}/console/api/state`);
    assert.equal(r.status, 200);
    const s = JSON.parse(r.text) as ConsoleState;
    assert.equal(s.apiVersion, CONSOLE_API_VERSION);
    assert.equal(s.router.ready, true);
    assert.deepEqual(
      s.scheduler.scores.map((x) => typeof x.weight),
      s.scheduler.scores.map(() => 'number'),
    );

    const route = s.routes.find((x) => x.key === 'default/chat');
    assert.ok(route);
    assert.equal(route.model, 'chat');
    const targets = route.rules[0].targets;
    assert.deepEqual(
      targets.map((t) => [t.kind, t.name, t.weight, t.configuredShare]),
      [
        ['ModelServer', 'stable', 70, 0.7],
        ['ModelServer', 'next', 30, 0.3],
      ],
    );
    assert.equal(
      targets.reduce((a, t) => a + t.requests, 0),
      6,
    );

    const stable = s.servers.find((x) => x.key === 'default/stable');
    assert.ok(stable);
    assert.deepEqual(stable.endpoints.map((e) => e.key).sort(), ['default/a', 'default/b']);
    const a = stable.endpoints.find((e) => e.key === 'default/a');
    assert.ok(a);
    assert.equal(a.kvCacheUsage, 0.25);
    assert.equal(a.prefixHitRate, 0.25);
    assert.deepEqual(a.loraAdapters, ['sql-lora']);
    assert.equal(a.inflight, 0);
    assert.ok(a.health, 'outlier detection runs by default');
    assert.equal(a.health.ejections, 0);
    assert.equal(s.servers.find((x) => x.key === 'default/next')?.endpoints.length, 1);

    const d = s.decisions.find((x) => x.model === 'chat');
    assert.ok(d, 'the decision for the request just sent');
    assert.ok(d.at <= sentAt);
    assert.ok(d.chosen);
    const passed = d.candidates.filter((c) => c.verdict === 'passed');
    assert.ok(passed.length >= 1);
    assert.equal(passed[0].rank, 1);
    assert.equal(passed[0].endpoint, d.chosen);
    for (const c of passed) for (const sc of s.scheduler.scores) assert.equal(typeof c.perPlugin[sc.name], 'number');
    // Only the ModelServer the weighted pick chose had candidates; none of them was filtered out.
    const servers = new Set(d.candidates.map((c) => c.endpoint === 'default/c'));
    assert.equal(servers.size, 1);
    assert.ok(d.candidates.every((c) => c.verdict === 'passed'));
    assert.equal(s.statusCodes['200'], 6);
    assert.deepEqual(s.governance.rateLimited, []);
  });

  test('an endpoint dropped by a filter is listed as filtered', async () => {
    const r = await h.post('/v1/chat/completions', { model: 'sql-lora', messages: [{ role: 'user', content: 'q' }] });
    assert.equal(r.status, 200);
    const s = JSON.parse((await get(`${base}/console/api/state`)).text) as ConsoleState;
    const d = s.decisions.find((x) => x.model === 'sql-lora');
    assert.ok(d);
    assert.equal(d.chosen, 'default/a');
    assert.deepEqual(
      d.candidates.map((c) => [c.endpoint, c.verdict, c.rank]),
      [
        ['default/a', 'passed', 1],
        ['default/b', 'filtered', null],
      ],
    );
  });

  test('decisions accumulate across polls, newest first', async () => {
    await h.post('/v1/chat/completions', { model: 'chat', messages: [{ role: 'user', content: 'again' }] });
    const s = JSON.parse((await get(`${base}/console/api/state`)).text) as ConsoleState;
    const chat = s.decisions.filter((x) => x.model === 'chat');
    assert.ok(chat.length >= 2);
    assert.ok(chat[0].at >= chat[1].at);
  });

  test('unknown console API paths are 404; writes are 405', async () => {
    assert.equal((await get(`${base}/console/api/nope`)).status, 404);
    const r = await request(`${base}/console/api/state`, { method: 'POST', body: '{}' });
    await r.body.dump();
    assert.equal(r.statusCode, 405);
  });
});

describe('console access', () => {
  test('loopback only unless exposed; exposed needs the bearer token', () => {
    assert.deepEqual(decideAccess(undefined, undefined), { ok: true });
    assert.deepEqual(decideAccess({ expose: false }, undefined), { ok: true });
    const e = { expose: true, token: 's3cret' };
    assert.equal(decideAccess(e, undefined).ok, false);
    assert.equal(decideAccess(e, 'Bearer nope').ok, false);
    assert.equal(decideAccess(e, 'Bearer s3cret-longer').ok, false);
    assert.equal(decideAccess(e, 'Basic s3cret').ok, false);
    assert.deepEqual(decideAccess(e, 'Bearer s3cret'), { ok: true });
    assert.deepEqual(decideAccess(e, 'bearer s3cret'), { ok: true });
    assert.throws(() => checkExposure({ expose: true }), /KTHENA_CONSOLE_TOKEN/);
  });

  // A non-loopback address of this machine, if it has one.
  const external = Object.values(networkInterfaces())
    .flat()
    .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;

  test('not reachable on a non-loopback address by default', {
    skip: !external && 'no non-loopback IPv4 address',
  }, async () => {
    const eng = await startFakeEngine('x');
    const h = await startHarness(FILES(eng, eng, eng), { host: '0.0.0.0' });
    try {
      assert.equal((await get(`http://127.0.0.1:${h.router.debugPort}/console/api/state`)).status, 200);
      await assert.rejects(get(`http://${external}:${h.router.debugPort}/console/api/state`), /ECONNREFUSED/);
    } finally {
      await h.close();
      await eng.close();
    }
  });

  test('exposed: 401 without the token on every data path, 200 with it', {
    skip: !external && 'no non-loopback IPv4 address',
  }, async () => {
    const eng = await startFakeEngine('x');
    const h = await startHarness(FILES(eng, eng, eng), {
      host: '0.0.0.0',
      console: { expose: true, token: 'tok-123' },
    });
    try {
      const at = `http://${external}:${h.router.debugPort}`;
      for (const p of ['/console/api/state', '/debug/scheduler', '/debug/config_dump/modelroutes']) {
        const r = await get(`${at}${p}`);
        assert.equal(r.status, 401, p);
        assert.equal(r.headers['www-authenticate'], 'Bearer');
        assert.equal((await get(`${at}${p}`, { authorization: 'Bearer wrong' })).status, 401, p);
        assert.equal((await get(`${at}${p}`, { authorization: 'Bearer tok-123' })).status, 200, p);
      }
      // The page holds no data and loads without a token, then asks for one.
      assert.equal((await get(`${at}/console/`)).status, 200);
      // Loopback callers need the token too once exposed: a local proxy must not open a side door.
      assert.equal((await get(`http://127.0.0.1:${h.router.debugPort}/console/api/state`)).status, 401);
    } finally {
      await h.close();
      await eng.close();
    }
  });
});
