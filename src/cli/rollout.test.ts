import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { register } from './rollout.js';

/** Parses a command line without running the action: returns the arguments and options commander produced. */
async function parse(args: string[]): Promise<{ args: unknown[]; opts: Record<string, unknown> }> {
  const program = new Command().exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  const rollout = program.commands.find((c) => c.name() === 'rollout')!;
  rollout.exitOverride();
  let seen: { args: unknown[]; opts: Record<string, unknown> } | undefined;
  for (const sub of rollout.commands) {
    sub.exitOverride();
    sub.configureOutput({ writeErr: () => {}, writeOut: () => {} });
    sub.hook('preAction', (_p, action) => {
      seen = { args: action.processedArgs, opts: action.opts() };
      throw new Error('parsed');
    });
  }
  await assert.rejects(program.parseAsync(['node', 'kthena', 'rollout', ...args]), /parsed/);
  return seen!;
}

const rejects = async (args: string[], re: RegExp) => {
  const program = new Command().exitOverride();
  program.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  register(program);
  for (const c of [program.commands[0], ...program.commands[0].commands]) {
    c.exitOverride();
    c.configureOutput({ writeErr: () => {}, writeOut: () => {} });
  }
  await assert.rejects(program.parseAsync(['node', 'kthena', 'rollout', ...args]), re);
};

test('history and undo take modelserving/NAME, -n, --kubeconfig, --context and their revision flags', async () => {
  const h = await parse([
    'history',
    'modelserving/llm',
    '-n',
    'prod',
    '--revision',
    '3',
    '--kubeconfig',
    'k',
    '--context',
    'c',
  ]);
  assert.deepEqual(h.args, [['modelserving/llm']]);
  assert.deepEqual(h.opts, { namespace: 'prod', revision: 3, kubeconfig: 'k', context: 'c' });
  const u = await parse(['undo', 'modelserving', 'llm']);
  assert.deepEqual(u.args, [['modelserving', 'llm']]);
  assert.equal(u.opts.toRevision, 0, 'default: the previous revision');
  assert.equal((await parse(['undo', 'modelserving/llm', '--to-revision', '2'])).opts.toRevision, 2);
});

test('malformed flags are usage errors naming the flag', async () => {
  await rejects(['history', 'modelserving/llm', '--revision', 'x'], /--revision must be an integer/);
  await rejects(['history', 'modelserving/llm', '--revision', '0'], /--revision must be between 1/);
  await rejects(['undo', 'modelserving/llm', '--to-revision', '-1'], /--to-revision/);
  await rejects(['undo'], /missing required argument/);
  await rejects(['redo', 'modelserving/llm'], /unknown command/);
});
