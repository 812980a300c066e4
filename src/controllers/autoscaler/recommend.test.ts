import assert from 'node:assert/strict';
import { test } from 'node:test';
import { podDesired, type RecommendInput, recommend, safeCeil } from './recommend.js';

const input = (o: Partial<RecommendInput>): RecommendInput => ({
  current: 2,
  min: 1,
  max: 10,
  tolerance: 0.1,
  targets: new Map([['waiting', 10]]),
  unready: 0,
  ready: [new Map([['waiting', 45]])],
  external: new Map(),
  ...o,
});

test('homogeneous pod metric: desired = ceil(Σ values / target) — the target is per instance', () => {
  assert.deepEqual(recommend(input({})), { kind: 'replicas', replicas: 5, by: 'waiting' });
  assert.equal((recommend(input({ ready: [new Map([['waiting', 3]])] })) as any).replicas, 1);
});

test("upstream's tolerance quirk: Σ/target is compared with 1, not with the current count", () => {
  // Σ/T = 1.05 is within 10 % of 1, so the current count (4) is kept although ceil(1.05) = 2 would be "right".
  assert.equal((recommend(input({ current: 4, ready: [new Map([['waiting', 10.5]])] })) as any).replicas, 4);
  // 1.2 is outside: ceil(1.2) = 2.
  assert.equal((recommend(input({ current: 4, ready: [new Map([['waiting', 12]])] })) as any).replicas, 2);
});

test('out-of-bounds current returns the bound at once (no metrics needed)', () => {
  assert.deepEqual(recommend(input({ current: 0, ready: [] })), { kind: 'replicas', replicas: 1, by: 'minReplicas' });
  assert.deepEqual(recommend(input({ current: 11, ready: [] })), { kind: 'replicas', replicas: 10, by: 'maxReplicas' });
});

test('no metric readable → skip; the max over metrics decides; result clamped to [min, max]', () => {
  assert.equal(recommend(input({ ready: [new Map()] })).kind, 'skip');
  const two = input({
    targets: new Map([
      ['waiting', 10],
      ['running', 4],
    ]),
    ready: [
      new Map([
        ['waiting', 15],
        ['running', 20],
      ]),
    ],
  });
  assert.deepEqual(recommend(two), { kind: 'replicas', replicas: 5, by: 'running' });
  assert.equal((recommend(input({ ready: [new Map([['waiting', 1000]])] })) as any).replicas, 10);
});

test('external metrics compare d/C with 1 and use ceil(E/T)', () => {
  const ext = input({ external: new Map([['waiting', 61]]) });
  assert.equal((recommend(ext) as any).replicas, 7);
  // 21/10 = 2.1, C = 2: |2.1/2 − 1| = 0.05 ≤ 0.1 → keep 2.
  assert.equal((recommend(input({ external: new Map([['waiting', 21]]) })) as any).replicas, 2);
});

test('unready pods count as idle instances on scale-up (a scale-up under way is not repeated)', () => {
  // r = 30/10 = 3 ≥ 1 with 2 unready: n' = 3, r' = 30/3/10 = 1 → within tolerance → current.
  assert.equal(podDesired('waiting', 10, [new Map([['waiting', 30]])], 2, 3, 0.1), 3);
  // Without unready: ceil(3) = 3... and with a bigger load the unready still dampen: 60/3/10 = 2 → ceil(2·3) = 6.
  assert.equal(podDesired('waiting', 10, [new Map([['waiting', 60]])], 2, 3, 0.1), 6);
});

test('missing backends count as on-target when scaling down and never flip the direction', () => {
  // Two backends, one silent. r = 2/1/10 = 0.2 < 1 → S += 10 → r' = 12/2/10 = 0.6 → ceil(1.2) = 2 ≤ C = 4 → 2.
  assert.equal(podDesired('waiting', 10, [new Map([['waiting', 2]]), new Map()], 0, 4, 0.1), 2);
  // Scale-up with a silent backend: r = 30/1/10 = 3 → r' = 30/2/10 = 1.5 → ceil(3) = 3; current 4 > 3 → keep 4.
  assert.equal(podDesired('waiting', 10, [new Map([['waiting', 30]]), new Map()], 0, 4, 0.1), 4);
});

test('safeCeil saturates and maps NaN to 0', () => {
  assert.equal(safeCeil(Number.NaN), 0);
  assert.equal(safeCeil(-3), 0);
  assert.equal(safeCeil(1e12), 1e9);
  assert.equal(safeCeil(2.0000001), 3);
});
