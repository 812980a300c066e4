// `kthena bench scheduling SCENARIO [--quick|--full] [--strategies a,b] [--runs N] [--json]`
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { getProfile } from '../../src/engine/profiles.js';
import { barSvg, cdfSvg, markdown, medianOf, type Summary, summarize, table } from './report.js';
import { runOnce, startEngineSet } from './run.js';
import { buildScenario, PROFILE, SCENARIOS, type Size, strategyConfigs } from './scenarios.js';

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
}

export function registerScheduling(bench: Command): void {
  bench
    .command('scheduling')
    .description('scheduling quality: strategies side by side on simulated engines (see docs/benchmarks.md)')
    .argument('<scenario>', `one of ${SCENARIOS.join(', ')}`)
    .option('--quick', 'scaled down, engines in slow motion (default)')
    .option('--full', "upstream's size")
    .option('--tiny', 'smallest size, for development')
    .option('--strategies <list>', 'comma-separated strategy names')
    .option(
      '--runs <n>',
      'runs per strategy',
      (v) => {
        const n = Number(v);
        if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('--runs must be a positive integer');
        return n;
      },
      3,
    )
    .option('--groups <n>', 'override the number of prefix groups', (v) => positive('--groups', v))
    .option('--prompts-per-group <n>', 'override prompts per group', (v) => positive('--prompts-per-group', v))
    .option('--json', 'print one JSON summary object as the last stdout line')
    .option('--out <dir>', 'results directory', 'bench/results')
    .action(async (scenario: string, o: Record<string, unknown>) => {
      if (!SCENARIOS.includes(scenario))
        throw new InvalidArgumentError(`unknown scenario "${scenario}" (known: ${SCENARIOS.join(', ')})`);
      const size: Size = o.full ? 'full' : o.tiny ? 'tiny' : 'quick';
      const configs = strategyConfigs(getProfile(PROFILE).blockSize);
      const names = o.strategies
        ? String(o.strategies)
            .split(',')
            .map((s) => s.trim())
        : Object.keys(configs);
      for (const n of names)
        if (!configs[n])
          throw new InvalidArgumentError(`unknown strategy "${n}" (known: ${Object.keys(configs).join(', ')})`);
      const runs = o.runs as number;
      const sc = buildScenario(scenario, size, 1, {
        groups: o.groups as number | undefined,
        promptsPerGroup: o.promptsPerGroup as number | undefined,
      });
      const log = (s: string) => process.stderr.write(`${s}\n`);
      const startLoad = loadavg()[0];
      log(
        `${scenario} (${size}): ${sc.describe}; ${sc.replicas} replicas, ${sc.requests.length} requests, KV ${sc.numGpuBlocks} blocks, speedup ${sc.speedup}; load avg ${startLoad.toFixed(1)} on ${cpus().length} cores`,
      );
      const perStrategy: { name: string; runs: Summary[]; ttfts: number[] }[] = [];
      const set = await startEngineSet(sc);
      try {
        for (const name of names) {
          const entry = { name, runs: [] as Summary[], ttfts: [] as number[] };
          for (let r = 0; r < runs; r++) {
            const t0 = Date.now();
            const out = await runOnce(sc, set, configs[name], (done, total) => {
              if (done % 20 === 0 || done === total)
                process.stderr.write(`\r  ${name} run ${r + 1}/${runs}: ${done}/${total}   `);
            });
            const s = summarize(name, out);
            entry.runs.push(s);
            entry.ttfts.push(...out.results.filter((x) => x.ok).map((x) => x.ttft));
            process.stderr.write(
              `\r  ${name} run ${r + 1}/${runs}: ${s.throughput_rps.toFixed(1)} req/s, TTFT ${s.ttft_mean_s.toFixed(3)} s, E2E ${s.e2e_mean_s.toFixed(3)} s, hit ${(s.cache_hit_rate * 100).toFixed(1)}%, ok ${(s.success_rate * 100).toFixed(0)}% (${((Date.now() - t0) / 1000).toFixed(0)} s wall)\n`,
            );
          }
          perStrategy.push(entry);
        }
      } finally {
        await set.close();
      }
      const medians = perStrategy.map((p) => medianOf(p.runs));
      const endLoad = loadavg()[0];
      process.stderr.write(`\n${table(medians)}\n`);
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const dir = String(o.out);
      await mkdir(dir, { recursive: true });
      const base = join(dir, `scheduling-${scenario}-${size}-${stamp}`);
      const meta = `${sc.describe}; ${sc.replicas} replicas of ${PROFILE} (simulated), ${sc.requests.length} requests, KV ${sc.numGpuBlocks} blocks/replica, engine speedup ${sc.speedup}; ${runs} run(s) per strategy, medians; machine: ${cpus().length} cores, Node ${process.version}, load avg ${startLoad.toFixed(1)} → ${endLoad.toFixed(1)}`;
      const result = {
        scenario,
        size,
        runs,
        meta,
        strategies: medians.map((m) => ({
          name: m.name,
          throughput_rps: m.throughput_rps,
          output_tokens_per_s: m.output_tokens_per_s,
          ttft_mean_s: m.ttft_mean_s,
          ttft_p90_s: m.ttft_p90_s,
          e2e_mean_s: m.e2e_mean_s,
          success_rate: m.success_rate,
          cache_hit_rate: m.cache_hit_rate,
          tpot_mean_s: m.tpot_mean_s,
          itl_mean_s: m.itl_mean_s,
          spread: m.spread,
        })),
        perRun: perStrategy.map((p) => ({ name: p.name, runs: p.runs })),
      };
      await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
      await writeFile(`${base}.md`, markdown(`${scenario} (${size})`, meta, medians));
      await writeFile(
        `${base}-throughput.svg`,
        barSvg(
          `${scenario}: throughput (req/s, simulated)`,
          medians.map((m) => ({ name: m.name, value: m.throughput_rps })),
          'req/s',
        ),
      );
      await writeFile(
        `${base}-ttft.svg`,
        barSvg(
          `${scenario}: mean TTFT (s, simulated)`,
          medians.map((m) => ({ name: m.name, value: m.ttft_mean_s })),
          's',
        ),
      );
      await writeFile(
        `${base}-e2e.svg`,
        barSvg(
          `${scenario}: mean E2E (s, simulated)`,
          medians.map((m) => ({ name: m.name, value: m.e2e_mean_s })),
          's',
        ),
      );
      await writeFile(
        `${base}-ttft-cdf.svg`,
        cdfSvg(
          `${scenario}: TTFT CDF`,
          perStrategy.map((p) => ({ name: p.name, values: p.ttfts })),
        ),
      );
      log(`results: ${base}.{json,md} and -{throughput,ttft,e2e,ttft-cdf}.svg`);
      if (o.json) {
        const { perRun: _p, meta: _m, size: _s, ...short } = result;
        process.stdout.write(
          `${JSON.stringify({ ...short, strategies: short.strategies.map(({ tpot_mean_s: _t, itl_mean_s: _i, spread: _sp, ...rest }) => rest) })}\n`,
        );
      }
    });
}
