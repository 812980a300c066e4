import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ManualClock } from './clock.js';
import {
  BucketRateLimiter,
  defaultControllerRateLimiter,
  ItemExponentialRateLimiter,
  runWorkers,
  WorkQueue,
} from './workqueue.js';

test('dedupe: a key queued twice is handed out once', async () => {
  const q = new WorkQueue();
  q.add('a');
  q.add('b');
  q.add('a');
  assert.equal(q.len(), 2);
  assert.equal(await q.get(), 'a');
  assert.equal(await q.get(), 'b');
  assert.equal(q.len(), 0);
});

test('a key re-added while processing is processed again after done, never concurrently', async () => {
  const q = new WorkQueue();
  q.add('k');
  const first = await q.get();
  assert.equal(first, 'k');
  q.add('k'); // changed while a worker holds it
  q.add('k');
  assert.equal(q.len(), 0, 'not handed to a second worker');
  let second: string | undefined;
  const p = q.get().then((k) => {
    second = k;
  });
  await new Promise((r) => setImmediate(r));
  assert.equal(second, undefined, 'still held by the first worker');
  q.done('k');
  await p;
  assert.equal(second, 'k');
  q.done('k');
  assert.equal(q.len(), 0, 'processed once more, not twice more');
});

test('no key is ever processed by two workers at once (property)', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(fc.constantFrom('a', 'b', 'c'), { minLength: 1, maxLength: 40 }), async (adds) => {
      const q = new WorkQueue();
      const active = new Set<string>();
      const processedAfterLastAdd = new Set<string>();
      let violations = 0;
      const workers = runWorkers(q, 4, async (k) => {
        if (active.has(k)) violations++;
        active.add(k);
        processedAfterLastAdd.add(k);
        await new Promise((r) => setImmediate(r));
        active.delete(k);
      });
      for (const k of adds) {
        processedAfterLastAdd.delete(k);
        q.add(k);
        if (k === 'c') await new Promise((r) => setImmediate(r));
      }
      while (q.len() > 0 || active.size > 0) await new Promise((r) => setImmediate(r));
      q.shutDown();
      await workers;
      assert.equal(violations, 0);
      // Every key added is processed at least once after its last add.
      for (const k of new Set(adds)) assert.ok(processedAfterLastAdd.has(k), `key ${k} lost`);
    }),
    { numRuns: 50 },
  );
});

test('addAfter waits on the clock; the earlier of two delays wins', async () => {
  const clock = new ManualClock(0);
  const q = new WorkQueue({ clock });
  q.addAfter('x', 1000);
  q.addAfter('x', 300);
  q.addAfter('x', 5000);
  q.addAfter('now', 0);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'now');
  clock.advance(299);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'x');
  q.done('x');
  clock.advance(10_000);
  assert.equal(q.len(), 0, 'the later duplicates were dropped');
});

test('rate-limited requeues back off exponentially per key from 5 ms to 1000 s; forget resets', () => {
  const clock = new ManualClock(0);
  const q = new WorkQueue({ clock });
  const delays: number[] = [];
  for (let i = 0; i < 22; i++) {
    q.addRateLimited('k');
    const t = clock.pending('workqueue-delay')[0];
    delays.push(t.due - clock.now());
    clock.advanceTo(t.due);
  }
  assert.deepEqual(delays.slice(0, 5), [5, 10, 20, 40, 80]);
  assert.equal(delays[17], 5 * 2 ** 17);
  assert.deepEqual(delays.slice(18), [1_000_000, 1_000_000, 1_000_000, 1_000_000]);
  assert.equal(q.numRequeues('k'), 22);
  assert.equal(q.numRequeues('other'), 0);
  q.forget('k');
  assert.equal(q.numRequeues('k'), 0);
  q.addRateLimited('k');
  assert.equal(clock.pending('workqueue-delay')[0].due - clock.now(), 5);
});

test('the overall bucket limits bursts across keys', () => {
  const clock = new ManualClock(0);
  const b = new BucketRateLimiter<string>(10, 3, clock);
  assert.deepEqual(
    ['a', 'b', 'c', 'd', 'e'].map((k) => b.when(k)),
    [0, 0, 0, 100, 200],
  );
  clock.advance(1000); // refills 10 tokens, capped at the burst of 3 (after paying back the 2 borrowed)
  assert.equal(b.when('f'), 0);
  const d = defaultControllerRateLimiter<string>(clock);
  assert.equal(d.when('x'), 5);
  assert.equal(d.when('x'), 10);
  assert.equal(new ItemExponentialRateLimiter<string>(1, 8).when('y'), 1);
});

test('shutDown wakes getters, drains what is queued, and refuses new keys', async () => {
  const clock = new ManualClock(0);
  const q = new WorkQueue({ clock });
  const waiting = [q.get(), q.get()];
  q.add('last');
  q.addAfter('later', 100);
  const third = q.get();
  q.shutDown();
  assert.deepEqual(await Promise.all(waiting), ['last', undefined]);
  assert.equal(await third, undefined);
  q.add('x');
  clock.advance(1000);
  assert.equal(q.len(), 0);
  assert.equal(await q.get(), undefined);
  assert.equal(q.isShuttingDown(), true);
});

test('runWorkers requeues failures with backoff and forgets successes', async () => {
  const clock = new ManualClock(0);
  const q = new WorkQueue<string>({ clock });
  let attempts = 0;
  const workers = runWorkers(q, 2, (k) => {
    if (k === 'flaky' && ++attempts < 3) throw new Error('transient');
  });
  q.add('flaky');
  for (const expected of [5, 10]) {
    const t = await clock.waitForTimer('workqueue-delay');
    assert.equal(t.due - clock.now(), expected);
    clock.advanceTo(t.due);
  }
  while (attempts < 3) await new Promise((r) => setImmediate(r));
  await new Promise((r) => setImmediate(r));
  assert.equal(q.numRequeues('flaky'), 0, 'success forgot the failures');
  q.shutDown();
  await workers;
});

test("metrics follow client-go's workqueue: adds, depth, time queued, time worked, retries", async () => {
  const clock = new ManualClock(0);
  const seen = { adds: 0, depth: [] as number[], waited: [] as number[], worked: [] as number[], retries: 0 };
  const q = new WorkQueue<string>({
    clock,
    metrics: {
      added: () => seen.adds++,
      depth: (n) => seen.depth.push(n),
      waited: (s) => seen.waited.push(s),
      worked: (s) => seen.worked.push(s),
      retried: () => seen.retries++,
    },
  });
  q.add('a');
  q.add('a'); // already queued: not an add
  q.add('b');
  clock.advance(250);
  assert.equal(await q.get(), 'a');
  clock.advance(1000);
  q.add('a'); // while processing: an add, queued again after done
  q.done('a');
  q.addRateLimited('b');
  assert.equal(seen.adds, 3);
  assert.equal(seen.retries, 1);
  assert.deepEqual(seen.waited, [0.25]);
  assert.deepEqual(seen.worked, [1]);
  assert.deepEqual(seen.depth, [1, 2, 1, 2]);
});
