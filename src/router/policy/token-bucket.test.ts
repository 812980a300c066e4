import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { LocalBuckets } from './bucket-store.js';
import { applyOp, bucketSpec, isFull, refill, UNIT_SECONDS } from './token-bucket.js';

const perSecond = (n: number) => bucketSpec(n, 'second');

test('a missing bucket starts full and refills at limit/unit', () => {
  const spec = perSecond(10);
  assert.deepEqual(refill(undefined, spec, 5), { tokens: 10, at: 5 });
  assert.equal(refill({ tokens: 0, at: 0 }, spec, 500).tokens, 5);
  assert.equal(refill({ tokens: 0, at: 0 }, spec, 10_000).tokens, 10, 'capped at capacity');
  assert.deepEqual(
    refill({ tokens: 3, at: 100 }, spec, 50),
    { tokens: 3, at: 100 },
    'clock going back refills nothing',
  );
});

test('units: month is 30 days', () => {
  assert.equal(UNIT_SECONDS.month, 2_592_000);
  assert.equal(bucketSpec(3600, 'hour').ratePerMs, 1 / 1000);
  assert.equal(bucketSpec(86_400, 'day').ratePerMs * 1000, 1);
});

test('take consumes on success, rejects with the exact wait otherwise', () => {
  const spec = perSecond(10);
  let r = applyOp(undefined, spec, 'take', 7, 0);
  assert.equal(r.ok, true);
  assert.equal(r.state.tokens, 3);
  r = applyOp(r.state, spec, 'take', 5, 0);
  assert.equal(r.ok, false);
  assert.equal(r.waitMs, 200, '2 tokens missing at 10/s');
  assert.equal(r.state.tokens, 3, 'a rejection consumes nothing');
  r = applyOp(r.state, spec, 'take', 5, 200);
  assert.equal(r.ok, true);
  assert.equal(r.state.tokens, 0);
});

test('a request larger than the limit passes on a full bucket and leaves debt', () => {
  const spec = perSecond(10);
  const r = applyOp(undefined, spec, 'take', 25, 0);
  assert.equal(r.ok, true);
  assert.equal(r.state.tokens, -15);
  const next = applyOp(r.state, spec, 'take', 1, 1000);
  assert.equal(next.ok, false, 'the debt is paid first');
  assert.equal(next.waitMs, 600);
  assert.equal(applyOp(r.state, spec, 'take', 25, 2500).ok, true, 'full again after 2.5 s');
});

test('check needs tokens but consumes none', () => {
  const spec = perSecond(10);
  const r = applyOp({ tokens: 1, at: 0 }, spec, 'check', 1, 0);
  assert.equal(r.ok, true);
  assert.equal(r.state.tokens, 1);
  const empty = applyOp({ tokens: 0.5, at: 0 }, spec, 'check', 1, 0);
  assert.equal(empty.ok, false);
  assert.equal(empty.waitMs, 50);
});

test('charge always applies: refunds cap at capacity, overuse goes into debt', () => {
  const spec = perSecond(10);
  assert.equal(applyOp({ tokens: 8, at: 0 }, spec, 'charge', -5, 0).state.tokens, 10);
  assert.equal(applyOp({ tokens: 2, at: 0 }, spec, 'charge', 30, 0).state.tokens, -28);
  assert.equal(applyOp({ tokens: 2, at: 0 }, spec, 'charge', 30, 0).ok, true);
});

test('property: admitted tokens never exceed capacity + rate × elapsed (+ one oversized request)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.array(fc.record({ dt: fc.integer({ min: 0, max: 500 }), n: fc.integer({ min: 0, max: 200 }) }), {
        maxLength: 60,
      }),
      (limit, reqs) => {
        const spec = perSecond(limit);
        let state: ReturnType<typeof refill> | undefined;
        let now = 0;
        let admitted = 0;
        let largest = 0;
        for (const { dt, n } of reqs) {
          now += dt;
          const r = applyOp(state, spec, 'take', n, now);
          state = r.state;
          if (r.ok) {
            admitted += n;
            largest = Math.max(largest, n);
          } else assert.ok(r.waitMs > 0);
        }
        assert.ok(admitted <= limit + spec.ratePerMs * now + Math.max(0, largest - limit) + 1e-6);
      },
    ),
  );
});

test('LocalBuckets forgets full buckets on sweep and keeps partly used ones', async () => {
  let now = 0;
  const b = new LocalBuckets(() => now, 1_000_000);
  const spec = perSecond(10);
  await b.apply('a', spec, 'take', 5);
  await b.apply('b', spec, 'take', 1);
  assert.equal(b.size, 2);
  now = 150;
  b.sweep();
  assert.equal(b.size, 1, 'b refilled (1 token in 100 ms) and was dropped');
  now = 1000;
  b.sweep();
  assert.equal(b.size, 0);
  assert.equal(isFull({ tokens: 10, at: 0 }, spec, 0), true);
});
