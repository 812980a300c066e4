// The route fallback policy: pure parsing and saturation, then end to end — in-cluster first, spill to the external
// provider when the in-cluster target is gone, failing or saturated, visible in the metric and the access log.
import assert from 'node:assert/strict';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { request } from 'undici';
import { EndpointState } from '../store/endpoint-state.js';
import type { ModelRoute } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, serverYaml, startHarness } from '../testing/harness.js';
import { allSaturated, parseFallback } from './fallback.js';
import { type FakeProvider, makeTestPki, startFakeProvider } from './testing/fake-provider.js';

const routeWith = (annotations: Record<string, string>): ModelRoute => ({
  kind: 'ModelRoute',
  metadata: { name: 'r', namespace: 'team', annotations },
  spec: { modelName: 'm', rules: [{ targetModels: [{ modelServerName: 'ms' }] }] },
});

test('parseFallback: provider, reasons and thresholds; bad values name the annotation', () => {
  assert.equal(parseFallback(routeWith({})).policy, undefined);
  const p = parseFallback(routeWith({ 'fallback.kthena.io/provider': 'cloud' })).policy!;
  assert.equal(p.providerKey, 'team/cloud');
  assert.deepEqual([...p.on].sort(), ['failing', 'saturated', 'unavailable']);
  assert.equal(p.maxInflight, 0);
  const q = parseFallback(
    routeWith({
      'fallback.kthena.io/provider': 'cloud',
      'fallback.kthena.io/on': 'Saturated, unavailable',
      'fallback.kthena.io/max-inflight-per-endpoint': '4',
      'fallback.kthena.io/max-waiting-per-endpoint': '2',
    }),
  ).policy!;
  assert.deepEqual([...q.on].sort(), ['saturated', 'unavailable']);
  assert.deepEqual([q.maxInflight, q.maxWaiting], [4, 2]);
  const bad = parseFallback(
    routeWith({
      'fallback.kthena.io/provider': 'Cloud!',
      'fallback.kthena.io/on': 'sometimes',
      'fallback.kthena.io/max-inflight-per-endpoint': '-1',
    }),
  );
  assert.equal(bad.policy, undefined);
  assert.equal(bad.errors.length, 3);
  assert.match(bad.errors.join('\n'), /fallback.kthena.io\/on: unknown reason "sometimes"/);
  assert.match(parseFallback(routeWith({ 'fallback.kthena.io/on': 'failing' })).errors[0], /has no effect without/);
});

test('allSaturated: every endpoint at or past a threshold; never without a threshold', () => {
  const ep = (inflight: number, waiting: number): ServerEndpoint => {
    const s = new EndpointState('ns/p', 'ns', 'p', '127.0.0.1', 1, 'vLLM', {});
    s.inflight = inflight;
    s.metrics = { ...s.metrics, waiting };
    return { state: s, port: 1, origin: s.origin };
  };
  const base = parseFallback(routeWith({ 'fallback.kthena.io/provider': 'c' })).policy!;
  assert.equal(allSaturated(base, [ep(100, 100)]), false, 'no threshold: saturation is the scheduler finding no pod');
  const p = { ...base, maxInflight: 2, maxWaiting: 3 };
  assert.equal(allSaturated(p, [ep(2, 0), ep(0, 3)]), true);
  assert.equal(allSaturated(p, [ep(2, 0), ep(1, 2)]), false);
  assert.equal(allSaturated(p, []), false, 'no endpoints is "unavailable", not "saturated"');
  assert.equal(allSaturated({ ...p, on: new Set(['failing']) }, [ep(9, 9)]), false);
});

// ---------------------------------------------------------------- end to end

const pki = makeTestPki();
let fake: FakeProvider;
let engine: FakeEngine;
let h: Harness;
const accessLogFile = join(tmpdir(), `kthena-fallback-access-${process.pid}.log`);

const routeYaml = (
  model: string,
  server: string,
  ann: Record<string, string>,
) => `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata:
  name: ${model}
  namespace: default
  annotations: ${JSON.stringify({ 'fallback.kthena.io/provider': 'cloud', ...ann })}
spec:
  modelName: ${model}
  rules:
    - targetModels:
        - modelServerName: ${server}
`;

const msYaml = (name: string, app: string) =>
  serverYaml(
    name,
    `  model: local-model\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: ${app}}}\n  workloadPort: {port: 8000}\n`,
  );

