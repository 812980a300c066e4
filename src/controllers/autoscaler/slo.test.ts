import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  CapacityEstimator,
  DEFAULT_LOOKAHEAD_MS,
  SLO_LOOKAHEAD_ANNOTATION,
  SLO_MIN_REQUESTS,
  SLO_QUANTILE_ANNOTATION,
  SLO_UTILIZATION_ANNOTATION,
  SLO_WINDOW_MS,
  type SloObservation,
  type SloSpec,
  STEEP_FALL,
  sloOf,
  TTFT_SLO_ANNOTATION,
} from './slo.js';

const spec = (o: Partial<SloSpec> = {}): SloSpec => ({
  ttftSec: 1,
  quantile: 0.95,
  utilization: 0.8,
  lookaheadMs: 60_000,
  ...o,
});

/** An observation on a settled fleet (ready count unchanged for a window, nothing starting). */
const obs = (now: number, rate: number, ttftSec: number | undefined, ready = 2, requests = 500): SloObservation => ({
  now,
  rate,
  ready,
  unready: 0,
  ttftSec,
  requests,
});

/** An estimator whose fleet of `ready` replicas has been stable for a window, with `capacity` believed. */
function settled(capacity?: number, ready = 2, s = spec()): CapacityEstimator {
  const e = new CapacityEstimator(s);
  e.observe(obs(0, 0, undefined, ready, 0));
  if (capacity !== undefined) {
    assert.equal(e.observe(obs(SLO_WINDOW_MS, capacity * ready, 0.9, ready)), 'first-evidence');
    assert.equal(e.capacity, capacity);
  }
  return e;
}

test('sloOf reads the annotations with defaults, and says which one is unusable', () => {
  assert.equal(sloOf(undefined), undefined);
  assert.equal(sloOf({ other: 'x' }), undefined);
  assert.deepEqual(sloOf({ [TTFT_SLO_ANNOTATION]: '800ms' }), {
    ttftSec: 0.8,
    quantile: 0.95,
    utilization: 0.7,
    lookaheadMs: DEFAULT_LOOKAHEAD_MS,
  });
  assert.deepEqual(
    sloOf({
      [TTFT_SLO_ANNOTATION]: '2',
      [SLO_QUANTILE_ANNOTATION]: '0.99',
      [SLO_UTILIZATION_ANNOTATION]: '85',
      [SLO_LOOKAHEAD_ANNOTATION]: '2m',
    }),
    { ttftSec: 2, quantile: 0.99, utilization: 0.85, lookaheadMs: 120_000 },
  );
  for (const [k, v, what] of [
    [TTFT_SLO_ANNOTATION, 'fast', /not a positive duration/],
    [TTFT_SLO_ANNOTATION, '0s', /not a positive duration/],
    [TTFT_SLO_ANNOTATION, '-1s', /not a positive duration/],
    [SLO_QUANTILE_ANNOTATION, '95', /between 0 and 1/],
    [SLO_QUANTILE_ANNOTATION, '0', /between 0 and 1/],
    [SLO_UTILIZATION_ANNOTATION, '0', /1\.\.100/],
    [SLO_UTILIZATION_ANNOTATION, '150', /1\.\.100/],
    [SLO_UTILIZATION_ANNOTATION, '70.5', /1\.\.100/],
    [SLO_LOOKAHEAD_ANNOTATION, 'soon', /\[0, 30m\]/],
    [SLO_LOOKAHEAD_ANNOTATION, '1h', /\[0, 30m\]/],
  ] as const) {
    const a: Record<string, string> = { [TTFT_SLO_ANNOTATION]: '1s', [k]: v };
    assert.throws(() => sloOf(a), what, `${k}=${v}`);
  }
});

