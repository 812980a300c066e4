// `kthena bench fairness [--seconds 10] [--heavy 12] [--light 2] [--max-concurrent 4] [--speedup 5] [--json]`
import { type Command, InvalidArgumentError } from 'commander';
import { fairnessCommand } from './fairness.js';

function positive(flag: string, integer = true) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n)))
      throw new InvalidArgumentError(`${flag} must be a positive ${integer ? 'integer' : 'number'}`);
    return n;
  };
}

export function registerFairness(bench: Command): void {
  bench
    .command('fairness')
    .description('fair scheduling: heavy vs light tenant, per-tenant TTFT and Jain index, FIFO vs fair side by side')
    .option('--seconds <n>', 'load duration per mode', positive('--seconds'), 10)
    .option('--heavy <n>', 'concurrent requests of the heavy tenant', positive('--heavy'), 12)
    .option('--light <n>', 'concurrent requests of the light tenant', positive('--light'), 2)
    .option('--max-concurrent <n>', 'FAIRNESS_MAX_CONCURRENT', positive('--max-concurrent'), 4)
    .option('--speedup <x>', 'engine-sim speedup', positive('--speedup', false), 5)
    .option('--json', 'print one JSON object as the last stdout line')
    .action(
      async (o: {
        seconds: number;
        heavy: number;
        light: number;
        maxConcurrent: number;
        speedup: number;
        json?: boolean;
      }) => {
        await fairnessCommand({
          seconds: o.seconds,
          heavyConcurrency: o.heavy,
          lightConcurrency: o.light,
          maxConcurrent: o.maxConcurrent,
          speedup: o.speedup,
          json: Boolean(o.json),
        });
      },
    );
}
