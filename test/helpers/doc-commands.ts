// What the docs tell a user to type, checked against the CLI itself: fenced shell blocks of the README and docs/*.md
// are split into simple commands; every `npx kthena …` names a real subcommand and real flags (the program's own
// commander definitions), every `npm run X` a real script, every repository path given to `-f`/`-k` exists.
//
// Conventions (docs/cli.md, "Commands in the docs"):
// - ```sh / ```bash / ```shell blocks are commands; ```console blocks are transcripts (lines starting with `$ `);
//   unlabelled blocks are usage lines: their `kthena …` lines are checked for names and flags only.
// - `<!-- docs-test: no-run -->` on the line before a block: checked, never run (real-cluster steps).
// - `<!-- docs-test: skip -->`: not checked at all (deliberately wrong input, other programs' syntax).
import type { Command, Option } from 'commander';
import { splitShellCommands } from '../../src/cluster/kubelet/shell-words.js';

export type BlockKind = 'shell' | 'console' | 'usage';

export interface DocBlock {
  file: string;
  /** 1-based line of the opening fence */
  line: number;
  kind: BlockKind;
  text: string;
  marker?: 'no-run' | 'skip';
}

const SHELL_LANGS = new Set(['sh', 'bash', 'shell', 'zsh']);

/** The fenced blocks of one Markdown file that may hold commands. */
export function extractBlocks(markdown: string, file: string): DocBlock[] {
  const lines = markdown.split('\n');
  const out: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^\s*```\s*([\w-]*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    let end = i + 1;
    while (end < lines.length && !/^\s*```\s*$/.test(lines[end]!)) end++;
    const lang = open[1]!.toLowerCase();
    const kind: BlockKind | undefined = SHELL_LANGS.has(lang)
      ? 'shell'
      : lang === 'console'
        ? 'console'
        : lang === ''
          ? 'usage'
          : undefined;
    let before = i - 1;
    while (before >= 0 && lines[before]!.trim() === '') before--;
    const m = before >= 0 ? /<!--\s*docs-test:\s*(no-run|skip)\s*-->/.exec(lines[before]!) : null;
    if (kind)
      out.push({
        file,
        line: i + 1,
        kind,
        text: lines.slice(i + 1, end).join('\n'),
        ...(m ? { marker: m[1] as 'no-run' | 'skip' } : {}),
      });
    i = end;
  }
  return out;
}

export interface DocCommand {
  block: DocBlock;
  /** the words of one simple command, prefixes (do, env assignments) removed */
  words: string[];
}

const PREFIX_WORDS = new Set(['do', 'then', 'else', 'time', '!', '{', '(']);
const isAssignment = (w: string) => /^[A-Za-z_][A-Za-z0-9_]*=/.test(w);

/** `> file`, `2>&1`, `>>file`: not arguments of the command. */
function withoutRedirections(words: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (/^\d*>>?$|^<$/.test(w))
      i++; // the target is the next word
    else if (!/^\d*>>?.|^</.test(w)) out.push(w);
  }
  return out;
}

/** The simple commands of a block (usage blocks: their `kthena …` lines, split into words as written). */
export function commandsOf(block: DocBlock): DocCommand[] {
  let script = block.text;
  if (block.kind === 'console')
    script = block.text
      .split('\n')
      .filter((l) => l.startsWith('$ '))
      .map((l) => l.slice(2))
      .join('\n');
  if (block.kind === 'usage') {
    // `$ kthena …` lines of transcripts without a language, and `kthena …` usage lines.
    return block.text
      .split('\n')
      .map((l) =>
        l
          .replace(/^\$ /, '')
          .replace(/\s+#.*$/, '')
          .trim(),
      )
      .filter((l) => /^(npx )?kthena\b/.test(l))
      .map((l) => ({ block, words: l.split(/\s+/) }));
  }
  return splitShellCommands(script)
    .map((words) => {
      let k = 0;
      while (k < words.length && (PREFIX_WORDS.has(words[k]!) || isAssignment(words[k]!))) k++;
      return { block, words: withoutRedirections(words.slice(k)) };
    })
    .filter((c) => c.words.length > 0);
}

function findSub(cmd: Command, word: string): Command | undefined {
  return cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
}

function knows(cmd: Command, flag: string, root: boolean): boolean {
  if (flag === '-h' || flag === '--help') return true;
  if (root && (flag === '-V' || flag === '--version')) return true;
  return cmd.options.some((o: Option) => o.long === flag || o.short === flag);
}

export interface Resolved {
  /** the subcommand path, e.g. ['create', 'manifest'] */
  path: string[];
  cmd: Command;
  problems: string[];
}

/**
 * Resolves `kthena ARGS` against the program: subcommands by name or alias, then every flag. Usage lines may
 * write alternatives and optional parts (`[-o table|yaml]`, `-y|--yes`): flags are found with a pattern there.
 */
export function resolveKthena(program: Command, args: string[], usage: boolean): Resolved {
  let cmd = program;
  const path: string[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const sub = findSub(cmd, args[i]!);
    if (!sub) break;
    cmd = sub;
    path.push(args[i]!);
  }
  const problems: string[] = [];
  if (path.length === 0 && i < args.length && !args[i]!.startsWith('-')) problems.push(`no subcommand "${args[i]}"`);
  else if (cmd.commands.length > 0 && path.length > 0 && !args.slice(i).some((a) => a === '--help' || a === '-h')) {
    // A command with subcommands needs one (`kthena create` alone does nothing), unless it has its own action.
    const next = args[i];
    if (next !== undefined && !next.startsWith('-') && !/^[A-Z[<]/.test(next))
      problems.push(`no subcommand "${next}" of "${path.join(' ')}"`);
  }
  const rest = args.slice(i);
  const flags = usage
    ? rest.flatMap((w) => w.match(/(?<![\w-])--?[A-Za-z][\w-]*/g) ?? [])
    : rest.filter((w) => /^--?[A-Za-z]/.test(w)).map((w) => w.split('=')[0]!);
  for (const f of flags) {
    if (f === '--') break;
    if (!knows(cmd, f, path.length === 0)) problems.push(`"${['kthena', ...path].join(' ')}" has no flag ${f}`);
  }
  return { path, cmd, problems };
}

/** Words a reader must replace before running (FILE, $KUBECONFIG, [--flag], <x>, …). */
export function hasPlaceholders(words: string[]): boolean {
  return words.some((w) => /[[\]<>…|]|\$/.test(w) || /^[A-Z][A-Z_]+$/.test(w) || /^--?[\w-]+=?[A-Z][A-Z_]+$/.test(w));
}
