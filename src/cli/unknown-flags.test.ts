import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { knownFlagsFirst, toleratingUnknownFlags } from './unknown-flags.js';

const cmd = () =>
  new Command('x')
    .argument('[model]')
    .option('--port <n>')
    .option('--debug-port <n>')
    .option('--names <n...>')
    .option('--lora');

test('unknown flags and their values move after the known ones; operands stay first', () => {
  assert.deepEqual(knownFlagsFirst(cmd(), ['m', '--dtype', 'auto', '--port', '9', '--trust-remote-code', '--lora']), [
    'm',
    '--port',
    '9',
    '--lora',
    '--dtype',
    'auto',
    '--trust-remote-code',
  ]);
  assert.deepEqual(knownFlagsFirst(cmd(), ['--x=1', '--port=2', '--debug-port', '-1']), [
    '--port=2',
    '--debug-port',
    '-1',
    '--x=1',
  ]);
  assert.deepEqual(knownFlagsFirst(cmd(), ['--names', 'a', 'b', '--tp', '2', '--', '--port', '3']), [
    '--names',
    'a',
    'b',
    '--tp',
    '2',
    '--',
    '--port',
    '3',
  ]);
});

test('a known flag after an unknown one is parsed, the unknown ones reach cmd.args', () => {
  let seen: { model?: string; port?: string; args: string[] } | undefined;
  const c = toleratingUnknownFlags(cmd()).action((model: string | undefined, o: { port?: string }, self: Command) => {
    seen = { model, port: o.port, args: self.args };
  });
  c.parse(['m', '--dtype', 'auto', '--port', '9'], { from: 'user' });
  assert.deepEqual(seen, { model: 'm', port: '9', args: ['m', '--dtype', 'auto'] });
});
