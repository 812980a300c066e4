import assert from 'node:assert/strict';
import { test } from 'node:test';
import { addQuantities, formatQuantity, parseQuantity, scaleQuantity } from './quantity.js';

test('quantities parse to exact milli units', () => {
  assert.equal(parseQuantity('500m').milli, 500n);
  assert.equal(parseQuantity('2').milli, 2000n);
  assert.equal(parseQuantity(3).milli, 3000n);
  assert.equal(parseQuantity('1.5').milli, 1500n);
  assert.equal(parseQuantity('1Gi').milli, 1073741824000n);
  assert.equal(parseQuantity('1k').milli, 1000000n);
  assert.equal(parseQuantity('1e3').milli, 1000000n);
  assert.equal(parseQuantity('1u').milli, 1n, 'sub-milli rounds up');
});

test('sums are formatted plainly, in milli, or with a binary suffix', () => {
  const cpu = addQuantities(parseQuantity('500m'), parseQuantity('1'));
  assert.equal(formatQuantity(cpu), '1500m');
  assert.equal(formatQuantity(scaleQuantity(parseQuantity('500m'), 4)), '2');
  assert.equal(formatQuantity(scaleQuantity(parseQuantity('8Gi'), 3)), '24Gi');
  assert.equal(formatQuantity(addQuantities(parseQuantity('512Mi'), parseQuantity('512Mi'))), '1Gi');
  assert.equal(formatQuantity(parseQuantity('8')), '8');
});

test('invalid quantities are errors', () => {
  for (const bad of ['', 'abc', '1Xi', '--1', '.', '1e99']) assert.throws(() => parseQuantity(bad), bad);
});
