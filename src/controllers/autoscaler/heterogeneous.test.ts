import assert from 'node:assert/strict';
import { test } from 'node:test';
import { aggregateExternal, distribute, scalingOrder } from './heterogeneous.js';

const A = { cost: 100, min: 0, max: 4 };
const B = { cost: 60, min: 1, max: 8 };

test("the reference's worked example: blocks of 1, 2, 4 ordered by cost", () => {
  const order = scalingOrder([A, B], 200);
  assert.deepEqual(
    order.map((b) => `${'AB'[b.param]}${b.size}:${b.cost}`),
    ['B1:60', 'A1:100', 'A1:100', 'B2:120', 'A2:200', 'B4:240'],
  );
  assert.deepEqual(distribute([A, B], order, 5), [2, 3]);
  assert.deepEqual(distribute([A, B], order, 12), [4, 8]);
  assert.deepEqual(distribute([A, B], order, 1), [0, 1]);
  assert.deepEqual(distribute([A, B], order, 0), [0, 1], 'clamped to the minimum total');
  assert.deepEqual(distribute([A, B], order, 99), [4, 8], 'clamped to the maximum total');
});

test('scale-down removes the last added units first (prefix of a fixed order)', () => {
  const order = scalingOrder([A, B], 200);
  let prev = distribute([A, B], order, 1);
  for (let k = 2; k <= 12; k++) {
    const next = distribute([A, B], order, k);
    assert.ok(
      next.every((v, i) => v >= prev[i]!),
      `total ${k} only adds to total ${k - 1}`,
    );
    prev = next;
  }
});

test('rate 100 makes one block per param with its cost not multiplied; rate < 100 makes blocks of one', () => {
  assert.deepEqual(
    scalingOrder([A, B], 100).map((b) => [b.param, b.size, b.cost]),
    [
      [1, 7, 60],
      [0, 4, 100],
    ],
  );
  assert.ok(scalingOrder([A, B], 20).every((b) => b.size === 1));
  assert.equal(scalingOrder([A, B], 0).length, 11);
});

test('external metrics: utilisation-like names average by replicas, others sum', () => {
  const v = [
    { value: 0.5, replicas: 1 },
    { value: 0.8, replicas: 3 },
  ];
  assert.ok(Math.abs(aggregateExternal('gpu_utilization', v) - (0.5 + 2.4) / 4) < 1e-12);
  assert.ok(Math.abs(aggregateExternal('queue_len', v) - 1.3) < 1e-12);
  assert.equal(
    aggregateExternal('kv_usage', [
      { value: 0.4, replicas: 0 },
      { value: 0.6, replicas: 0 },
    ]),
    0.5,
  );
});
