import assert from 'node:assert/strict';
import { test } from 'node:test';
import { VirtualClock } from './clock.js';

test('VirtualClock runs timers in time order, equal times in the order they were set, and skips cancelled ones', () => {
  const c = new VirtualClock();
  const seen: string[] = [];
  c.at(2, () => seen.push('b'));
  c.at(1, () => seen.push('a1'));
  const x = c.at(1.5, () => seen.push('x'));
  c.at(1, () => {
    seen.push('a2');
    c.at(1, () => seen.push('a3')); // set while running, same time: runs after the others already due
  });
  x.cancel();
  assert.equal(c.pending(), 3);
  assert.equal(c.nextAt(), 1);
  c.advanceTo(1.9);
  assert.deepEqual(seen, ['a1', 'a2', 'a3']);
  assert.equal(c.now(), 1.9);
  assert.equal(c.runNext(), true);
  assert.deepEqual(seen, ['a1', 'a2', 'a3', 'b']);
  assert.equal(c.now(), 2);
  assert.equal(c.runNext(), false);
  assert.equal(c.nextAt(), Number.POSITIVE_INFINITY);
  c.at(0, () => seen.push('past'));
  c.runAll();
  assert.equal(c.now(), 2, 'a timer set in the past runs now');
  assert.equal(seen.at(-1), 'past');
});

test('VirtualClock keeps order over many interleaved timers', () => {
  const c = new VirtualClock();
  const out: number[] = [];
  for (let i = 0; i < 1000; i++) c.at((i * 7919) % 101, () => out.push((i * 7919) % 101));
  c.runAll();
  assert.deepEqual(
    out,
    [...out].sort((a, b) => a - b),
  );
  assert.equal(c.pending(), 0);
});
