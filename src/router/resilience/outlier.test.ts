import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { OUTLIER_DEFAULTS, type OutlierConfig, OutlierDetector, type Transition } from './outlier.js';

function setup(over: Partial<OutlierConfig> = {}, members = ['a', 'b', 'c', 'd']) {
  let now = 1_000;
  const transitions: Transition[] = [];
  const d = new OutlierDetector(
    { ...OUTLIER_DEFAULTS, ...over },
    () => now,
    (t) => transitions.push(t),
  );
  d.setFleet('srv', members);
  return {
    d,
    transitions,
    advance: (ms: number) => {
      now += ms;
    },
    fail: (key: string) => d.record(d.dispatch(key, 'srv'), 'failure'),
    ok: (key: string, ttft?: number) => d.record(d.dispatch(key, 'srv'), 'success', ttft),
  };
}

test('consecutive failures eject; a success in between resets the count', () => {
  const { d, fail, ok } = setup({ consecutiveFailures: 3 });
  fail('a');
  fail('a');
  ok('a');
  fail('a');
  fail('a');
  assert.equal(d.stateOf('a'), 'closed');
  fail('a');
  assert.equal(d.stateOf('a'), 'open');
  assert.equal(d.admits('a'), false);
  assert.equal(d.admits('b'), true);
});

test('back-off, then exactly one half-open probe; success closes, failure re-opens with a doubled back-off', () => {
  const { d, fail, advance, transitions } = setup({
    consecutiveFailures: 1,
    baseEjectionMs: 1000,
    maxEjectionMs: 3000,
  });
  fail('a');
  advance(999);
  assert.equal(d.stateOf('a'), 'open');
  advance(1);
  assert.equal(d.stateOf('a'), 'half_open');
  assert.equal(d.admits('a'), true);
  const probe = d.dispatch('a', 'srv');
  assert.equal(probe.probe, true);
  assert.equal(d.admits('a'), false, 'only one probe at a time');
  d.record(probe, 'failure');
  assert.equal(d.stateOf('a'), 'open');
  const last = transitions.at(-1)!;
  assert.equal(last.reason, 'probe_failed');
  assert.equal(last.durationMs, 2000, 'second ejection doubles');
  advance(2000);
  d.record(d.dispatch('a', 'srv'), 'failure');
  assert.equal(transitions.at(-1)!.durationMs, 3000, 'capped at maxEjectionMs');
  advance(3000);
  const p2 = d.dispatch('a', 'srv');
  d.record(p2, 'success');
  assert.equal(d.stateOf('a'), 'closed');
  assert.equal(d.anyEjected, false);
});

test('an aborted probe frees the probe slot without deciding', () => {
  const { d, fail, advance } = setup({ consecutiveFailures: 1, baseEjectionMs: 10 });
  fail('a');
  advance(10);
  const p = d.dispatch('a', 'srv');
  assert.equal(d.admits('a'), false);
  d.record(p, 'aborted');
  assert.equal(d.stateOf('a'), 'half_open');
  assert.equal(d.admits('a'), true);
});

test('a long healthy stretch forgives earlier ejections (back-off restarts at the base)', () => {
  const { d, fail, advance, transitions } = setup({ consecutiveFailures: 1, baseEjectionMs: 100, maxEjectionMs: 1000 });
  fail('a');
  advance(100);
  d.record(d.dispatch('a', 'srv'), 'success');
  fail('a');
  assert.equal(transitions.filter((t) => t.to === 'open').at(-1)!.durationMs, 200, 'soon after: doubled');
  advance(200);
  d.record(d.dispatch('a', 'srv'), 'success');
  advance(1001);
  fail('a');
  assert.equal(transitions.filter((t) => t.to === 'open').at(-1)!.durationMs, 100, 'after maxEjectionMs healthy: base');
});

test('never more than maxEjectionPercent of a fleet is out; the refused ejection is reported', () => {
  const { d, fail, transitions } = setup({ consecutiveFailures: 1, maxEjectionPercent: 50 });
  fail('a');
  fail('b');
  fail('c');
  fail('d');
  assert.deepEqual(
    ['a', 'b', 'c', 'd'].map((k) => d.stateOf(k)),
    ['open', 'open', 'closed', 'closed'],
  );
  assert.equal(transitions.filter((t) => t.skipped).length, 2);
  assert.equal(transitions.find((t) => t.skipped)!.fleet, 'srv');
});

