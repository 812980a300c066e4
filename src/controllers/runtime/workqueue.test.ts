import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../kube/clock.js';
import { WorkQueue } from './workqueue.js';

test('dedupes, never hands one key to two workers, replays a re-add after done', async () => {
  const q = new WorkQueue<string>();
  q.add('a');
  q.add('a');
  q.add('b');
  assert.equal(q.len(), 2);
  const k = await q.get();
  assert.equal(k, 'a');
  q.add('a'); // while processing: remembered, not queued
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'b');
  q.done('a');
  assert.equal(await q.get(), 'a');
});

test('addAfter and per-key exponential back-off run on the injected clock', async () => {
  const clock = new ManualClock();
  const q = new WorkQueue<string>({ clock, baseDelayMs: 100 });
  q.addAfter('x', 1000);
  q.addAfter('x', 500); // the earlier one wins
  clock.advance(499);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1);
  assert.equal(await q.get(), 'x');
  q.done('x');
  q.addRateLimited('y');
  q.addRateLimited('y');
  assert.equal(q.numRequeues('y'), 2);
  clock.advance(99);
  assert.equal(q.len(), 0);
  clock.advance(1);
  assert.equal(q.len(), 1, 'first failure: 100 ms (the 200 ms retry is folded into it)');
  q.forget('y');
  assert.equal(q.numRequeues('y'), 0);
});

test('shutDown releases waiting workers', async () => {
  const q = new WorkQueue<string>();
  const waiting = q.get();
  q.shutDown();
  assert.equal(await waiting, undefined);
  q.add('z');
  assert.equal(await q.get(), undefined);
});