test('nothing is known until TTFT within the SLO is seen; then capacity is that rate per replica', () => {
  const e = settled();
  assert.equal(e.target(), undefined);
  assert.equal(e.observe(obs(SLO_WINDOW_MS, 30, undefined)), 'no-evidence', 'no TTFT');
  assert.equal(e.observe(obs(SLO_WINDOW_MS, 30, 0.2, 2, SLO_MIN_REQUESTS - 1)), 'no-evidence', 'too few requests');
  assert.equal(e.observe(obs(SLO_WINDOW_MS, 30, 3)), 'no-evidence', 'overloaded from the start');
  assert.equal(e.observe(obs(SLO_WINDOW_MS, 30, 0.5)), 'first-evidence');
  assert.equal(e.capacity, 15);
  assert.equal(e.target(), 12);
});

test('a violation below the believed capacity lowers it to that rate, at most 30 % per cycle', () => {
  const e = settled(20);
  assert.equal(e.observe(obs(45_000, 2 * 17, 1.5)), 'violated');
  assert.equal(e.capacity, 17);
  assert.equal(e.observe(obs(60_000, 2 * 5, 1.5)), 'violated');
  assert.equal(e.capacity, 17 * 0.7, 'not below 70 % in one cycle');
});

test('a violation at or above the believed capacity is overload, not news: capacity holds', () => {
  const e = settled(20);
  assert.equal(e.observe(obs(45_000, 2 * 25, 4)), 'hold');
  assert.equal(e.capacity, 20);
});

test('a rate above the belief served within the SLO raises capacity to it', () => {
  const e = settled(20);
  assert.equal(e.observe(obs(45_000, 2 * 23, 0.8)), 'sustained');
  assert.equal(e.capacity, 23);
});

test('probing: well within the SLO near the target, +5 % per cycle, never past 1.4× the best rate seen', () => {
  const e = settled(10);
  // At the target (8 per replica) with TTFT far below the SLO: creep up.
  let t = 45_000;
  const caps: number[] = [];
  for (let i = 0; i < 20; i++) {
    e.observe(obs(t, 2 * e.target()!, 0.2));
    caps.push(e.capacity!);
    t += 15_000;
  }
  assert.equal(caps[0], 10.5);
  // The best rate seen within the SLO rises with the target; the bound is 1.4× it.
  for (let i = 1; i < caps.length; i++) assert.ok(caps[i]! >= caps[i - 1]!);
  // Far below the target: no probing.
  const f = settled(10);
  assert.equal(f.observe(obs(45_000, 2 * 4, 0.2)), 'hold');
  assert.equal(f.capacity, 10);
  // TTFT not far enough below the SLO: no probing.
  const g = settled(10);
  assert.equal(g.observe(obs(45_000, 2 * 8, 0.5)), 'hold');
  // The bound: capacity believed far above what was ever seen does not grow.
  const h = settled(10);
  h.observe(obs(45_000, 2 * 4, 1.5)); // violated at 4: best seen is lowered to the new capacity (7)
  assert.equal(h.capacity, 7);
  h.observe(obs(60_000, 2 * 5.6, 0.2)); // at the target (0.8 × 7 = 5.6): probe, capped at 1.4 × 7
  assert.equal(h.capacity, 7 * 1.05);
});

test('nothing is learned while replicas start or right after the ready count changed', () => {
  const e = settled(20);
  assert.equal(e.observe({ ...obs(45_000, 2 * 5, 3), unready: 1 }), 'settling');
  assert.equal(e.observe(obs(60_000, 3 * 5, 3, 3)), 'settling', 'ready count moved');
  assert.equal(e.observe(obs(60_000 + SLO_WINDOW_MS - 1, 3 * 5, 3, 3)), 'settling');
  assert.equal(e.capacity, 20);
  assert.equal(e.observe(obs(60_000 + SLO_WINDOW_MS, 3 * 5, 3, 3)), 'violated');
});

