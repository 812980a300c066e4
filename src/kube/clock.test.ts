import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock, sleep } from './clock.js';

test('ManualClock fires due timers in due order with now() at each due time', () => {
  const c = new ManualClock(1000);
  const fired: string[] = [];
  c.setTimeout(() => fired.push(`b@${c.now()}`), 20);
  c.setTimeout(() => fired.push(`a@${c.now()}`), 10);
  c.setTimeout(() => fired.push(`c@${c.now()}`), 20);
  const h = c.setTimeout(() => fired.push('cancelled'), 5);
  c.clearTimeout(h);
  c.advance(15);
  assert.deepEqual(fired, ['a@1010']);
  assert.equal(c.now(), 1015);
  c.advance(100);
  assert.deepEqual(fired, ['a@1010', 'b@1020', 'c@1020']);
  assert.equal(c.now(), 1115);
});

test('timers scheduled by a callback inside the window fire in the same advance', () => {
  const c = new ManualClock(0);
  const fired: number[] = [];
  c.setTimeout(() => {
    fired.push(c.now());
    c.setTimeout(() => fired.push(c.now()), 5);
  }, 10);
  c.advance(30);
  assert.deepEqual(fired, [10, 15]);
});

test('waitForTimer and fireNext find labelled timers', async () => {
  const c = new ManualClock(0);
  const p = c.waitForTimer('x');
  c.setTimeout(() => {}, 7, 'y');
  c.setTimeout(() => {}, 50, 'x');
  assert.deepEqual(await p, { due: 50, label: 'x' });
  const done = sleep(c, 100, undefined, 'z');
  const t = await c.fireNext('z');
  assert.equal(t.due, 100);
  await done;
  assert.equal(c.now(), 100);
  assert.deepEqual(c.pending(), []);
});

test('sleep rejects on abort and clears its timer', async () => {
  const c = new ManualClock(0);
  const ac = new AbortController();
  const p = sleep(c, 1000, ac.signal);
  ac.abort(new Error('stop'));
  await assert.rejects(p, /stop/);
  assert.equal(c.pending().length, 0);
});
