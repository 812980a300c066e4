// `kthena bench scheduling SCENARIO [--quick|--full] [--twin] [--strategies a,b] [--runs N] [--seed N] [--json]`
// plus `--fidelity` (live and twin side by side) and `--twin --sweep DIMENSION`. Live runs real processes in slow
// motion; the twin (src/twin) runs the same engines and scheduling path in virtual time. See docs/benchmarks.md.
import { appendFileSync, writeFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { getProfile } from '../../src/engine/index.js';
import type { TwinLatencies } from '../../src/twin/index.js';
import { runDecisionCost } from './decision-cost.js';
import { fidelityMarkdown, fidelityRows, fidelityTable } from './fidelity.js';
import { barSvg, cdfSvg, lineSvg, markdown, medianOf, type Summary, summarize, table } from './report.js';
import { type RunOutcome, runOnce, startEngineSet } from './run.js';
import {
  buildScenario,
  SCENARIOS,
  type Scenario,
  type ScenarioOverrides,
  type Size,
  strategyConfigs,
} from './scenarios.js';
import { runSweep, SWEEPS } from './sweep.js';
import { runTwinOnce } from './twin-run.js';

function positive(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${flag} must be a positive integer`);
  return n;
}

function nonNegative(flag: string, v: string): number {
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) throw new InvalidArgumentError(`${flag} must be a number ≥ 0`);
  return n;
}

type Mode = 'live' | 'twin';

interface StrategyRuns {
  name: string;
  runs: Summary[];
  ttfts: number[];
}

/**
 * Runs every strategy `runs` times through `runOne`; logs one line per run. `wave`: the scenario's client concurrency,
 * whose first requests form the opening wave that the steady-state columns leave out.
 */
async function runStrategies(
  wave: number,
  names: string[],
  runs: number,
  runOne: (name: string, run: number, onProgress: (d: number, t: number) => void) => Promise<RunOutcome>,
): Promise<StrategyRuns[]> {
  const out: StrategyRuns[] = [];
  for (const name of names) {
    const entry: StrategyRuns = { name, runs: [], ttfts: [] };
    for (let r = 0; r < runs; r++) {
      const res = await runOne(name, r, (done, total) => {
        if (done % 20 === 0 || done === total)
          process.stderr.write(`\r  ${name} run ${r + 1}/${runs}: ${done}/${total}   `);
      });
      const s = summarize(name, res, wave);
      entry.runs.push(s);
      entry.ttfts.push(...res.results.filter((x) => x.ok).map((x) => x.ttft));
      process.stderr.write(
        `\r  ${name} run ${r + 1}/${runs}: ${s.throughput_rps.toFixed(1)} req/s, TTFT ${s.ttft_mean_s.toFixed(3)} s, E2E ${s.e2e_mean_s.toFixed(3)} s, hit ${(s.cache_hit_rate * 100).toFixed(1)}%, ok ${(s.success_rate * 100).toFixed(0)}%\n`,
      );
    }
    out.push(entry);
  }
  return out;
}

/** Live: one engine set for the scenario, a fresh router per run. */
async function runLive(sc: Scenario, names: string[], runs: number, configs: Record<string, string>) {
  const set = await startEngineSet(sc);
  try {
    return await runStrategies(sc.maxConcurrency, names, runs, (name, _r, onProgress) =>
      runOnce(sc, set, configs[name], onProgress),
    );
  } finally {
    await set.close();
  }
}

/** Twin: run r uses dataset and scheduler seed `seed + r` (runs differ by their draws, not by the machine). */
function runTwinAll(
  scenario: string,
  size: Size,
  over: ScenarioOverrides,
  seed: number,
  names: string[],
  runs: number,
  configs: Record<string, string>,
  latencies: Partial<TwinLatencies>,
  trace: string | undefined,
) {
  if (trace) writeFileSync(trace, '');
  const wave = buildScenario(scenario, size, seed, over).maxConcurrency;
  return runStrategies(wave, names, runs, (name, r, onProgress) =>
    runTwinOnce(buildScenario(scenario, size, seed + r, over), configs[name], seed + r, {
      latencies,
      onProgress,
      onDecision: trace
        ? (t) => appendFileSync(trace, `${JSON.stringify({ strategy: name, run: r, ...t })}\n`)
        : undefined,
    }),
  );
}

const shortRow = (m: Summary & { spread: Record<string, [number, number]> }) => ({
  name: m.name,
  throughput_rps: m.throughput_rps,
  output_tokens_per_s: m.output_tokens_per_s,
  ttft_mean_s: m.ttft_mean_s,
  ttft_p90_s: m.ttft_p90_s,
  e2e_mean_s: m.e2e_mean_s,
  success_rate: m.success_rate,
  cache_hit_rate: m.cache_hit_rate,
  ttft_mean_steady_s: m.ttft_mean_steady_s,
  e2e_mean_steady_s: m.e2e_mean_steady_s,
  tpot_mean_s: m.tpot_mean_s,
  itl_mean_s: m.itl_mean_s,
  spread: m.spread,
});

async function writeCharts(base: string, scenario: string, medians: Summary[], perStrategy: StrategyRuns[]) {
  const bar = (metric: 'throughput_rps' | 'ttft_mean_s' | 'e2e_mean_s', what: string, unit: string) =>
    barSvg(
      `${scenario}: ${what} (${unit}, simulated)`,
      medians.map((m) => ({ name: m.name, value: m[metric] })),
      unit,
    );
  await writeFile(`${base}-throughput.svg`, bar('throughput_rps', 'throughput', 'req/s'));
  await writeFile(`${base}-ttft.svg`, bar('ttft_mean_s', 'mean TTFT', 's'));
  await writeFile(`${base}-e2e.svg`, bar('e2e_mean_s', 'mean E2E', 's'));
  await writeFile(
    `${base}-ttft-cdf.svg`,
    cdfSvg(
      `${scenario}: TTFT CDF`,
      perStrategy.map((p) => ({ name: p.name, values: p.ttfts })),
    ),
  );
}

export function registerScheduling(bench: Command): void {
  bench
    .command('decision-cost')
    .description(
      "CPU per scheduling decision of the default scorer at 3/16/100/256 candidates and 1k/4k/16k-token prompts, and the KV index's memory",
    )
    .option('--runs <n>', 'repetitions (median reported)', (v) => positive('--runs', v), 3)
    .option('--decisions <n>', 'decisions per repetition', (v) => positive('--decisions', v), 200)
    .option('--json', 'print the result as the last stdout line')
    .option('--out <dir>', 'results directory', 'bench/results')
    .action(async (o: { runs: number; decisions: number; json?: boolean; out: string }) =>
      runDecisionCost({ runs: o.runs, decisions: o.decisions, out: o.out, json: Boolean(o.json) }),
    );
  bench
    .command('scheduling')
    .description(
      'scheduling quality: strategies side by side on simulated engines, live or in the twin (docs/benchmarks.md)',
    )
    .argument('<scenario>', `one of ${SCENARIOS.join(', ')}`)
    .option('--quick', 'scaled down, engines in slow motion (default)')
    .option('--full', "upstream's size")
    .option('--tiny', 'smallest size, for development')
    .option('--twin', 'run in the virtual-time twin instead of live processes (deterministic for a seed)')
    .option('--fidelity', 'run live and twin side by side and report twin/live per metric (needs a quiet machine)')
    .option('--sweep <dimension>', `twin only: sweep one of ${Object.keys(SWEEPS).join(', ')}`)
    .option('--strategies <list>', 'comma-separated strategy names')
    .option('--runs <n>', 'runs per strategy', (v) => positive('--runs', v), 3)
    .option('--seed <n>', 'twin: dataset and scheduler seed of the first run', (v) => positive('--seed', v), 1)
    .option('--groups <n>', 'override the number of prefix groups', (v) => positive('--groups', v))
    .option('--prompts-per-group <n>', 'override prompts per group', (v) => positive('--prompts-per-group', v))
    .option('--net-latency-ms <ms>', 'twin: each network hop', (v) => nonNegative('--net-latency-ms', v))
    .option('--router-latency-ms <ms>', "twin: the router's own time per request", (v) =>
      nonNegative('--router-latency-ms', v),
    )
    .option('--kv-event-delay-ms <ms>', 'twin: engine step → KV events in the index', (v) =>
      nonNegative('--kv-event-delay-ms', v),
    )
    .option('--scrape-interval-ms <ms>', 'twin: metrics scrape interval', (v) => positive('--scrape-interval-ms', v))
    .option(
      '--trace <file>',
      "twin: write every decision (the latency predictor's view of each candidate) as JSON lines",
    )
    .option('--json', 'print one JSON summary object as the last stdout line')
    .option('--out <dir>', 'results directory', 'bench/results')
    .action(async (scenario: string, o: Record<string, unknown>) => {
      if (!SCENARIOS.includes(scenario))
        throw new InvalidArgumentError(`unknown scenario "${scenario}" (known: ${SCENARIOS.join(', ')})`);
      const mode: Mode = o.twin ? 'twin' : 'live';
      if (o.sweep !== undefined && (!o.twin || !SWEEPS[String(o.sweep)]))
        throw new InvalidArgumentError(`--sweep needs --twin and one of ${Object.keys(SWEEPS).join(', ')}`);
      if (o.fidelity && o.twin) throw new InvalidArgumentError('--fidelity runs both modes; drop --twin');
      const size: Size = o.full ? 'full' : o.tiny ? 'tiny' : 'quick';
      const seed = o.seed as number;
      const over: ScenarioOverrides = {
        groups: o.groups as number | undefined,
        promptsPerGroup: o.promptsPerGroup as number | undefined,
      };
      const sc = buildScenario(scenario, size, seed, over);
      const configs = strategyConfigs(getProfile(sc.profile).blockSize);
      const names = o.strategies
        ? String(o.strategies)
            .split(',')
            .map((s) => s.trim())
        : Object.keys(configs);
      for (const n of names)
        if (!configs[n])
          throw new InvalidArgumentError(`unknown strategy "${n}" (known: ${Object.keys(configs).join(', ')})`);
      const runs = o.runs as number;
      const ms = (k: string) => (o[k] === undefined ? undefined : (o[k] as number) / 1000);
      const latencies: Partial<TwinLatencies> = Object.fromEntries(
        Object.entries({
          networkSec: ms('netLatencyMs'),
          routerSec: ms('routerLatencyMs'),
          kvEventDelaySec: ms('kvEventDelayMs'),
          scrapeIntervalSec: ms('scrapeIntervalMs'),
        }).filter(([, v]) => v !== undefined),
      );
      const log = (s: string) => process.stderr.write(`${s}\n`);
      const startLoad = loadavg()[0];
      const dir = String(o.out);
      await mkdir(dir, { recursive: true });
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const machine = `machine: ${cpus().length} cores, Node ${process.version}`;

      if (o.sweep) {
        const dim = String(o.sweep);
        log(`${scenario} sweep over ${dim} (${size}, twin): strategies ${names.join(', ')}`);
        const points = await runSweep({ scenario, dimension: dim, size, seed, names, configs, log });
        const base = join(dir, `scheduling-sweep-${scenario}-${dim}-${size}-${stamp}`);
        const result = { scenario, sweep: dim, size, seed, mode: 'twin' as const, points };
        await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
        const ratio = (p: (typeof points)[number], n: string) => {
          const r = p.strategies.find((s) => s.name === 'random')?.throughput_rps ?? 1;
          return (p.strategies.find((s) => s.name === n)?.throughput_rps ?? 0) / r;
        };
        await writeFile(
          `${base}.svg`,
          lineSvg(
            `${scenario}: throughput vs random as ${SWEEPS[dim].label} grow (twin, ${size})`,
            SWEEPS[dim].label,
            'throughput ÷ random',
            points.map((p) => p.value),
            names.map((n) => ({ name: n, ys: points.map((p) => ratio(p, n)) })),
          ),
        );
        log(`results: ${base}.{json,svg}`);
        if (o.json) process.stdout.write(`${JSON.stringify(result)}\n`);
        return;
      }

      log(
        `${scenario} (${size}, ${o.fidelity ? 'live + twin' : mode}): ${sc.describe}; ${sc.replicas} replicas, ${sc.requests.length} requests, KV ${sc.numGpuBlocks} blocks; load avg ${startLoad.toFixed(1)} on ${cpus().length} cores`,
      );
      if (o.fidelity) {
        log('live:');
        const live = (await runLive(sc, names, runs, configs)).map((p) => medianOf(p.runs));
        // The live router scrapes every wall second = `speedup` simulated seconds; the twin matches it unless told.
        log('twin (same dataset as live, scrapes every live-equivalent interval):');
        const twin = (
          await runStrategies(sc.maxConcurrency, names, runs, (name) =>
            runTwinOnce(sc, configs[name], seed, { latencies: { scrapeIntervalSec: sc.speedup, ...latencies } }),
          )
        ).map((p) => medianOf(p.runs));
        const endLoad = loadavg()[0];
        const rows = fidelityRows(live, twin);
        process.stderr.write(`\n${fidelityTable(rows)}\n`);
        const meta = `${sc.describe}; ${runs} run(s) per strategy and mode, medians; ${machine}, load avg ${startLoad.toFixed(1)} → ${endLoad.toFixed(1)}`;
        const base = join(dir, `scheduling-fidelity-${scenario}-${size}-${stamp}`);
        const result = { scenario, size, runs, meta, rows, live: live.map(shortRow), twin: twin.map(shortRow) };
        await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
        await writeFile(`${base}.md`, fidelityMarkdown(`${scenario} (${size}): twin ÷ live`, meta, rows));
        log(`results: ${base}.{json,md}`);
        if (o.json) process.stdout.write(`${JSON.stringify({ scenario, size, runs, rows })}\n`);
        return;
      }

      const trace = o.trace === undefined ? undefined : String(o.trace);
      const perStrategy =
        mode === 'twin'
          ? await runTwinAll(scenario, size, over, seed, names, runs, configs, latencies, trace)
          : await runLive(sc, names, runs, configs);
      const medians = perStrategy.map((p) => medianOf(p.runs));
      const endLoad = loadavg()[0];
      process.stderr.write(`\n${table(medians)}\n`);
      const base = join(dir, `scheduling-${scenario}-${size}${mode === 'twin' ? '-twin' : ''}-${stamp}`);
      // The twin's figures do not depend on the machine's load, so its meta leaves the load out (and stays identical).
      const meta =
        mode === 'twin'
          ? `${sc.describe}; ${sc.replicas} replicas of ${sc.profile} (simulated), ${sc.requests.length} requests, KV ${sc.numGpuBlocks} blocks/replica; twin (virtual time), seeds ${seed}…${seed + runs - 1}; ${runs} run(s) per strategy, medians`
          : `${sc.describe}; ${sc.replicas} replicas of ${sc.profile} (simulated), ${sc.requests.length} requests, KV ${sc.numGpuBlocks} blocks/replica, engine speedup ${sc.speedup}; ${runs} run(s) per strategy, medians; ${machine}, load avg ${startLoad.toFixed(1)} → ${endLoad.toFixed(1)}`;
      const result = {
        scenario,
        size,
        mode,
        runs,
        ...(mode === 'twin' ? { seed } : {}),
        meta,
        strategies: medians.map(shortRow),
        perRun: perStrategy.map((p) => ({ name: p.name, runs: p.runs })),
      };
      await writeFile(`${base}.json`, `${JSON.stringify(result, null, 2)}\n`);
      await writeFile(`${base}.md`, markdown(`${scenario} (${size}, ${mode})`, meta, medians));
      await writeCharts(base, scenario, medians, perStrategy);
      log(`results: ${base}.{json,md} and -{throughput,ttft,e2e,ttft-cdf}.svg`);
      if (o.json) {
        const { perRun: _p, meta: _m, size: _s, ...short } = result;
        process.stdout.write(
          `${JSON.stringify({ ...short, strategies: short.strategies.map(({ tpot_mean_s: _t, itl_mean_s: _i, spread: _sp, ...rest }) => rest) })}\n`,
        );
      }
    });
}