test('a lone endpoint is never ejected (nothing to fail over to)', () => {
  const { d, fail } = setup({ consecutiveFailures: 1, maxEjectionPercent: 100 }, ['solo']);
  fail('solo');
  fail('solo');
  assert.equal(d.stateOf('solo'), 'closed');
});

test('stall: no first byte within the timeout while a peer answered later-started work → ejected, attempts cancelled', () => {
  const { d, advance, ok } = setup({ stallTimeoutMs: 5000 });
  const cancelled: string[] = [];
  const stuck1 = d.dispatch('a', 'srv', () => cancelled.push('1'));
  advance(100);
  const stuck2 = d.dispatch('a', 'srv', () => cancelled.push('2'));
  advance(4000);
  d.sweep();
  assert.deepEqual(cancelled, [], 'not yet past the timeout');
  ok('b');
  advance(1000);
  d.sweep();
  assert.equal(d.stateOf('a'), 'open');
  assert.deepEqual(cancelled, ['1', '2'], 'both unanswered attempts on the stalled endpoint are cancelled');
  // Their failure records (the proxy reports the abort) are not counted again.
  d.record(stuck1, 'failure');
  d.record(stuck2, 'failure');
  assert.equal(d.snapshot().find((h) => h.key === 'a')!.consecutiveFailures, 0);
  assert.equal(d.pendingAttempts, 0);
});

test('stall needs a peer that answered: a fleet that is slow everywhere is not ejected', () => {
  const { d, advance } = setup({ stallTimeoutMs: 1000 });
  d.dispatch('a', 'srv');
  d.dispatch('b', 'srv');
  advance(10_000);
  d.sweep();
  assert.equal(d.anyEjected, false);
});

test('stall ignores peers that only answered before the attempt began', () => {
  const { d, advance, ok } = setup({ stallTimeoutMs: 1000 });
  ok('b');
  advance(1);
  d.dispatch('a', 'srv');
  advance(5000);
  d.sweep();
  assert.equal(d.stateOf('a'), 'closed');
});

test('a released attempt (answered or failed) cannot stall', () => {
  const { d, advance, ok } = setup({ stallTimeoutMs: 1000 });
  const a = d.dispatch('a', 'srv');
  d.released(a);
  advance(5000);
  ok('b');
  d.sweep();
  assert.equal(d.stateOf('a'), 'closed');
});

test('TTFT outlier: far above the median of the others and by at least the minimum excess', () => {
  const { d, ok } = setup({ ttftFactor: 3, ttftMinExcessMs: 500, ttftMinSamples: 3 });
  for (let i = 0; i < 3; i++) {
    ok('b', 100);
    ok('c', 120);
    ok('d', 110);
  }
  ok('a', 2000);
  ok('a', 2000);
  assert.equal(d.stateOf('a'), 'closed', 'needs ttftMinSamples');
  ok('a', 2000);
  assert.equal(d.stateOf('a'), 'open');
  assert.equal(d.snapshot().find((h) => h.key === 'a')!.reason, 'ttft_outlier');
});

test('TTFT: a large factor over a tiny absolute excess does not eject', () => {
  const { d, ok } = setup({ ttftFactor: 3, ttftMinExcessMs: 500, ttftMinSamples: 1 });
  ok('b', 5);
  ok('a', 100);
  assert.equal(d.stateOf('a'), 'closed');
});

test('forget drops an endpoint that left the store (and its ejection count)', () => {
  const { d, fail } = setup({ consecutiveFailures: 1 });
  fail('a');
  assert.equal(d.anyEjected, true);
  d.forget('a');
  assert.equal(d.anyEjected, false);
  assert.equal(d.stateOf('a'), 'closed');
});

test('property: ejected share of the fleet never exceeds maxEjectionPercent', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 8 }),
      fc.integer({ min: 0, max: 100 }),
      fc.array(fc.tuple(fc.nat(7), fc.constantFrom('fail', 'ok', 'tick')), { maxLength: 200 }),
      (size, pct, ops) => {
        const members = Array.from({ length: size }, (_, i) => `e${i}`);
        const { d, fail, ok, advance } = setup(
          { consecutiveFailures: 2, maxEjectionPercent: pct, baseEjectionMs: 50 },
          members,
        );
        for (const [i, op] of ops) {
          const k = members[i % size];
          if (op === 'fail') fail(k);
          else if (op === 'ok') ok(k);
          else advance(30);
          const out = members.filter((m) => d.stateOf(m) !== 'closed').length;
          if (out > Math.floor((size * pct) / 100)) return false;
        }
        return true;
      },
    ),
  );
});
