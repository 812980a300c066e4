import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { type Behavior, correct, ScalingHistory } from './behavior.js';

const S = 1000;
const MIN = 60 * S;
/** Upstream's webhook defaults (reference §5.3). */
const webhookDefaults = (): Behavior => ({
  scaleDown: { instances: 0, percent: 100, periodMs: MIN, selectPolicy: 'Or', stabilizationWindowMs: 5 * MIN },
  scaleUp: { instances: 4, percent: 100, periodMs: MIN, selectPolicy: 'Or', stabilizationWindowMs: 0 },
  panic: { percent: 0, periodMs: 0, thresholdPercent: 200, holdMs: 0 },
});

function run(h: ScalingHistory, steps: [number, number][], start = 1, min = 0, max = 1000) {
  let current = start;
  const out: number[] = [];
  for (const [t, r] of steps) {
    current = correct(h, { recommended: r, current, min, max, now: t }).replicas;
    out.push(current);
  }
  return out;
}

test('webhook defaults: scale-up at most max(p + 4, 2p) per minute, no stabilisation', () => {
  const h = new ScalingHistory(webhookDefaults());
  // p is the smallest count in force during the last minute: 1 → 5 (1 + 4) → 10 (2 × 5), and 10 holds until the 5
  // (in force until t = 15 s) leaves the minute; then 20.
  const steps: [number, number][] = [0, 15, 30, 45, 60, 75, 90].map((s) => [s * S, 100]);
  assert.deepEqual(run(h, steps), [5, 10, 10, 10, 10, 10, 20]);
});

test('webhook defaults: scale-down waits for the 5-minute stabilisation window, then has no rate limit', () => {
  const h = new ScalingHistory(webhookDefaults());
  const steps: [number, number][] = [[0, 20]];
  for (let t = 15 * S; t <= 6 * MIN; t += 15 * S) steps.push([t, 2]);
  const out = run(h, steps, 20);
  assert.equal(out[0], 20);
  const firstDown = steps[out.findIndex((v) => v < 20)]![0];
  assert.ok(firstDown > 5 * MIN, `scaled down at ${firstDown / S} s, inside the window`);
  assert.equal(out.at(-1), 2, 'then straight to the recommendation');
});

test('panic mode: entered at the threshold, never scales down while held, rate-limited by its own period', () => {
  const b: Behavior = {
    ...webhookDefaults(),
    panic: { percent: 100, periodMs: 10 * S, thresholdPercent: 200, holdMs: 60 * S },
  };
  const h = new ScalingHistory(b);
  let r = correct(h, { recommended: 10, current: 2, min: 1, max: 100, now: 0 });
  assert.deepEqual(r, { replicas: 4, mode: 'Panic' }, 'p = current 2 → at most 2 + 2·100 %');
  r = correct(h, { recommended: 1, current: 4, min: 1, max: 100, now: 30 * S });
  assert.deepEqual(r, { replicas: 4, mode: 'Panic' }, 'held until 60 s: no scale-down');
  r = correct(h, { recommended: 50, current: 4, min: 1, max: 100, now: 40 * S });
  assert.deepEqual(r, { replicas: 8, mode: 'Panic' }, 're-entered: p = 4 → 8');
  r = correct(h, { recommended: 8, current: 8, min: 1, max: 100, now: 101 * S });
  assert.equal(r.mode, 'Stable', 'hold over (last refresh at 40 s + 60 s)');
});

test('And select policy takes the tighter of the absolute and relative limits', () => {
  const b = webhookDefaults();
  b.scaleUp = { ...b.scaleUp, instances: 2, percent: 100, selectPolicy: 'And' };
  const h = new ScalingHistory(b);
  // And: min(p + 2, 2p) → 1 → 2 → 4 (Or would give max: 1 → 3 → 6).
  assert.deepEqual(
    run(h, [
      [0, 100],
      [15 * S, 100],
    ]),
    [2, 4],
  );
});

test('property: flapping metrics never scale down below a value scaled up to within the stabilisation window', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 60 }), { minLength: 5, maxLength: 80 }), (recs) => {
      const h = new ScalingHistory(webhookDefaults());
      let current = 1;
      const ups: { t: number; v: number }[] = [];
      recs.forEach((rec, i) => {
        const t = i * 15 * S;
        const next = correct(h, { recommended: rec, current, min: 1, max: 50, now: t }).replicas;
        if (next > current) ups.push({ t, v: next });
        if (next < current) {
          for (const u of ups) {
            if (t - u.t <= 5 * MIN)
              assert.ok(next >= Math.min(u.v, current), `down to ${next} at ${t} after up to ${u.v} at ${u.t}`);
          }
        }
        // Scale-up never exceeds the per-minute limit relative to the current count.
        if (next > current) assert.ok(next <= Math.max(current + 4, 2 * current), `${current} → ${next}`);
        current = next;
      });
    }),
  );
});
