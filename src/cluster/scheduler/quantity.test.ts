import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalAmount, formatAmount, parseQuantity } from './quantity.js';

test('parses decimal, binary and exponent suffixes', () => {
  assert.equal(parseQuantity('8'), 8);
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('1Gi'), 2 ** 30);
  assert.equal(parseQuantity('16Mi'), 16 * 2 ** 20);
  assert.equal(parseQuantity('2k'), 2000);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity('1E'), 1e18);
  assert.equal(parseQuantity('.5'), 0.5);
  assert.equal(parseQuantity(3), 3);
});

test('rejects malformed quantities with a clear error', () => {
  for (const bad of ['', 'abc', '1.2.3', '5 Gi', '1Gb', '--1']) {
    assert.throws(() => parseQuantity(bad), /invalid quantity/);
  }
  assert.throws(() => parseQuantity(Number.NaN), /invalid quantity/);
});

test('canonical amounts: cpu in millicores, the rest rounded up', () => {
  assert.equal(canonicalAmount('cpu', '250m'), 250);
  assert.equal(canonicalAmount('cpu', '1.5'), 1500);
  assert.equal(canonicalAmount('cpu', '0.1'), 100);
  assert.equal(canonicalAmount('memory', '1Ki'), 1024);
  assert.equal(canonicalAmount('nvidia.com/gpu', '2'), 2);
});

test('formats amounts back', () => {
  assert.equal(formatAmount('cpu', 16000), '16');
  assert.equal(formatAmount('cpu', 250), '250m');
  assert.equal(formatAmount('memory', 128 * 2 ** 30), '128Gi');
  assert.equal(formatAmount('nvidia.com/gpu', 8), '8');
});
