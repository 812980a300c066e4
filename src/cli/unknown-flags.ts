// Real engine command lines carry flags the simulator does not model (`--dtype auto`, `--trust-remote-code`).
// Commander, told to allow unknown options, classifies everything after the first unknown one as unknown too, so a
// known `--port` written after `--dtype` would be silently dropped. We move the unknown flags (with their values) to
// the end before commander parses, and report them.
import type { Command } from 'commander';

type Arity = 'none' | 'one' | 'many';

/** How many words a known flag takes; undefined when the command does not know it. */
function arityOf(cmd: Command, flag: string): Arity | undefined {
  const o = cmd.options.find((x) => x.long === flag || x.short === flag);
  if (!o) return flag === '--help' || flag === '-h' ? 'none' : undefined;
  if (o.variadic) return 'many';
  return o.required || o.optional ? 'one' : 'none';
}

const isFlag = (w: string) => w.startsWith('-') && w !== '-';

/**
 * Leading operands, then the known flags with their values, then the unknown flags with theirs (an unknown flag takes
 * the words up to the next flag: argparse's flags mostly take one value, and an engine's model comes first).
 */
export function knownFlagsFirst(cmd: Command, args: readonly string[]): string[] {
  const operands: string[] = [];
  const known: string[] = [];
  const unknown: string[] = [];
  let i = 0;
  while (i < args.length && !isFlag(args[i]!)) operands.push(args[i++]!);
  while (i < args.length) {
    const w = args[i++]!;
    if (w === '--') {
      unknown.push(w, ...args.slice(i));
      break;
    }
    const name = w.includes('=') ? w.slice(0, w.indexOf('=')) : w;
    const arity = isFlag(w) ? arityOf(cmd, name) : undefined;
    const dest = arity === undefined ? unknown : known;
    dest.push(w);
    if (w.includes('=') || arity === 'none') continue;
    // A value of a known flag is taken by commander even when it starts with '-' (e.g. --debug-port -1).
    if (arity === 'one' && i < args.length) dest.push(args[i++]!);
    else while (i < args.length && !isFlag(args[i]!)) dest.push(args[i++]!);
  }
  return [...operands, ...known, ...unknown];
}

/** Makes `cmd` parse its known flags wherever they stand among unknown ones (which end up in `cmd.args`). */
export function toleratingUnknownFlags(cmd: Command): Command {
  const parse = cmd.parseOptions.bind(cmd);
  cmd.parseOptions = (argv: string[]) => parse(knownFlagsFirst(cmd, argv));
  return cmd.allowUnknownOption(true).allowExcessArguments(true);
}
