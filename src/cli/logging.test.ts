import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerCommands } from './commands.js';
import { defaultLogFormat, parseLogFormat, parseLogLevel } from './logging.js';

/** The subcommands that run until stopped: each takes the same process-log flags. */
const LONG_RUNNING = ['router', 'engine-sim', 'cluster', 'controller-manager', 'up', 'runtime', 'start'];

function program(): { program: Command; err: () => string } {
  let err = '';
  const p = new Command().exitOverride().configureOutput({ writeErr: (s) => (err += s), writeOut: () => {} });
  registerCommands(p);
  return { program: p, err: () => err };
}

test('every long-running subcommand takes --log-format and --log-level', () => {
  const { program: p } = program();
  for (const name of LONG_RUNNING) {
    const cmd = p.commands.find((c) => c.name() === name);
    assert.ok(cmd, `no subcommand ${name}`);
    const longs = cmd.options.map((o) => o.long);
    assert.ok(longs.includes('--log-format'), `${name} lacks --log-format`);
    assert.ok(longs.includes('--log-level'), `${name} lacks --log-level`);
  }
});

test('a bad --log-format or --log-level is a usage error naming the flag, before anything starts', async () => {
  for (const name of LONG_RUNNING) {
    for (const [flag, value] of [
      ['--log-format', 'xml'],
      ['--log-level', 'loud'],
    ]) {
      const { program: p, err } = program();
      await assert.rejects(
        p.parseAsync([name, flag, value], { from: 'user' }),
        (e: Error & { exitCode?: number }) => e.exitCode === 1,
        `${name} ${flag} ${value}`,
      );
      assert.match(err(), new RegExp(`${flag} must be one of`), `${name}: ${err()}`);
    }
  }
});

test('level and format parsers: canonical names, any case, and Python spellings of levels', () => {
  assert.equal(parseLogFormat('JSON'), 'json');
  assert.equal(parseLogFormat('pretty'), 'pretty');
  assert.equal(parseLogLevel('DEBUG'), 'debug');
  assert.equal(parseLogLevel('warning'), 'warn');
  assert.equal(parseLogLevel('critical'), 'fatal');
  assert.throws(() => parseLogLevel('verbose'), /--log-level must be one of trace, debug, info/);
  assert.throws(() => parseLogFormat('text'), /--log-format must be one of json, pretty/);
});

test('the default format: pretty on a terminal, JSON otherwise', () => {
  assert.equal(defaultLogFormat(true), 'pretty');
  assert.equal(defaultLogFormat(false), 'json');
  assert.equal(defaultLogFormat(undefined), 'json');
});
