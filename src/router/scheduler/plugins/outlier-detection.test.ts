import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OUTLIER_DEFAULTS } from '../../resilience/outlier.js';
import { RouterMetrics } from '../../telemetry/metrics.js';
import { ctxFor, ep, seeded } from '../../testing/fixtures.js';
import { OutlierPlugin, parseOutlierArgs, type ResilienceClock } from './outlier-detection.js';

function plugin(over = {}) {
  let now = 0;
  const intervals: (() => void)[] = [];
  const clock: ResilienceClock = {
    now: () => now,
    setInterval: (fn) => {
      intervals.push(fn);
      return 1;
    },
    clearInterval: () => undefined,
  };
  const metrics = new RouterMetrics();
  const p = new OutlierPlugin({ ...OUTLIER_DEFAULTS, ...over }, { metrics, rand: seeded(1) }, clock);
  return {
    p,
    metrics,
    advance: (ms: number) => (now += ms),
    sweep: () => {
      for (const f of intervals) f();
    },
  };
}

test('plugin args: defaults, durations, and errors naming the key', () => {
  assert.deepEqual(parseOutlierArgs({}), OUTLIER_DEFAULTS);
  const c = parseOutlierArgs({
    baseEjectionTime: '2s',
    maxEjectionTime: 60000,
    stallTimeout: 0,
    consecutiveFailures: 5,
  });
  assert.equal(c.baseEjectionMs, 2000);
  assert.equal(c.maxEjectionMs, 60000);
  assert.equal(c.stallTimeoutMs, 0);
  assert.throws(() => parseOutlierArgs({ consecutiveFailures: 0 }), /consecutiveFailures/);
  assert.throws(() => parseOutlierArgs({ maxEjectionPercent: 101 }), /maxEjectionPercent/);
  assert.throws(() => parseOutlierArgs({ baseEjectionTime: 'soon' }), /baseEjectionTime/);
  assert.throws(() => parseOutlierArgs({ baseEjectionTime: '1m', maxEjectionTime: '1s' }), /maxEjectionTime/);
  assert.throws(() => parseOutlierArgs({ consecutive: 3 }), /unknown argument "consecutive"/);
  assert.throws(() => parseOutlierArgs({ ttftFactor: true }), /ttftFactor/);
});

test('plugin: overlapping attempts of one request on two endpoints are tracked apart; filter and metric follow', async () => {
  const { p, metrics, advance, sweep } = plugin({ consecutiveFailures: 1, stallTimeoutMs: 1000 });
  const a = ep('a');
  const b = ep('b');
  const c = ep('c');
  const eps = [a, b, c];
  const ctx = ctxFor('m', '', { serverKey: 'ns/s', stream: true });
  p.preSchedule(ctx, eps);
  // Two legs at once (as PD does): a stalls, b answers.
  let cancelled = 0;
  p.onDispatch(ctx, a, () => cancelled++);
  p.onDispatch(ctx, b);
  advance(10);
  p.onAttempt(ctx, b, { endpoint: b.state.key, outcome: 'ok', status: 200 });
  advance(1000);
  sweep();
  assert.equal(cancelled, 1, 'the stalled leg was cancelled');
  assert.deepEqual(
    p.filter(ctx, eps).map((e) => e.state.name),
    ['b', 'c'],
  );
  const text = await metrics.registry.metrics();
  assert.match(text, /kthena_router_endpoint_circuit_state\{endpoint="default\/a"\} 1/);
  assert.match(text, /kthena_router_endpoint_ejections_total\{endpoint="default\/a",reason="stall"\} 1/);
  // A second request: c answers 503 → with 3 endpoints and 50 %, only one may be out: skipped and counted.
  const ctx2 = ctxFor('m', '', { serverKey: 'ns/s' });
  p.onDispatch(ctx2, c);
  p.onRelease(ctx2, c);
  p.onAttempt(ctx2, c, { endpoint: c.state.key, outcome: 'server_error', status: 503 });
  assert.match(
    await metrics.registry.metrics(),
    /kthena_router_endpoint_ejections_skipped_total\{model_server="ns\/s",reason="consecutive_failures"\} 1/,
  );
  const dbg = p.debugState() as { endpoints: { endpoint: string; state: string }[] };
  assert.deepEqual(dbg.endpoints.map((e) => [e.endpoint, e.state]).sort(), [
    ['default/a', 'open'],
    ['default/b', 'closed'],
    ['default/c', 'closed'],
  ]);
  // A broken stream after the first byte counts as a failure of its endpoint.
  p.onResponseDone(ctx2, { endpoint: c, ok: false, aborted: false, status: 200 });
  p.onEndpointRemoved(a.state);
  assert.deepEqual(
    p.filter(ctx, eps).map((e) => e.state.name),
    ['a', 'b', 'c'],
    'a left the store: its state is gone',
  );
});
