// `kthena bench <name>`: each benchmark lives in bench/<name>/cli.ts and adds its own subcommand here.
// Benchmarks sit outside src/ (not part of the compiled package), so they are loaded by a computed specifier at
// start-up; from a build without bench/ the command explains how to run them from the source tree.
import type { Command } from 'commander';

type Registrar = (bench: Command) => void;
const BENCHES: [string, string][] = [['scheduling', '../../bench/scheduling/cli.js']];
const loaded: { name: string; register?: Registrar; error?: string }[] = [];
for (const [name, spec] of BENCHES) {
  try {
    const mod = (await import(spec)) as Record<string, Registrar>;
    loaded.push({ name, register: mod[`register${name[0].toUpperCase()}${name.slice(1)}`] });
  } catch (e) {
    loaded.push({ name, error: (e as Error).message });
  }
}

export function register(program: Command): void {
  const bench = program.command('bench').description('benchmarks (results in bench/results/)');
  for (const b of loaded) {
    if (b.register) b.register(bench);
    else
      bench
        .command(b.name)
        .description(
          `(unavailable in this build: run from the source tree with npx tsx src/cli/main.ts bench ${b.name})`,
        )
        .allowUnknownOption(true)
        .action(() => {
          throw new Error(`bench ${b.name} needs the source tree: ${b.error ?? 'not found'}`);
        });
  }
}
