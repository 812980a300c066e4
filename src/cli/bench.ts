// `kthena bench <name>`: each benchmark lives in bench/<name>/cli.ts and adds its own subcommand here.
// Benchmarks sit outside src/ (they are development tools, not part of the compiled package) and run from the source
// tree through tsx. From the built CLI (dist/), `kthena bench …` re-runs itself from the source tree when it is there.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';

type Registrar = (bench: Command) => void;
const BENCHES: [string, string][] = [
  ['scheduling', '../../bench/scheduling/cli.js'],
  ['overhead', '../../bench/overhead/cli.js'],
  ['fairness', '../../bench/fairness/cli.js'],
  ['autoscaling', '../../bench/autoscaling/cli.js'],
  ['chaos', '../../bench/chaos/cli.js'],
];

const here = fileURLToPath(import.meta.url);
const builtMode = here.endsWith('.js');
const sourceEntry = join(dirname(here), '..', '..', 'src', 'cli', 'main.ts');

const loaded: { name: string; register?: Registrar; error?: string }[] = [];
if (!builtMode) {
  for (const [name, spec] of BENCHES) {
    try {
      const mod = (await import(spec)) as Record<string, Registrar>;
      loaded.push({ name, register: mod[`register${name[0].toUpperCase()}${name.slice(1)}`] });
    } catch (e) {
      loaded.push({ name, error: (e as Error).message });
    }
  }
}

/** Runs `kthena bench …` from the source tree under tsx and exits with its status. */
function rerunFromSource(): never {
  if (!existsSync(sourceEntry)) {
    throw new Error(`benchmarks run from the source tree; ${sourceEntry} is not there (clone the repository)`);
  }
  const args = process.argv.slice(process.argv.indexOf('bench'));
  const r = spawnSync(process.execPath, ['--import', 'tsx', sourceEntry, ...args], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

export function register(program: Command): void {
  const bench = program.command('bench').description('benchmarks (results in bench/results/)');
  if (builtMode) {
    bench
      .helpOption(false)
      .allowUnknownOption(true)
      .allowExcessArguments(true)
      .argument('[args...]')
      .action(() => rerunFromSource());
    return;
  }
  for (const b of loaded) {
    if (b.register) b.register(bench);
    else
      bench
        .command(b.name)
        .description(`(unavailable: ${b.error ?? 'not found'})`)
        .allowUnknownOption(true)
        .action(() => {
          throw new Error(`bench ${b.name} failed to load: ${b.error ?? 'not found'}`);
        });
  }
}
