import assert from 'node:assert/strict';
import { test } from 'node:test';
import { bucketQuantile, HistogramWindow } from './histogram.js';

const bounds = [0.1, 0.5, 1, Infinity];

test('p95 interpolates linearly inside the bucket', () => {
  // 100 observations: 50 ≤ 0.1, 40 in (0.1, 0.5], 10 in (0.5, 1]. Rank 95 is the 5th of 10 in the last finite bucket.
  assert.equal(bucketQuantile(0.95, { bounds, counts: [50, 90, 100, 100] }), 0.75);
  assert.equal(bucketQuantile(0.5, { bounds, counts: [50, 90, 100, 100] }), 0.1);
  assert.ok(Number.isNaN(bucketQuantile(0.95, { bounds, counts: [0, 0, 0, 0] })));
  assert.equal(bucketQuantile(0.95, { bounds, counts: [0, 0, 0, 10] }), 1, 'all beyond the last bound');
});

test('the window reads what happened since the snapshot ≥ 60 s old, and forgets it on restart', () => {
  const w = new HistogramWindow();
  // Long ago everything was fast.
  assert.equal(w.observe(0, 'a', { bounds, counts: [1000, 1000, 1000, 1000] }), 0.1 * 0.95);
  // 61 s later 100 slow requests arrived: measured against the t=0 snapshot, p95 is in (0.5, 1].
  assert.equal(w.observe(61_000, 'a', { bounds, counts: [1000, 1000, 1100, 1100] }), 0.5 + 0.5 * 0.95);
  // A restarted pod: counts since start only.
  assert.equal(w.observe(62_000, 'b', { bounds, counts: [10, 10, 10, 10] }), 0.1 * 0.95);
});
