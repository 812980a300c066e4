// `kthena bench autoscaling [--seed N] [--cold-start S] [--policies a,b] [--json]`: the reference trace through a fleet
// of simulated engines in virtual time (src/twin/fleet.ts), once per policy; see docs/autoscaling.md.
import { mkdir, writeFile } from 'node:fs/promises';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { Fleet } from '../../src/twin/index.js';
import {
  type BenchParams,
  type BenchPolicy,
  controllerPolicy,
  kthenaManifest,
  oracle,
  staticMean,
  staticPeak,
  upstreamManifest,
} from './policies.js';
import { chartSvg, markdown, type PolicyResult, summarize, table } from './report.js';
import { buildTrace, REFERENCE_TRACE } from './trace.js';

/** The engines: Llama-3.1-70B on 4 H100s (tensor parallel 4), vLLM defaults. */
export const PROFILE = 'llama-3.1-70b-tp4-h100';
export const GPUS_PER_REPLICA = 4;
/**
 * Requests per second one replica serves with TTFT p99 within the SLO on this trace's request sizes (prompt 256–768,
 * output 64–192 tokens), measured in the twin with one engine under Poisson load: p99 0.63 s at 18 req/s, 0.99 s
 * at 20 req/s. Static provisioning and the oracle size replicas by it.
 */
export const CAPACITY_RPS = 18;
export const SLO_TTFT_SEC = 1;
export const MAX_REPLICAS = 12;
export const POLICIES = ['static-peak', 'static-mean', 'upstream', 'kthena', 'oracle'] as const;

function nonNegativeInt(flag: string) {
  return (v: string): number => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError(`${flag} must be an integer ≥ 0`);
    return n;
  };
}

function policyOf(name: string, p: BenchParams): BenchPolicy {
  switch (name) {
    case 'static-peak':
      return staticPeak(p);
    case 'static-mean':
      return staticMean(p);
    case 'oracle':
      return oracle(p);
    case 'upstream':
      return controllerPolicy('upstream', upstreamManifest(p.maxReplicas));
    case 'kthena':
      return controllerPolicy('kthena', kthenaManifest(p.maxReplicas, p.sloTtftSec));
    default:
      throw new InvalidArgumentError(`unknown policy ${name} (known: ${POLICIES.join(', ')})`);
  }
}

export interface AutoscalingBenchOptions {
  seed: number;
  coldStartSec: number;
  policies: string[];
  json: boolean;
  bursts?: number;
  outDir?: string;
}

