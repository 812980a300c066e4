// Bad input to `kthena bench scheduling` fails fast with a clear message (no engines are started).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'bench', 'scheduling', ...args], {
    encoding: 'utf8',
  });

test('kthena bench scheduling rejects unknown scenarios, strategies and bad counts', () => {
  const cases: [string[], RegExp][] = [
    [['nope'], /unknown scenario "nope"/],
    [['kthena-long', '--strategies', 'random,bogus'], /unknown strategy "bogus"/],
    [['kthena-long', '--runs', '0'], /--runs must be a positive integer/],
    [['kthena-long', '--groups', 'x'], /--groups must be a positive integer/],
  ];
  for (const [args, re] of cases) {
    const r = cli(...args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
  }
});
