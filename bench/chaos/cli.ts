// `kthena bench chaos [--seconds 60] [--seed 1] [--concurrency 6] [--faults LIST] [--no-mid-stream-failover] [--json]`
import { type Command, InvalidArgumentError } from 'commander';
import { intArg, positiveArg } from '../../src/cli/args.js';
import { chaosCommand, DEFAULT_KINDS } from './chaos.js';
import { FAULT_KINDS, type FaultKind } from './plan.js';

/** A comma-separated list of fault kinds; unknown names are an error naming the known ones. */
export function parseKinds(v: string): FaultKind[] {
  const kinds = v
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const k of kinds)
    if (!(FAULT_KINDS as readonly string[]).includes(k))
      throw new InvalidArgumentError(`unknown fault "${k}" (known: ${FAULT_KINDS.join(', ')})`);
  if (kinds.length === 0) throw new InvalidArgumentError('--faults needs at least one fault kind');
  return kinds as FaultKind[];
}

export function registerChaos(bench: Command): void {
  bench
    .command('chaos')
    .description(
      'chaos soak: the platform on the local control plane under streaming load, a seeded schedule of faults, invariants checked',
    )
    .option('--seconds <n>', 'load duration (faults every --gap seconds within it)', intArg('--seconds', 1, 86_400), 60)
    .option('--seed <n>', 'seed of the fault schedule', intArg('--seed', 0, 2 ** 32 - 1), 1)
    .option('--concurrency <n>', 'steady streaming clients', intArg('--concurrency', 1, 1000), 6)
    .option('--speedup <x>', 'engine-sim speedup', positiveArg('--speedup'), 2)
    .option('--max-tokens <n>', 'tokens per streamed answer', intArg('--max-tokens', 1, 100_000), 64)
    .option('--gap <s>', 'seconds between fault starts', positiveArg('--gap'), 3)
    .option(
      '--faults <list>',
      `fault kinds, comma separated (default: ${DEFAULT_KINDS.join(',')}; also api-server-restart)`,
      parseKinds,
    )
    .option(
      '--no-mid-stream-failover',
      'run the router without --mid-stream-failover (cut streams then reported, not failed)',
    )
    .option('--json', 'print the result as one JSON line (progress goes to stderr)')
    .option('--out-dir <dir>', 'where the JSON result goes (default: bench/results)')
    .action(
      async (o: {
        seconds: number;
        seed: number;
        concurrency: number;
        speedup: number;
        maxTokens: number;
        gap: number;
        faults?: FaultKind[];
        midStreamFailover: boolean;
        json?: boolean;
        outDir?: string;
      }) => {
        const code = await chaosCommand({
          seconds: o.seconds,
          seed: o.seed,
          concurrency: o.concurrency,
          speedup: o.speedup,
          maxTokens: o.maxTokens,
          gapMs: o.gap * 1000,
          kinds: o.faults ?? DEFAULT_KINDS,
          midStreamFailover: o.midStreamFailover,
          json: Boolean(o.json),
          outDir: o.outDir,
        });
        process.exitCode = code;
      },
    );
}
