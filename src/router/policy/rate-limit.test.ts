// Rate limits end to end: router (harness) → fake engine, local buckets and Redis (real redis-server).
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';
import { hashApiKey } from './api-keys.js';
import { reconcile } from './rate-limit.js';
import { startRedis, type TestRedis } from './testing/redis-server.js';

const SERVER = serverYaml(
  's1',
  '  model: real/model\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
);
const limited = (name: string, model: string, rateLimit: string, annotations = '', extra = '') =>
  `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: ${name}, namespace: default${annotations ? `, annotations: ${annotations}` : ''}}
spec:
  modelName: ${model}
${extra}  rules:
  - targetModels: [{modelServerName: s1}]
  rateLimit: ${rateLimit}
`;
// 400 characters = an estimated 100 input tokens; the fake engine reports prompt_tokens 5 and 3 completion tokens.
const big = (model: string) => ({ model, prompt: 'x'.repeat(400) });
const small = (model: string) => ({ model, prompt: 'hi' });

describe('token rate limits (local buckets)', () => {
  let eng: FakeEngine;
  let h: Harness;
  let keysDir: string;
  before(async () => {
    eng = await startFakeEngine('e');
    keysDir = await mkdtemp(join(tmpdir(), 'kthena-keys-'));
    const keysFile = join(keysDir, 'keys.yaml');
    await writeFile(
      keysFile,
      `keys:\n- {sha256: ${hashApiKey('sk-alice')}, user: alice}\n- {sha256: ${hashApiKey('sk-bob')}, user: bob}\n`,
    );
    h = await startHarness(
      {
        'server.yaml': SERVER,
        'eps.yaml': endpointYaml('e', eng, { app: 's1' }),
        'in.yaml': limited('in', 'm-in', '{inputTokensPerUnit: 50, unit: hour}'),
        'out.yaml': limited('out', 'm-out', '{outputTokensPerUnit: 10, unit: hour}'),
        'free.yaml': routeYaml('free', '  modelName: m-free\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
        'user.yaml': limited(
          'peruser',
          'm-user',
          '{outputTokensPerUnit: 5, unit: hour}',
          '{ratelimit.kthena.io/per-user: "true"}',
        ),
        'lora.yaml': limited('lora', 'm-base', '{outputTokensPerUnit: 4, unit: day}', '', '  loraAdapters: [lora-a]\n'),
      },
      { routerConfigText: `auth:\n  apiKeys: {file: ${keysFile}}\n` },
    );
  });
  after(async () => {
    await h.close();
    await eng.close();
    await rm(keysDir, { recursive: true, force: true });
  });
  const alice = { authorization: 'Bearer sk-alice' };
  const bob = { authorization: 'Bearer sk-bob' };

  test('input: the estimate is charged at admission and reconciled with the real prompt_tokens', async () => {
    // Full bucket (50) admits an oversized estimate (100) into debt; the engine's prompt_tokens 5 refund 95 → 45 left.
    assert.equal((await h.post('/v1/completions', big('m-in'), alice)).status, 200);
    const r = await h.post('/v1/completions', big('m-in'), alice);
    assert.equal(r.status, 429, r.text);
    assert.equal(r.json.error.type, 'rate_limit_error');
    assert.equal(r.json.error.code, 'rate_limit_exceeded');
    assert.match(r.json.error.message, /input token rate limit exceeded for model "m-in"/);
    const retry = Number(r.headers['retry-after']);
    assert.ok(retry >= 1 && retry <= 360, `5 tokens at 50/h ≈ 6 min, got ${retry}`);
    assert.equal((await h.post('/v1/completions', small('m-in'), alice)).status, 200, 'a small request still fits');
    assert.equal(
      await metricSum(h.router, 'kthena_router_rate_limit_exceeded_total', {
        model: 'm-in',
        limit_type: 'input_tokens',
      }),
      1,
    );
  });

  test('output: completion tokens are charged after the response; an empty bucket rejects before the engine', async () => {
    const seen = eng.received.length;
    const codes: number[] = [];
    for (let i = 0; i < 6; i++) codes.push((await h.post('/v1/completions', small('m-out'), alice)).status);
    // 3 tokens each: 10 → 7 → 4 → 1 → -2 (the 4th still had ≥ 1 token) → rejected from then on.
    assert.deepEqual(codes, [200, 200, 200, 200, 429, 429]);
    assert.equal(eng.received.length - seen, 4, 'rejected requests never reached the engine');
    assert.equal((await h.post('/v1/completions', small('m-free'), alice)).status, 200, 'other models unaffected');
  });

  test('per user: a user past its limit is rejected while another keeps its share', async () => {
    const a: number[] = [];
    for (let i = 0; i < 4; i++) a.push((await h.post('/v1/completions', small('m-user'), alice)).status);
    assert.deepEqual(a, [200, 200, 429, 429]);
    const r = await h.post('/v1/completions', small('m-user'), alice);
    assert.match(r.json.error.message, /and this user/);
    assert.equal((await h.post('/v1/completions', small('m-user'), bob)).status, 200, 'bob has his own bucket');
  });

  test('LoRA adapters of a limited route are limited too', async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3; i++) codes.push((await h.post('/v1/completions', small('lora-a'), alice)).status);
    assert.deepEqual(codes, [200, 200, 429]);
  });

  test('removing rateLimit removes the limiter', async () => {
    assert.equal((await h.post('/v1/completions', small('m-out'), alice)).status, 429);
    await h.write(
      'out.yaml',
      routeYaml('out', '  modelName: m-out\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
    );
    await h.reload();
    assert.equal((await h.post('/v1/completions', small('m-out'), alice)).status, 200);
  });

  test('streaming requests are charged from the usage chunk', async () => {
    await h.write('s.yaml', limited('s', 'm-stream', '{outputTokensPerUnit: 3, unit: hour}'));
    await h.reload();
    const req = { model: 'm-stream', stream: true, messages: [{ role: 'user', content: 'hi' }] };
    assert.equal((await h.post('/v1/chat/completions', req, alice)).status, 200);
    const r = await h.post('/v1/chat/completions', req, alice);
    assert.equal(r.status, 429, 'the 3 streamed tokens emptied the bucket');
  });
});

