// Live vs twin agreement (issue: ±10 % on throughput, ±15 % on mean TTFT and E2E at --quick): the ratio twin ÷ live
// of each strategy's medians, and whether it is inside the band.
import type { Summary } from './report.js';

export const BANDS = { throughput_rps: 0.1, ttft_mean_s: 0.15, e2e_mean_s: 0.15 } as const;
type Metric = keyof typeof BANDS;
const METRICS = Object.keys(BANDS) as Metric[];

export interface FidelityRow {
  name: string;
  live: Record<Metric, number>;
  twin: Record<Metric, number>;
  /** twin ÷ live */
  ratio: Record<Metric, number>;
  within: Record<Metric, boolean>;
}

export function fidelityRows(live: readonly Summary[], twin: readonly Summary[]): FidelityRow[] {
  return live.flatMap((l) => {
    const t = twin.find((x) => x.name === l.name);
    if (!t) return [];
    const pick = (s: Summary) => Object.fromEntries(METRICS.map((m) => [m, s[m]])) as Record<Metric, number>;
    const ratio = Object.fromEntries(METRICS.map((m) => [m, l[m] > 0 ? t[m] / l[m] : Number.NaN])) as Record<
      Metric,
      number
    >;
    const within = Object.fromEntries(METRICS.map((m) => [m, Math.abs(ratio[m] - 1) <= BANDS[m]])) as Record<
      Metric,
      boolean
    >;
    return [{ name: l.name, live: pick(l), twin: pick(t), ratio, within }];
  });
}

const cell = (r: FidelityRow, m: Metric) => `${r.ratio[m].toFixed(2)}${r.within[m] ? '' : ' ✗'}`;

export function fidelityTable(rows: readonly FidelityRow[]): string {
  const head = ['strategy', 'thr twin/live', 'TTFT twin/live', 'E2E twin/live'];
  const lines = rows.map((r) => [r.name, ...METRICS.map((m) => cell(r, m))]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  return [head, ...lines].map((l) => l.map((c, i) => c.padEnd(w[i])).join('  ')).join('\n');
}

export function fidelityMarkdown(title: string, meta: string, rows: readonly FidelityRow[]): string {
  let s = `### ${title}\n\n${meta}\n\n| strategy | req/s live → twin | TTFT live → twin (s) | E2E live → twin (s) | twin ÷ live (thr / TTFT / E2E) |\n|---|---|---|---|---|\n`;
  for (const r of rows)
    s += `| ${r.name} | ${r.live.throughput_rps.toFixed(1)} → ${r.twin.throughput_rps.toFixed(1)} | ${r.live.ttft_mean_s.toFixed(3)} → ${r.twin.ttft_mean_s.toFixed(3)} | ${r.live.e2e_mean_s.toFixed(3)} → ${r.twin.e2e_mean_s.toFixed(3)} | ${METRICS.map((m) => cell(r, m)).join(' / ')} |\n`;
  return `${s}\n✗ = outside the band (±10 % throughput, ±15 % TTFT and E2E).\n`;
}