before(async () => {
  fake = await startFakeProvider(pki);
  engine = await startFakeEngine('e1');
  h = await startHarness(
    {
      'provider.yaml': `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ExternalModelProvider
metadata:
  name: cloud
  namespace: default
  annotations: {provider.kthena.io/ca-bundle: ${JSON.stringify(pki.caPem)}}
spec:
  baseURL: ${fake.url}
  model: cloud-model
`,
      'servers.yaml': `${msYaml('ms-empty', 'nobody')}---\n${msYaml('ms-live', 'live')}`,
      'endpoints.yaml': endpointYaml('e1', engine, { app: 'live' }),
      'routes.yaml': [
        routeYaml('gone', 'ms-empty', {}),
        routeYaml('live', 'ms-live', { 'fallback.kthena.io/max-inflight-per-endpoint': '1' }),
        routeYaml('live-only-unavailable', 'ms-live', { 'fallback.kthena.io/on': 'unavailable' }),
      ].join('---\n'),
    },
    { accessLog: { enabled: true, format: 'json', output: accessLogFile } },
  );
});

after(async () => {
  await h?.close();
  await engine?.close();
  await fake?.close();
  await rm(accessLogFile, { force: true });
});

const client = () => new OpenAI({ baseURL: `${h.router.url}/v1`, apiKey: 'k', maxRetries: 0 });
const spills = (route: string, reason: string) =>
  metricSum(h.router, 'kthena_router_fallback_requests_total', {
    model_route: `default/${route}`,
    provider: 'default/cloud',
    reason,
  });
async function lastAccess(model: string): Promise<any> {
  const lines = (await readFile(accessLogFile, 'utf8')).split('\n').filter(Boolean);
  return lines
    .map((l) => JSON.parse(l))
    .filter((e) => e.model_name === model)
    .at(-1);
}

test('no in-cluster endpoint: the request spills to the provider (reason unavailable), in metric and access log', async () => {
  const r = await client().chat.completions.create({ model: 'gone', messages: [{ role: 'user', content: 'hi' }] });
  assert.equal(r.choices[0].message.content, 'hello from the provider');
  assert.equal(fake.received.at(-1)!.body.model, 'cloud-model');
  assert.equal(await spills('gone', 'unavailable'), 1);
  const e = await lastAccess('gone');
  assert.equal(e.fallback, 'unavailable');
  assert.equal(e.backend_type, 'external_provider');
  assert.equal(e.backend_name, 'default/cloud');
  assert.equal(e.model_server, 'default/ms-empty');
  assert.equal(e.output_tokens, 3);
});

test('in-cluster endpoints failing (5xx): served by the provider after the in-cluster attempts (reason failing)', async () => {
  const before = engine.received.length;
  engine.fallback = { kind: 'status', status: 500 };
  try {
    const stream = await client().chat.completions.create({
      model: 'live',
      messages: [{ role: 'user', content: 'hi' }],
      stream: true,
    });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
    assert.equal(text, 'hello from the provider');
  } finally {
    engine.fallback = { kind: 'ok' };
  }
  assert.ok(engine.received.length > before, 'the in-cluster engine was tried first');
  assert.equal(await spills('live', 'failing'), 1);
  const e = await lastAccess('live');
  assert.equal(e.fallback, 'failing');
  assert.ok(e.upstream_attempts >= 2, 'in-cluster attempt(s) plus the provider call');
});

test('a route that spills only when unavailable keeps the in-cluster error when failing', async () => {
  engine.next.push({ kind: 'status', status: 500 });
  const r = await h.post('/v1/chat/completions', {
    model: 'live-only-unavailable',
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(r.status, 503);
  assert.equal(r.json.error.code, 'all_upstreams_failed');
  assert.equal(await spills('live-only-unavailable', 'failing'), 0);
});

test('every endpoint past max-inflight: new requests spill (reason saturated) while the in-cluster one continues', async () => {
  engine.next.push({ kind: 'hang' });
  const ac = new AbortController();
  const held = request(`${h.router.url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'live', messages: [{ role: 'user', content: 'hold' }] }),
    signal: ac.signal,
  }).catch(() => undefined);
  // Wait until the router has the request in flight on the engine (no sleep-based timing).
  for (let i = 0; i < 6000 && engine.active() === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(engine.active(), 1);
  const before = engine.received.length;
  const r = await client().chat.completions.create({ model: 'live', messages: [{ role: 'user', content: 'next' }] });
  assert.equal(r.choices[0].message.content, 'hello from the provider');
  assert.equal(engine.received.length, before, 'the saturated engine got nothing new');
  assert.equal(await spills('live', 'saturated'), 1);
  assert.equal((await lastAccess('live')).fallback, 'saturated');
  ac.abort();
  await held;
});