test('demand: a falling or steady rate as is; a rising one extrapolated, a step by at most 60 %', () => {
  const e = new CapacityEstimator(spec({ lookaheadMs: 60_000 }));
  assert.equal(e.demand(0, 10, 100), 10, 'no history');
  assert.equal(e.demand(15_000, 10, 100), 10);
  assert.equal(e.demand(30_000, 10, 100), 10, 'steady');
  // +3 req/s since the oldest sample within two windows (60 s ago) → 0.05/s, extrapolated 60 s + half a window
  // = 75 s ahead: +3.75
  assert.equal(e.demand(60_000, 13, 100), 13 + (3 / 60_000) * 75_000);
  assert.equal(e.demand(90_000, 5, 100), 5, 'falling');
  // A step from 5 to 50: capped at +60 %.
  const f = new CapacityEstimator(spec());
  f.demand(0, 5, 100);
  assert.equal(f.demand(30_000, 50, 100), 80);
  // A window with too few requests is no baseline.
  const g = new CapacityEstimator(spec());
  g.demand(0, 0, 0);
  assert.equal(g.demand(30_000, 12, 100), 12);
});

test('demand on a falling rate: no replica for load gone before it is ready; nothing needed now is removed', () => {
  const e = new CapacityEstimator(spec({ lookaheadMs: 60_000 }));
  e.demand(0, 60, 500);
  // −12 req/s over 30 s → −0.4/s, over 75 s: −30 → forecast 18 (a fall of 62 %: steep)
  assert.equal(e.demand(30_000, 48, 500, 40), 40, 'the fleet as it is covers 40 of the 48: no more replicas');
  assert.equal(e.falling, true);
  const f = new CapacityEstimator(spec({ lookaheadMs: 60_000 }));
  f.demand(0, 60, 500);
  assert.equal(f.demand(30_000, 48, 500, 60), 48, 'the measured rate, when the fleet covers it');
  assert.equal(f.demand(30_000, 48, 500, 10), 18, 'never below the forecast');
});

test('falling: set only when the forecast loses at least STEEP_FALL of the rate within the horizon', () => {
  const at = (from: number, to: number) => {
    const e = new CapacityEstimator(spec({ lookaheadMs: 60_000 }));
    e.demand(0, from, 500);
    e.demand(30_000, to, 500);
    return e.falling;
  };
  // A fall by a share d of the rate within 30 s, extrapolated 75 s ahead, is −2.5·d; steep when that reaches
  // STEEP_FALL of what is left (1 − d): d ≥ STEEP_FALL / (2.5 + STEEP_FALL).
  const steep = STEEP_FALL / (2.5 + STEEP_FALL) + 0.01;
  assert.equal(at(100, 100), false, 'steady');
  assert.equal(at(100, 110), false, 'rising');
  assert.equal(at(100, 95), false, 'the day declining, or noise');
  assert.equal(at(100, 100 * (1 - steep)), true, 'a burst ending');
  const e = new CapacityEstimator(spec());
  e.demand(0, 100, 500);
  e.demand(30_000, 40, 500);
  assert.equal(e.falling, true);
  e.demand(45_000, 40, 500);
  e.demand(60_000, 40, 500);
  e.demand(75_000, 40, 500);
  assert.equal(e.falling, false, 'once the rate is flat again');
});

test('property: capacity stays positive and finite, target = capacity × utilization, over random observations', () => {
  fc.assert(
    fc.property(
      fc.array(
        fc.record({
          rate: fc.double({ min: 0, max: 500, noNaN: true }),
          ready: fc.integer({ min: 0, max: 20 }),
          unready: fc.integer({ min: 0, max: 3 }),
          ttft: fc.option(fc.double({ min: 0, max: 30, noNaN: true }), { nil: undefined }),
          requests: fc.integer({ min: 0, max: 5000 }),
        }),
        { maxLength: 60 },
      ),
      (steps) => {
        const e = new CapacityEstimator(spec());
        let t = 0;
        for (const s of steps) {
          e.observe({
            now: t,
            rate: s.rate,
            ready: s.ready,
            unready: s.unready,
            ttftSec: s.ttft,
            requests: s.requests,
          });
          const d = e.demand(t, s.rate, s.requests);
          assert.ok(d >= s.rate && d <= s.rate * 1.6 + 1e-9);
          if (e.capacity !== undefined) {
            assert.ok(Number.isFinite(e.capacity) && e.capacity >= 0);
            assert.equal(e.target(), e.capacity * 0.8);
          }
          t += 15_000;
        }
      },
    ),
  );
});