test('reconcile: refunds requests that never reached an engine, counts events of a cut stream', () => {
  const ep = {} as never;
  assert.deepEqual(reconcile(40, { status: 503, ok: false, aborted: false }, false), { inputDelta: -40, output: 0 });
  assert.deepEqual(
    reconcile(40, { endpoint: ep, status: 200, ok: true, aborted: false, promptTokens: 55, completionTokens: 7 }, true),
    { inputDelta: 15, output: 7 },
  );
  assert.deepEqual(reconcile(40, { endpoint: ep, status: 200, ok: false, aborted: true, streamedEvents: 12 }, true), {
    inputDelta: 0,
    output: 11,
  });
  assert.deepEqual(reconcile(40, { endpoint: ep, status: 200, ok: false, aborted: true }, false), {
    inputDelta: 0,
    output: 0,
  });
});

describe('token rate limits (global, Redis)', () => {
  let redis: TestRedis | undefined;
  let eng: FakeEngine;
  let h1: Harness;
  let h2: Harness;
  before(async () => {
    redis = await startRedis();
    if (!redis) return;
    eng = await startFakeEngine('e');
    const files = {
      'server.yaml': SERVER,
      'eps.yaml': endpointYaml('e', eng, { app: 's1' }),
      'g.yaml': limited(
        'g',
        'm-global',
        `{outputTokensPerUnit: 6, unit: hour, global: {redis: {address: "${redis.address}"}}}`,
      ),
      'down-closed.yaml': limited(
        'dc',
        'm-down-closed',
        '{outputTokensPerUnit: 100, unit: hour, global: {redis: {address: "127.0.0.1:1"}}}',
      ),
      'down-open.yaml': limited(
        'do',
        'm-down-open',
        '{outputTokensPerUnit: 100, unit: hour, global: {redis: {address: "127.0.0.1:1"}}}',
        '{ratelimit.kthena.io/on-redis-error: allow}',
      ),
      'free.yaml': routeYaml('free', '  modelName: m-free\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
    };
    h1 = await startHarness(files);
    h2 = await startHarness(files);
  });
  after(async () => {
    await h1?.close();
    await h2?.close();
    await eng?.close();
    await redis?.stop();
  });
  const skip = 'redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER_BIN)';

  test('two router replicas share one bucket', async (t) => {
    if (!redis) return t.skip(skip);
    // 6 tokens, 3 per request: replica 1 spends 3, replica 2 spends 3, then both see an empty bucket.
    assert.equal((await h1.post('/v1/completions', small('m-global'))).status, 200);
    assert.equal((await h2.post('/v1/completions', small('m-global'))).status, 200);
    // Reconciliation runs after the response is sent; wait (by condition, not time) until both charges landed.
    const { Redis } = await import('ioredis');
    const c = new Redis({ host: '127.0.0.1', port: redis.port });
    try {
      for (let i = 0; i < 500; i++) {
        const keys = await c.keys('kthena:ratelimit:default/g:*');
        const tokens = keys.length ? Number(await c.hget(keys[0], 'tokens')) : 6;
        if (tokens < 1) break;
        await new Promise((r) => setTimeout(r, 10));
      }
    } finally {
      c.disconnect();
    }
    assert.equal((await h1.post('/v1/completions', small('m-global'))).status, 429);
    const r = await h2.post('/v1/completions', small('m-global'));
    assert.equal(r.status, 429);
    assert.ok(Number(r.headers['retry-after']) >= 1);
  });

  test('Redis down: fail-closed by default (503 + Retry-After), fail-open when the route says so', async (t) => {
    if (!redis) return t.skip(skip);
    const closed = await h1.post('/v1/completions', small('m-down-closed'));
    assert.equal(closed.status, 503, closed.text);
    assert.equal(closed.json.error.code, 'rate_limiter_unavailable');
    assert.equal(closed.headers['retry-after'], '1');
    assert.equal((await h1.post('/v1/completions', small('m-down-open'))).status, 200);
    assert.equal((await h1.post('/v1/completions', small('m-free'))).status, 200, 'unlimited models unaffected');
    assert.equal(
      await metricSum(h1.router, 'kthena_router_rate_limit_backend_errors_total', { model: 'm-down-closed' }),
      1,
    );
  });

  test('Redis stops mid-run: the shared route fails closed, other models keep serving', async (t) => {
    if (!redis) return t.skip(skip);
    await redis.stop();
    const r = await h1.post('/v1/completions', small('m-global'));
    assert.equal(r.status, 503);
    assert.equal((await h1.post('/v1/completions', small('m-free'))).status, 200);
  });
});
