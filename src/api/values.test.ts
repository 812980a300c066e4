import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileRe2, isGoDuration, parseDurationMs, parseQuantity, resolveIntOrPercent } from './index.js';

test('Go durations', () => {
  for (const ok of ['0', '10s', '1m30s', '100ms', '1.5h', '2h45m0.5s', '300us', '-1s']) assert.ok(isGoDuration(ok), ok);
  for (const bad of ['', '10', '1 s', '10 seconds', 's', '1d', '1m 30s']) assert.ok(!isGoDuration(bad), bad);
  assert.equal(parseDurationMs('1m30s'), 90000);
  assert.equal(parseDurationMs('100ms'), 100);
  assert.equal(parseDurationMs('1.5h'), 5400000);
  assert.equal(parseDurationMs('-2s'), -2000);
  assert.equal(parseDurationMs('1d'), undefined);
});

test('resource quantities', () => {
  assert.equal(parseQuantity('500m'), 0.5);
  assert.equal(parseQuantity('8Gi'), 8 * 2 ** 30);
  assert.equal(parseQuantity('1E'), 1e18, 'a bare E is exa, not an empty exponent');
  assert.equal(parseQuantity('2e3'), 2000);
  assert.equal(parseQuantity('1k'), 1000);
  assert.equal(parseQuantity('1e3'), 1000);
  assert.equal(parseQuantity(10), 10);
  assert.equal(parseQuantity('0.5'), 0.5);
  assert.equal(parseQuantity('-5'), -5);
  for (const bad of ['ten', '1 Gi', '', 'Gi', '1GB']) assert.equal(parseQuantity(bad), undefined, bad);
  assert.equal(parseQuantity(Number.NaN), undefined);
});

test('int-or-percent resolves like Kubernetes (down for maxUnavailable, up for partition)', () => {
  assert.deepEqual(resolveIntOrPercent(2, 10, false), { value: 2 });
  assert.deepEqual(resolveIntOrPercent('25%', 10, false), { value: 2 });
  assert.deepEqual(resolveIntOrPercent('25%', 10, true), { value: 3 });
  assert.deepEqual(resolveIntOrPercent('0%', 10, true), { value: 0 });
  assert.deepEqual(resolveIntOrPercent('3', 10, true), { value: 3 });
  assert.ok('error' in resolveIntOrPercent('101%', 10, false));
  assert.ok('error' in resolveIntOrPercent(-1, 10, false));
  assert.ok('error' in resolveIntOrPercent('x%', 10, false));
});

test('RE2 regexes: compiled unanchored, inline flags honoured, JS-only syntax refused', () => {
  const m = (p: string, s: string) => {
    const r = compileRe2(p);
    assert.ok('regex' in r, p);
    return r.regex.test(s);
  };
  assert.ok(m('team-[ab]', 'x-team-a-y'), 'unanchored like Go MatchString');
  assert.ok(!m('^team-[ab]$', 'x-team-a'));
  assert.ok(m('(?i)premium', 'PREMIUM'));
  assert.ok(m('(?P<tier>gold|silver)', 'silver'));
  for (const bad of ['(?=x)', '(?!x)', '(?<=x)a', '(a)\\1', '(', '[a-', 'a(?i)b']) {
    assert.ok('error' in compileRe2(bad), bad);
  }
});
