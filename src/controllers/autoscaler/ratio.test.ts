import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { enforceRatio } from './ratio.js';

const b = (min: number, max: number) => ({ min, max });

test('no constraint: only clamps', () => {
  assert.deepEqual(enforceRatio(9, 0, b(1, 8), b(1, 8), undefined), { num: 8, den: 1, adjusted: false, ratio: '8' });
});

test('both at zero stay at zero (scale to zero together)', () => {
  assert.deepEqual(enforceRatio(0, 0, b(0, 8), b(0, 8), { minRatio: 0.5, maxRatio: 2 }), {
    num: 0,
    den: 0,
    adjusted: false,
    ratio: '',
  });
});

test('a side at zero is seeded with one; too few prefill raises prefill; too many raises decode', () => {
  assert.deepEqual(enforceRatio(2, 0, b(0, 8), b(0, 8), { minRatio: 0.5, maxRatio: 2 }), {
    num: 2,
    den: 1,
    adjusted: true,
    ratio: '2',
  });
  assert.deepEqual(enforceRatio(1, 6, b(1, 8), b(1, 8), { minRatio: 0.5, maxRatio: 2 }).num, 3);
  assert.deepEqual(enforceRatio(7, 2, b(1, 8), b(1, 8), { minRatio: 0.5, maxRatio: 2 }).den, 4);
});

test('when the raise would pass a maximum, cap it and pull the other side down', () => {
  // num needs ceil(0.5·8) = 4 > num.max 3 → num = 3, den = floor(3/0.5) = 6.
  assert.deepEqual(enforceRatio(1, 8, b(1, 3), b(1, 8), { minRatio: 0.5, maxRatio: 2 }), {
    num: 3,
    den: 6,
    adjusted: true,
    ratio: '0.5',
  });
  // den needs ceil(8/2) = 4 > den.max 3 → den = 3, num = floor(2·3) = 6.
  assert.deepEqual(enforceRatio(8, 1, b(1, 8), b(1, 3), { minRatio: 0.5, maxRatio: 2 }).num, 6);
});

test('property: an achievable constraint always ends within bounds and ratio', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 0, max: 20 }),
      fc.integer({ min: 1, max: 4 }),
      fc.integer({ min: 8, max: 16 }),
      (num, den, lo, hi) => {
        const c = { minRatio: 0.5, maxRatio: 2 };
        const r = enforceRatio(num, den, b(lo, hi), b(lo, hi), c);
        assert.ok(r.num >= lo && r.num <= hi && r.den >= lo && r.den <= hi);
        const q = r.num / r.den;
        assert.ok(q >= c.minRatio - 1e-9 && q <= c.maxRatio + 1e-9, `${r.num}/${r.den}`);
      },
    ),
  );
});
