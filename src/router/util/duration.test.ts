import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseDuration } from './duration.js';

test('parses Go-style durations', () => {
  assert.equal(parseDuration('10s'), 10_000);
  assert.equal(parseDuration('250ms'), 250);
  assert.equal(parseDuration('1m30s'), 90_000);
  assert.equal(parseDuration('1h'), 3_600_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('0'), 0);
});

test('rejects malformed durations with the offending text', () => {
  for (const bad of ['', '10', 's', '10x', '1s junk', '-1s']) {
    assert.throws(() => parseDuration(bad), /duration/);
  }
});
