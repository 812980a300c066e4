// Every command in the README's and docs' shell blocks is checked against the CLI's own definitions, and the cheap
// ones run for real (conventions: test/helpers/doc-commands.ts and docs/cli.md "Commands in the docs").
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { registerCommands } from '../../src/cli/commands.js';
import { commandsOf, type DocCommand, extractBlocks, hasPlaceholders, resolveKthena } from '../helpers/doc-commands.js';

const FILES = [
  'README.md',
  ...readdirSync('docs')
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => join('docs', f)),
];
const blocks = FILES.flatMap((f) => extractBlocks(readFileSync(f, 'utf8'), f)).filter((b) => b.marker !== 'skip');
const commands: DocCommand[] = blocks.flatMap(commandsOf);
const where = (c: DocCommand) => `${c.block.file}:${c.block.line}: ${c.words.join(' ')}`;

const program = new Command();
registerCommands(program);
const scripts = Object.keys((JSON.parse(readFileSync('package.json', 'utf8')) as { scripts: object }).scripts);

/** The kthena arguments of a command line, or undefined when it is not one. */
function kthenaArgs(c: DocCommand): string[] | undefined {
  const w = c.words;
  if (w[0] === 'kthena') return w.slice(1);
  if (w[0] === 'npx' && w[1] === 'kthena') return w.slice(2);
  return undefined;
}

test('the docs have command blocks to check', () => {
  assert.ok(commands.filter((c) => kthenaArgs(c)).length >= 30, `${commands.length} commands found`);
});

test('every kthena command line names a real subcommand and real flags', () => {
  const problems: string[] = [];
  for (const c of commands) {
    const args = kthenaArgs(c);
    if (!args) continue;
    for (const p of resolveKthena(program, args, c.block.kind === 'usage').problems) problems.push(`${where(c)}: ${p}`);
  }
  assert.deepEqual(problems, []);
});

test('one way to invoke the CLI in shell blocks: npx kthena', () => {
  const bare = commands.filter((c) => c.block.kind !== 'usage' && c.words[0] === 'kthena').map(where);
  assert.deepEqual(bare, [], 'write `npx kthena …` in shell and console blocks (usage lines may say `kthena …`)');
});

test('npm commands name real scripts; npm start passes flags `kthena up` takes', () => {
  const problems: string[] = [];
  for (const c of commands) {
    const [tool, verb, ...rest] = c.words;
    if (tool !== 'npm') continue;
    if (verb === 'run' && !scripts.includes(rest[0] ?? '')) problems.push(`${where(c)}: no script "${rest[0]}"`);
    if (!['ci', 'start', 'test', 'run', 'install', 'i', 'pack'].includes(verb ?? ''))
      problems.push(`${where(c)}: unexpected npm verb`);
    if (verb === 'start' && rest[0] === '--')
      for (const p of resolveKthena(program, ['up', ...rest.slice(1)], false).problems)
        problems.push(`${where(c)}: ${p}`);
  }
  assert.deepEqual(problems, []);
});

test('repository paths handed to -f / -k / --config-dir / --router-config and npx tsx exist', () => {
  const missing: string[] = [];
  const repoPath = (p: string) => /^(examples|deploy|docs|bench|scripts|test|templates|src)\//.test(p);
  for (const c of commands) {
    if (c.block.kind === 'usage') continue;
    c.words.forEach((w, i) => {
      const prev = c.words[i - 1] ?? '';
      const fileArg = ['-f', '-k', '--filename', '--config-dir', '--router-config', '--nodes-file'].includes(prev);
      if (
        (fileArg || (c.words[0] === 'npx' && c.words[1] === 'tsx') || c.words[0] === 'node') &&
        repoPath(w) &&
        !existsSync(w)
      )
        missing.push(`${where(c)}: ${w} does not exist`);
    });
  }
  assert.deepEqual(missing, []);
});

/** Commands that are cheap, local and stop by themselves: the docs' examples of them run for real. */
function cheap(args: string[]): boolean {
  const { path } = resolveKthena(program, args, false);
  const top = path.join(' ');
  if (args.includes('--help') || args.includes('-h') || args.includes('--version')) return true;
  if (top === 'validate' || top === 'crds') return !args.includes('--out-dir');
  if (top === 'create manifest') return args.includes('--dry-run');
  if (top === 'get' || top === 'describe') return args[1]?.startsWith('template') ?? false;
  return false;
}

test('the cheap commands of the docs run as written and succeed', { timeout: 600_000 }, () => {
  const runnable = commands.filter((c) => {
    const args = kthenaArgs(c);
    return args && c.block.kind !== 'usage' && c.block.marker !== 'no-run' && !hasPlaceholders(args) && cheap(args);
  });
  assert.ok(runnable.length >= 5, `only ${runnable.length} runnable examples`);
  const failed: string[] = [];
  for (const c of runnable) {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...kthenaArgs(c)!], {
      encoding: 'utf8',
      input: '',
      env: { ...process.env, KUBECONFIG: '/nonexistent-kubeconfig' }, // never a real cluster
    });
    if (r.status !== 0)
      failed.push(`${where(c)}: exit ${r.status}: ${r.stderr.trim().split('\n').slice(0, 3).join(' | ')}`);
    else if (r.stdout.trim() === '') failed.push(`${where(c)}: printed nothing`);
  }
  assert.deepEqual(failed, []);
});

test("the README's table of commands and docs/cli.md name every subcommand", () => {
  const readmeRows = readFileSync('README.md', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('| `kthena '));
  const cliMd = readFileSync('docs/cli.md', 'utf8');
  const missing: string[] = [];
  for (const c of program.commands) {
    const name = c.name();
    if (!readmeRows.some((r) => r.startsWith(`| \`kthena ${name}`) || r.includes(` \`kthena ${name} `)))
      missing.push(`README.md: no row for kthena ${name}`);
    if (!cliMd.includes(`kthena ${name}`) && !cliMd.includes(`[\`${name}\`]`))
      missing.push(`docs/cli.md: kthena ${name} not listed`);
  }
  assert.deepEqual(missing, []);
});
