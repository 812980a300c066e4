// The concurrency cap: the 10,000-request mechanism on the stage itself, config errors, and the router end to end
// with a real flood of concurrent streams from one user while another user keeps being served.
import assert from 'node:assert/strict';
import { setMaxListeners } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Agent, request } from 'undici';
import type { RouterError } from '../errors.js';
import { RouterMetrics } from '../telemetry/metrics.js';
import { startFakeEngine } from '../testing/fake-engine.js';
import { ctxFor } from '../testing/fixtures.js';
import { endpointYaml, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';
import { hashApiKey } from './api-keys.js';
import { ConcurrencyCapStage, parseConcurrencyCap } from './concurrency-cap.js';
import { GovernanceMetrics } from './metrics.js';

const asUser = (user: string) => ctxFor('m', '', { user });
const fromAddr = (addr: string) => {
  const c = ctxFor('m');
  c.clientAddress = addr;
  return c;
};

test('10,000 concurrent requests from one user: all beyond the cap get 429, other users and clients are unaffected', () => {
  const metrics = new GovernanceMetrics(new RouterMetrics().registry);
  const st = new ConcurrencyCapStage({ maxConcurrentPerUser: 100, maxConcurrentPerClient: 10 }, metrics);
  const releases: (() => void)[] = [];
  let rejected = 0;
  for (let i = 0; i < 10_000; i++) {
    try {
      const r = st.admit(asUser('flood'));
      if (r) releases.push(r);
    } catch (e) {
      const err = e as RouterError;
      assert.equal(err.status, 429);
      assert.equal(err.headers['retry-after'], '1');
      assert.match(err.message, /too many concurrent requests from this user \(limit 100\)/);
      rejected++;
    }
  }
  assert.equal(releases.length, 100);
  assert.equal(rejected, 9_900);
  assert.ok(st.admit(asUser('light')), 'another user is admitted');
  assert.ok(st.admit(fromAddr('10.0.0.2')), 'an anonymous client is counted by its own address');
  for (let i = 0; i < 10; i++) st.admit(fromAddr('10.0.0.9'));
  assert.throws(() => st.admit(fromAddr('10.0.0.9')), /from this client \(limit 10\)/);
  // A release frees exactly one slot, and twice-called releases do not free two.
  releases[0]();
  releases[0]();
  assert.ok(st.admit(asUser('flood')));
  assert.throws(() => st.admit(asUser('flood')));
  for (const r of releases.slice(1)) r();
  assert.equal(st.trackedClients, 4, 'flood (1 left), light, and two addresses');
});

test('limits config: clear errors, off when no cap is set', () => {
  assert.equal(parseConcurrencyCap(undefined), undefined);
  assert.equal(parseConcurrencyCap({ maxConcurrentPerUser: 0 }), undefined);
  assert.throws(() => parseConcurrencyCap([]), /limits: must be a mapping/);
  assert.throws(() => parseConcurrencyCap({ maxConcurrentPerUser: -1 }), /limits.maxConcurrentPerUser/);
  assert.throws(() => parseConcurrencyCap({ maxConcurrentPerUser: '5' }), /limits.maxConcurrentPerUser/);
  assert.throws(() => parseConcurrencyCap({ maxStreams: 5 }), /limits.maxStreams: unknown key/);
  assert.deepEqual(parseConcurrencyCap({ maxConcurrentPerClient: 3 }), {
    maxConcurrentPerUser: 0,
    maxConcurrentPerClient: 3,
  });
});

test('router: one user opening 300 streams gets 429 beyond its cap while another user is served', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-cap-'));
  const keys = join(dir, 'keys.yaml');
  await writeFile(
    keys,
    `keys:\n- {sha256: ${hashApiKey('sk-flood')}, user: flood}\n- {sha256: ${hashApiKey('sk-light')}, user: light}\n`,
  );
  const eng = await startFakeEngine('e', { models: ['real'] });
  const h = await startHarness(
    {
      'server.yaml': serverYaml(
        's1',
        '  model: real\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
      ),
      'eps.yaml': endpointYaml('e', eng, { app: 's1' }),
      'route.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
    },
    { routerConfigText: `auth:\n  apiKeys: {file: ${keys}}\nlimits:\n  maxConcurrentPerUser: 20\n` },
  );
  const agent = new Agent({ connections: 400 });
  const ac = new AbortController();
  setMaxListeners(400, ac.signal); // one listener per flood request
  const call = async (key: string, hang = false) => {
    const r = await request(`${h.router.url}/v1/completions`, {
      method: 'POST',
      dispatcher: agent,
      signal: hang ? ac.signal : undefined,
      // The flood's streams hang at the engine until the client gives up: they hold their slots for sure.
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${key}`,
        ...(hang ? { 'x-fake': '{"kind":"hang"}' } : {}),
      },
      body: JSON.stringify({ model: 'm', prompt: 'hi', stream: true }),
    });
    const text = await r.body.text();
    return { status: r.statusCode, text, retryAfter: r.headers['retry-after'] };
  };
  try {
    const limited: { status: number; text: string; retryAfter: unknown }[] = [];
    const flood = Array.from({ length: 300 }, () =>
      call('sk-flood', true).then(
        (r) => void limited.push(r),
        () => undefined,
      ),
    );
    while (limited.length < 280) await new Promise((r) => setTimeout(r, 10));
    assert.equal(eng.active(), 20, 'exactly the cap reached the engine');
    // While the flood holds its 20 slots, the other user is served.
    const light = await Promise.all(Array.from({ length: 5 }, () => call('sk-light')));
    assert.deepEqual(
      light.map((r) => r.status),
      [200, 200, 200, 200, 200],
    );
    assert.ok(limited.every((r) => r.status === 429 && r.retryAfter === '1'));
    const body = JSON.parse(limited[0].text);
    assert.equal(body.error.type, 'rate_limit_error');
    assert.match(body.error.message, /too many concurrent requests from this user \(limit 20\)/);
    assert.equal(await metricSum(h.router, 'kthena_router_concurrency_rejected_total', { scope: 'user' }), 280);
    // The flood's clients give up: their slots come back and the user is served again.
    ac.abort();
    await Promise.all(flood);
    let again = 0;
    for (let i = 0; i < 500 && again !== 200; i++) {
      again = (await call('sk-flood')).status;
      if (again !== 200) await new Promise((r) => setTimeout(r, 20));
    }
    assert.equal(again, 200);
    assert.equal(limited.length, 280);
  } finally {
    await agent.close();
    await h.close();
    await eng.close();
    await rm(dir, { recursive: true, force: true });
  }
});
