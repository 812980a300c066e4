import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';

const cli = (...args: string[]) =>
  spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], { encoding: 'utf8' });

test('kthena --version prints the package version', () => {
  const r = cli('--version');
  assert.equal(r.status, 0);
  assert.match(r.stdout, /^\d+\.\d+\.\d+/);
});

test('an unknown subcommand is an error, not a silent success', () => {
  const r = cli('no-such-command');
  assert.notEqual(r.status, 0);
  assert.match(r.stderr, /error/);
});