export async function autoscalingCommand(o: AutoscalingBenchOptions): Promise<void> {
  const spec =
    o.bursts === undefined || o.bursts === REFERENCE_TRACE.bursts
      ? REFERENCE_TRACE
      : { ...REFERENCE_TRACE, name: `${REFERENCE_TRACE.name}-${o.bursts}-bursts`, bursts: o.bursts };
  const trace = buildTrace(spec, o.seed);
  const params: BenchParams = {
    trace,
    capacityRps: CAPACITY_RPS,
    coldStartSec: o.coldStartSec,
    sloTtftSec: SLO_TTFT_SEC,
    maxReplicas: MAX_REPLICAS,
  };
  const log = (s: string) => process.stderr.write(`${s}\n`);
  log(
    `trace ${trace.spec.name} seed ${o.seed}: ${trace.arrivals.length} requests over ${trace.spec.daySec} s of virtual time ` +
      `(one day, 60× compressed), bursts at ${trace.bursts.map((b) => `${Math.round(b.start)}–${Math.round(b.end)} s +${Math.round(b.lift * 100)}%`).join(', ')}; ` +
      `cold start ${o.coldStartSec} s, SLO TTFT ≤ ${SLO_TTFT_SEC} s`,
  );
  const results: PolicyResult[] = [];
  const series: { name: string; timeline: import('../../src/twin/index.js').FleetSample[] }[] = [];
  const load0 = loadavg()[0]!;
  const started = performance.now();
  for (const name of o.policies) {
    const policy = policyOf(name, params);
    const t0 = performance.now();
    const fleet = new Fleet({
      model: 'meta-llama/Llama-3.1-70B-Instruct',
      profile: PROFILE,
      gpusPerReplica: GPUS_PER_REPLICA,
      coldStartSec: o.coldStartSec,
      initialReplicas: policy.initial,
      warmAtStart: true,
      arrivals: trace.arrivals,
      control: policy.control,
      seed: o.seed,
    });
    const out = await fleet.run();
    const r = summarize(name, out, SLO_TTFT_SEC, GPUS_PER_REPLICA);
    results.push(r);
    series.push({ name, timeline: out.timeline });
    log(
      `  ${name}: attainment ${(r.slo_attainment * 100).toFixed(2)}%, ${r.gpu_seconds} GPU-s, ${r.scale_events} scale events, ` +
        `${r.lost_requests} lost (${((performance.now() - t0) / 1000).toFixed(1)} s wall)`,
    );
  }
  const wallSec = (performance.now() - started) / 1000;
  console.log(table(results));

  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const dir = o.outDir ?? join(process.cwd(), 'bench', 'results');
  await mkdir(dir, { recursive: true });
  const base = join(dir, `autoscaling-seed${o.seed}-${stamp}`);
  const meta =
    `Trace \`${trace.spec.name}\` (seed ${o.seed}): ${trace.arrivals.length} requests, one day compressed into ` +
    `${trace.spec.daySec} s of virtual time; ${PROFILE} replicas (${GPUS_PER_REPLICA} GPUs each), cold start ` +
    `${o.coldStartSec} s, SLO TTFT ≤ ${SLO_TTFT_SEC} s, one replica ≈ ${CAPACITY_RPS} req/s within it.`;
  const summary = {
    trace: trace.spec.name,
    slo_ttft_s: SLO_TTFT_SEC,
    policies: results.map((r) => ({
      name: r.name,
      slo_attainment: r.slo_attainment,
      gpu_seconds: r.gpu_seconds,
      scale_events: r.scale_events,
      lost_requests: r.lost_requests,
    })),
  };
  const full = {
    ...summary,
    seed: o.seed,
    cold_start_s: o.coldStartSec,
    day_s: trace.spec.daySec,
    requests: trace.arrivals.length,
    bursts: trace.bursts,
    profile: PROFILE,
    gpus_per_replica: GPUS_PER_REPLICA,
    capacity_rps: CAPACITY_RPS,
    details: results,
    manifests: Object.fromEntries(o.policies.map((n) => [n, policyOf(n, params).manifest]).filter(([, m]) => m)),
    timelines: Object.fromEntries(series.map((s) => [s.name, s.timeline])),
    machine: { cores: cpus().length, node: process.version, loadavg_before: load0, loadavg_after: loadavg()[0] },
    wall_s: wallSec,
  };
  await writeFile(`${base}.json`, `${JSON.stringify(full, null, 1)}\n`);
  await writeFile(`${base}.md`, markdown(meta, results));
  await writeFile(
    `${base}.svg`,
    chartSvg(
      `Replicas and load over one day (seed ${o.seed}, cold start ${o.coldStartSec} s)`,
      series,
      CAPACITY_RPS,
      trace.spec.daySec,
    ),
  );
  log(`results: ${base}.json ${base}.md ${base}.svg (${wallSec.toFixed(0)} s wall)`);
  if (o.json) console.log(JSON.stringify(summary));
}

export function registerAutoscaling(bench: Command): void {
  bench
    .command('autoscaling')
    .description('autoscaling policies side by side on a seeded daily trace with bursts, in the virtual-time twin')
    .option('--seed <n>', 'trace seed', nonNegativeInt('--seed'), 1)
    .option(
      '--cold-start <s>',
      'seconds (virtual) from a scale-up to a ready replica',
      nonNegativeInt('--cold-start'),
      60,
    )
    .option(
      '--bursts <n>',
      `flash crowds in the day (reference: ${REFERENCE_TRACE.bursts})`,
      nonNegativeInt('--bursts'),
    )
    .option('--policies <list>', `comma-separated subset of ${POLICIES.join(',')}`, POLICIES.join(','))
    .option('--out <dir>', 'results directory (default bench/results)')
    .option('--json', 'print one JSON object as the last stdout line')
    .action(
      async (o: {
        seed: number;
        coldStart: number;
        bursts?: number;
        policies: string;
        out?: string;
        json?: boolean;
      }) => {
        const policies = o.policies.split(',').filter(Boolean);
        for (const p of policies)
          if (!(POLICIES as readonly string[]).includes(p))
            throw new InvalidArgumentError(`unknown policy ${p} (known: ${POLICIES.join(', ')})`);
        await autoscalingCommand({
          seed: o.seed,
          coldStartSec: o.coldStart,
          policies,
          json: Boolean(o.json),
          outDir: o.out,
          bursts: o.bursts,
        });
      },
    );
}
