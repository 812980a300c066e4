// PdRouter paths that real engines rarely take, driven through the router against scriptable fake engines:
// decode failover across groups, a prefill still running when the decode ends (SGLang), a decode dying mid-stream.
// Every case checks that each leg's in-flight count went back to zero.
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { PluginDefinition } from '../scheduler/plugin.js';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';

const prefer: PluginDefinition = {
  name: 'prefer',
  roles: ['score'],
  create: () => ({ name: 'prefer', score: (_c, eps) => eps.map((e) => Number(e.state.labels.prefer ?? 0)) }),
};
const CONFIG = `scheduler:
  plugins:
    Score:
      enabled:
      - {name: prefer, weight: 1}
`;

const engines: FakeEngine[] = [];
const harnesses: Harness[] = [];
after(async () => {
  await Promise.all(harnesses.map((h) => h.close()));
  await Promise.all(engines.map((e) => e.close()));
});

async function setup(engine: 'vLLM' | 'SGLang', pods: [string, string, 'prefill' | 'decode', number][]) {
  const fakes = new Map<string, FakeEngine>();
  let eps = '';
  for (const [name, group, role, pref] of pods) {
    const f = await startFakeEngine(name, { models: ['m'] });
    engines.push(f);
    fakes.set(name, f);
    eps += `---\n${endpointYaml(name, f, { app: 'x', group, role, prefer: String(pref) })}`;
  }
  const h = await startHarness(
    {
      'server.yaml': serverYaml(
        'pd',
        `  inferenceEngine: ${engine}
  workloadSelector:
    matchLabels: {app: x}
    pdGroup: {groupKey: group, prefillLabels: {role: prefill}, decodeLabels: {role: decode}}
  workloadPort: {port: 1}
`,
      ),
      'route.yaml': routeYaml('m', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: pd}]\n'),
      'engines.yaml': eps,
    },
    { routerConfigText: CONFIG, extraPlugins: [prefer] },
  );
  harnesses.push(h);
  return { h, fakes };
}

const idle = (h: Harness) => {
  for (const s of h.router.store.endpointStates()) assert.equal(s.inflight, 0, s.key);
};

test('http connector: a decode 503 fails over to the next decode (its own group, its own prefill)', async () => {
  const { h, fakes } = await setup('vLLM', [
    ['p0', 'g0', 'prefill', 0],
    ['d0', 'g0', 'decode', 2],
    ['p1', 'g1', 'prefill', 0],
    ['d1', 'g1', 'decode', 1],
  ]);
  fakes.get('d0')!.fallback = { kind: 'status', status: 503 };
  const r = await h.post('/v1/chat/completions', {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 9,
  });
  assert.equal(r.status, 200, r.text);
  assert.equal(r.headers['x-engine'], 'd1');
  const [p0, d0, p1, d1] = ['p0', 'd0', 'p1', 'd1'].map((n) => fakes.get(n)!.received);
  assert.equal(p0.length, 1);
  assert.equal(p0[0].body.max_tokens, 1);
  assert.equal(p0[0].body.stream, undefined);
  assert.equal(d0.length, 1);
  assert.equal(p1.length, 1, 'the second pair uses the prefill of the second group');
  assert.equal(d1.length, 1);
  assert.equal(d1[0].body.max_tokens, 9);
  assert.equal(await metricSum(h.router, 'kthena_router_upstream_attempts_total', { outcome: 'server_error' }), 1);
  idle(h);
});

test('sglang: a prefill still running when the decode has answered is cancelled, its slot freed', async () => {
  const { h, fakes } = await setup('SGLang', [
    ['sp', 'g', 'prefill', 0],
    ['sd', 'g', 'decode', 0],
  ]);
  const sp = fakes.get('sp')!;
  sp.fallback = { kind: 'hang' };
  const r = await h.post('/v1/chat/completions', {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  assert.equal(r.status, 200);
  assert.ok(r.text.endsWith('data: [DONE]\n\n'));
  const room = sp.received[0].body.bootstrap_room;
  assert.equal(fakes.get('sd')!.received[0].body.bootstrap_room, room, 'one room for both legs');
  assert.equal(fakes.get('sd')!.received[0].body.bootstrap_host, '127.0.0.1');
  for (let i = 0; i < 1000 && sp.active() > 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(sp.active(), 0, 'the hung prefill connection was closed');
  assert.equal(await metricSum(h.router, 'kthena_router_upstream_attempts_total', { outcome: 'aborted' }), 1);
  idle(h);
});

test('a decode that dies mid-stream: the stream ends with an SSE error event, both slots are freed', async () => {
  const { h, fakes } = await setup('vLLM', [
    ['bp', 'g', 'prefill', 0],
    ['bd', 'g', 'decode', 0],
  ]);
  fakes.get('bd')!.fallback = { kind: 'die-after', chunks: 2 };
  const r = await h.post('/v1/chat/completions', {
    model: 'm',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
  });
  assert.match(r.text, /"code":"upstream_stream_failed"[\s\S]*data: \[DONE\]\n\n$/);
  for (let i = 0; i < 1000 && h.router.handler.active > 0; i++) await new Promise((res) => setTimeout(res, 10));
  idle(h);
  assert.equal(
    await metricSum(h.router, 'kthena_router_requests_total', { error_type: 'proxy', status_code: '200' }),
    1,
    'counted as a broken stream',
  );
});
