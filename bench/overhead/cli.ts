// `kthena bench overhead [--concurrency 1,100,1000] [--streams N] [--chunks 50] [--interval-ms 20]
//   [--compare-with GIT_REV] [--json]`
import { type Command, InvalidArgumentError } from 'commander';
import { overheadCommand } from './overhead.js';

function positiveInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
    return n;
  };
}

function concurrencyList(v: string): number[] {
  const list = v.split(',').map((s) => Number(s.trim()));
  if (list.length === 0 || list.some((n) => !Number.isInteger(n) || n < 1 || n > 100_000))
    throw new InvalidArgumentError('--concurrency takes comma-separated integers from 1 to 100000, e.g. 1,100,1000');
  return list;
}

export function registerOverhead(bench: Command): void {
  bench
    .command('overhead')
    .description('router overhead: direct vs kthena vs nginx (and Portkey when installed), side by side')
    .option('--concurrency <list>', 'concurrent streams per level', concurrencyList, [1, 100, 1000])
    .option('--streams <n>', 'streams per level (default max(30, 3 × concurrency))', positiveInt('--streams'))
    .option('--chunks <n>', 'SSE chunks per stream', positiveInt('--chunks'), 50)
    .option('--interval-ms <n>', 'ms between upstream chunks', positiveInt('--interval-ms'), 20)
    .option('--compare-with <git-rev>', "also run that revision's router, as target kthena-baseline (before/after)")
    .option('--json', 'print one JSON object {"targets": [...]} as the last stdout line')
    .action(
      async (o: {
        concurrency: number[];
        streams?: number;
        chunks: number;
        intervalMs: number;
        compareWith?: string;
        json?: boolean;
      }) => {
        await overheadCommand({ ...o, json: Boolean(o.json) });
      },
    );
}
