import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterMetrics } from '../../telemetry/metrics.js';
import { ctxFor, ep, seeded } from '../../testing/fixtures.js';
import { loraAffinityPlugin } from './lora-affinity.js';

const names = (eps: { state: { name: string } }[]) => eps.map((e) => e.state.name);

test('lora-affinity passes every endpoint through when none lists the adapter (no adapter data yet)', async () => {
  const p = await loraAffinityPlugin.create({}, { metrics: new RouterMetrics(), rand: seeded(1) });
  const eps = [ep('a', { models: ['base'] }), ep('b')];
  assert.deepEqual(names(p.filter!(ctxFor('lora-X', '', { isLora: true }), eps)), ['a', 'b']);
});

test('lora-affinity strikes the adapter from an endpoint that answered 404 for it (unloaded since the scrape)', async () => {
  const p = await loraAffinityPlugin.create({}, { metrics: new RouterMetrics(), rand: seeded(1) });
  const a = ep('a', { models: ['base', 'lora-A'] });
  const b = ep('b', { models: ['base', 'lora-A'] });
  const ctx = ctxFor('lora-A', '', { isLora: true });
  p.onAttempt!(ctx, a, { endpoint: a.state.key, outcome: 'client_error', status: 404 });
  assert.deepEqual([...a.state.models], ['base']);
  assert.deepEqual(names(p.filter!(ctx, [a, b])), ['b']);
  // A base-model 404 or another status changes nothing.
  p.onAttempt!(ctxFor('base'), b, { endpoint: b.state.key, outcome: 'client_error', status: 404 });
  p.onAttempt!(ctx, b, { endpoint: b.state.key, outcome: 'client_error', status: 400 });
  assert.deepEqual([...b.state.models], ['base', 'lora-A']);
});
