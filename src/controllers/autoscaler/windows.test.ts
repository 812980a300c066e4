import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LineChartWindow, maxBetter, minBetter, RecordWindow } from './windows.js';

test('RecordWindow keeps the best value within the window and forgets older ones', () => {
  const w = new RecordWindow(300, maxBetter);
  w.record(0, 5);
  w.record(100, 3);
  assert.equal(w.best(100), 5);
  assert.equal(w.best(300), 5);
  assert.equal(w.best(301), 3, 'the 5 recorded at t=0 expired');
  w.record(350, 1);
  assert.equal(w.best(401), 1, 'the 3 from t=100 expired at 401');
  const min = new RecordWindow(100, minBetter);
  min.record(0, 2);
  min.record(10, 7);
  assert.equal(min.best(50), 2);
});

test('a window of length 0 reports nothing', () => {
  const w = new RecordWindow(0, maxBetter);
  w.record(0, 5);
  assert.equal(w.best(0), undefined);
  assert.equal(new LineChartWindow(0, maxBetter).best(0, 3), undefined);
});

test('LineChartWindow: a value holds until the next one, and the current value always counts', () => {
  const w = new LineChartWindow(60, maxBetter);
  assert.equal(w.best(0, 2), 2, 'empty: the current value');
  w.record(0, 8);
  assert.equal(w.best(30, 2), 8, 'the value in force');
  w.record(100, 3);
  // 8 held from 0 to 100 and entered the window stamped 100: still within 60 at t=150.
  assert.equal(w.best(150, 2), 8);
  assert.equal(w.best(161, 2), 3, 'expired from the window; 3 is in force');
  // The value in force drifts out after 2 × window without a new record.
  assert.equal(w.best(220, 2), 3);
  assert.equal(w.best(221, 2), 2);
});

test('RecordWindow.clear forgets everything recorded', () => {
  const w = new RecordWindow(300, maxBetter);
  w.record(0, 5);
  w.record(10, 3);
  w.clear();
  assert.equal(w.best(20), undefined);
  w.record(30, 2);
  assert.equal(w.best(40), 2);
});
