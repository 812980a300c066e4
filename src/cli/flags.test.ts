// Malformed flags of the subcommands are usage errors that name the flag (exit status 1, before anything starts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerCommands } from './commands.js';

async function usageError(args: string[]): Promise<string> {
  let err = '';
  const p = new Command().exitOverride().configureOutput({ writeErr: (s) => (err += s), writeOut: () => {} });
  registerCommands(p);
  await assert.rejects(p.parseAsync(args, { from: 'user' }), (e: Error & { exitCode?: number }) => e.exitCode === 1);
  return err;
}

test('numbers, durations and choices are checked by the flag that carries them', async () => {
  for (const [args, want] of [
    [['start', '--replicas', 'abc'], /--replicas must be an integer/],
    [['start', '--speedup', '0'], /--speedup must be a positive number/],
    [['start', '--engine-base-port', '-5'], /--engine-base-port must be an integer/],
    [['router', '--headers-timeout', '5'], /'--headers-timeout <dur>' argument '5' is invalid. invalid duration "5"/],
    [['router', '--drain-timeout', '1x'], /--drain-timeout/],
    [['up', '--port', 'abc'], /--port must be an integer/],
    [['engine-sim', '--port', 'x'], /--port must be a non-negative integer/],
  ] as const)
    assert.match(await usageError([...args]), want, args.join(' '));
});

test('an invalid duration in the environment is named with its variable', async () => {
  process.env.DRAIN_TIMEOUT = 'soon';
  try {
    assert.match(await usageError(['router']), /value 'soon' from env 'DRAIN_TIMEOUT' is invalid/);
  } finally {
    delete process.env.DRAIN_TIMEOUT;
  }
});
