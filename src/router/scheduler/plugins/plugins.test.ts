import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterMetrics } from '../../telemetry/metrics.js';
import { ctxFor, ep, seeded } from '../../testing/fixtures.js';
import { gpuUsagePlugin } from './gpu-usage.js';
import { leastLatencyPlugin } from './least-latency.js';
import { leastRequestPlugin } from './least-request.js';
import { loraAffinityPlugin } from './lora-affinity.js';
import { prefixCachePlugin } from './prefix-cache.js';
import { randomPlugin } from './random.js';

const deps = () => ({ metrics: new RouterMetrics(), rand: seeded(1) });
const names = (eps: { state: { name: string } }[]) => eps.map((e) => e.state.name);

test('least-request filter drops endpoints whose waiting queue reached maxWaitingRequests', async () => {
  const p = await leastRequestPlugin.create({ maxWaitingRequests: 3 }, deps());
  const eps = [ep('a', { waiting: 2 }), ep('b', { waiting: 3 }), ep('c', { waiting: 0 })];
  assert.deepEqual(names(p.filter!(ctxFor('m'), eps)), ['a', 'c']);
  const dflt = await leastRequestPlugin.create({ maxWaitingRequests: 0 }, deps());
  assert.deepEqual(
    names(dflt.filter!(ctxFor('m'), [ep('x', { waiting: 9 }), ep('y', { waiting: 10 })])),
    ['x'],
    '0 → default 10',
  );
});

test('least-request score: inflight plus a penalty for inflight beyond running', async () => {
  const p = await leastRequestPlugin.create({}, deps());
  // bases: a = 0; b = 2 + 100*(2-2) = 2; c = 4 + 100*(4-1) = 304
  const s = Array.from(
    p.score!(ctxFor('m'), [ep('a'), ep('b', { inflight: 2, running: 2 }), ep('c', { inflight: 4, running: 1 })]),
  );
  assert.deepEqual(s, [100, Math.trunc((302 / 304) * 100), 0]);
  assert.deepEqual(Array.from(p.score!(ctxFor('m'), [ep('a'), ep('b')])), [100, 100]);
});

test('least-latency: neutral 50 without data, blend of normalised TTFT and TPOT', async () => {
  const p = await leastLatencyPlugin.create({ TTFTTPOTWeightFactor: 0.5 }, deps());
  const s = Array.from(
    p.score!(ctxFor('m'), [ep('fast', { ttft: 0.1, tpot: 0.01 }), ep('slow', { ttft: 0.3, tpot: 0.03 }), ep('new')]),
  );
  assert.deepEqual(s, [100, 0, 50]);
  const ttftOnly = await leastLatencyPlugin.create({ TTFTTPOTWeightFactor: 1 }, deps());
  const s2 = Array.from(
    ttftOnly.score!(ctxFor('m'), [ep('a', { ttft: 0.1, tpot: 0.05 }), ep('b', { ttft: 0.2, tpot: 0.01 })]),
  );
  assert.deepEqual(s2, [100, 0]);
  assert.throws(() => leastLatencyPlugin.create({ TTFTTPOTWeightFactor: 2 }, deps()), /TTFTTPOTWeightFactor/);
});

test('gpu-usage prefers free KV cache', async () => {
  const p = await gpuUsagePlugin.create({}, deps());
  assert.deepEqual(
    Array.from(p.score!(ctxFor('m'), [ep('a', { kvCacheUsage: 0.2 }), ep('b', { kvCacheUsage: 0.9 })])),
    [80, 10],
  );
});

test('random scores are integers in 0..100 and vary', async () => {
  const p = await randomPlugin.create({}, deps());
  const s = Array.from(
    p.score!(
      ctxFor('m'),
      Array.from({ length: 50 }, (_, i) => ep(`e${i}`)),
    ),
  );
  assert.ok(s.every((v) => Number.isInteger(v) && v >= 0 && v <= 100));
  assert.ok(new Set(s).size > 10);
});

test('lora-affinity keeps endpoints listing the adapter, only for LoRA-matched requests', async () => {
  const p = await loraAffinityPlugin.create({}, deps());
  const eps = [ep('a', { models: ['base', 'lora-A'] }), ep('b', { models: ['base'] })];
  assert.deepEqual(names(p.filter!(ctxFor('lora-A', '', { isLora: true }), eps)), ['a']);
  assert.deepEqual(names(p.filter!(ctxFor('virtual-name'), eps)), ['a', 'b']);
});

test('prefix-cache: a served prompt scores its endpoint by matched prefix length; removal forgets it', async () => {
  const d = deps();
  const p = (await prefixCachePlugin.create({ blockSizeToHash: 4, maxBlocksToMatch: 100 }, d)) as Awaited<
    ReturnType<typeof prefixCachePlugin.create>
  >;
  const a = ep('a');
  const b = ep('b');
  const first = ctxFor('m', 'aaaabbbbccccdddd');
  assert.deepEqual(Array.from(p.score!(first, [a, b])), [0, 0]);
  p.postSchedule!(first, a);
  // Same first two blocks, different rest: 2 of 4 blocks match.
  assert.deepEqual(Array.from(p.score!(ctxFor('m', 'aaaabbbbxxxxyyyy'), [a, b])), [50, 0]);
  assert.deepEqual(Array.from(p.score!(ctxFor('m', 'aaaabbbbccccdddd'), [a, b])), [100, 0]);
  // Another model name never shares hashes.
  assert.deepEqual(Array.from(p.score!(ctxFor('other', 'aaaabbbbccccdddd'), [a, b])), [0, 0]);
  assert.ok((await d.metrics.registry.getSingleMetricAsString('kthena_router_prefix_cache_entries')).includes(' 4'));
  p.onEndpointRemoved!(a.state);
  assert.deepEqual(Array.from(p.score!(ctxFor('m', 'aaaabbbbccccdddd'), [a, b])), [0, 0]);
});
