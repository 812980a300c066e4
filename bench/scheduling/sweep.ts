// `kthena bench scheduling SCENARIO --twin --sweep DIMENSION`: one twin run per point of one dimension (replicas,
// groups, prefix length, offered load), every strategy at each point; a table of throughput vs random and a line chart
// of how each strategy's advantage changes with scale. Replicas scale the groups and the client concurrency with them
// (the same load per replica), so the chart shows scale, not overload.
import { type Summary, summarize } from './report.js';
import { buildScenario, type ScenarioOverrides, type Size } from './scenarios.js';
import { runTwinOnce } from './twin-run.js';

export const SWEEPS: Record<
  string,
  { label: string; points: number[]; over: (v: number, size: Size) => ScenarioOverrides }
> = {
  replicas: {
    label: 'replicas',
    points: [2, 4, 8, 16, 32, 64],
    over: (v, size) => ({ replicas: v, groups: Math.max(4, Math.round(((size === 'full' ? 256 : 16) * v) / 3)) }),
  },
  groups: { label: 'prefix groups', points: [8, 16, 32, 64, 128, 256], over: (v) => ({ groups: v }) },
  prefix: {
    label: 'shared prefix (tokens)',
    points: [256, 512, 1024, 2048, 4096, 8192],
    over: (v) => ({ systemLen: v }),
  },
  load: { label: 'offered load (req/s)', points: [25, 50, 100, 200, 400, 800], over: (v) => ({ rate: v }) },
};

export interface SweepPoint {
  value: number;
  requests: number;
  strategies: Summary[];
}

export async function runSweep(o: {
  scenario: string;
  dimension: string;
  size: Size;
  seed: number;
  names: string[];
  configs: Record<string, string>;
  log: (s: string) => void;
}): Promise<SweepPoint[]> {
  const sw = SWEEPS[o.dimension];
  const out: SweepPoint[] = [];
  for (const v of sw.points) {
    const sc = buildScenario(o.scenario, o.size, o.seed, sw.over(v, o.size));
    const strategies: Summary[] = [];
    for (const name of o.names)
      strategies.push(summarize(name, await runTwinOnce(sc, o.configs[name], o.seed), sc.maxConcurrency));
    const base = strategies.find((s) => s.name === 'random');
    o.log(
      `  ${sw.label} ${v}: ${sc.requests.length} requests; ${strategies
        .map(
          (s) =>
            `${s.name} ${s.throughput_rps.toFixed(1)}${base ? ` (${(s.throughput_rps / base.throughput_rps).toFixed(2)}×)` : ''}`,
        )
        .join(', ')}`,
    );
    out.push({ value: v, requests: sc.requests.length, strategies });
  }
  return out;
}
