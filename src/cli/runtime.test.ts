import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { register } from './runtime.js';

/** Parses in-process; returns what commander (or the action) reports. */
async function parseError(args: readonly string[]): Promise<string> {
  let stderr = '';
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => {} });
  register(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: (s) => (stderr += s) });
  try {
    await program.parseAsync(['node', 'kthena', 'runtime', ...args]);
  } catch (err) {
    return `${stderr}${(err as Error).message}`;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
}

test('kthena runtime refuses bad flags, naming the flag', async () => {
  for (const [args, msg] of [
    [['--port', '0'], /--port must be between 1 and 65535/],
    [['--port', 'x'], /--port must be an integer/],
    [['--engine', 'mindie'], /--engine must be vllm, vllmdisaggregated, sglang or sglangdisaggregated, got "mindie"/],
    [['--engine-base-url', 'localhost:8000'], /--engine-base-url must be http\(s\), got "localhost:8000"/],
    [['--engine-base-url', 'not a url'], /--engine-base-url is not a URL/],
    [['--engine-metrics-path', 'metrics'], /--engine-metrics-path must start with \//],
  ] as const) {
    assert.match(await parseError(args), msg, args.join(' '));
  }
});
