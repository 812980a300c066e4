import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIntOrPercent, scaledValue } from './intstr.js';

test('percentages round down or up against the total', () => {
  assert.equal(scaledValue('25%', 5, false, 1), 1);
  assert.equal(scaledValue('25%', 5, true, 0), 2);
  assert.equal(scaledValue('100%', 3, false, 1), 3);
  assert.equal(scaledValue('0%', 3, true, 0), 0);
  assert.equal(scaledValue(2, 10, false, 1), 2);
  assert.equal(scaledValue('3', 10, false, 1), 3);
  assert.equal(scaledValue(undefined, 10, false, 1), 1);
});

test('bad int-or-percent values are errors', () => {
  for (const bad of [-1, 1.5, '-1', '1.5%', 'abc', '%', '10 %']) assert.throws(() => parseIntOrPercent(bad as never));
});
