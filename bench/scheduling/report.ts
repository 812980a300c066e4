// Summaries, terminal table, Markdown and SVG charts for the scheduling benchmark.
import { barChart, cdfChart, lineChart } from '../charts.js';
import type { RequestResult } from './loadgen.js';
import type { RunOutcome } from './run.js';

export interface Summary {
  name: string;
  throughput_rps: number;
  output_tokens_per_s: number;
  ttft_mean_s: number;
  ttft_p90_s: number;
  e2e_mean_s: number;
  tpot_mean_s: number;
  itl_mean_s: number;
  success_rate: number;
  cache_hit_rate: number;
  /**
   * TTFT and E2E means over the requests sent after the opening wave (the first `maxConcurrency` requests of a
   * closed-loop run, which all arrive at once on cold caches). Every strategy, the oracle included, pays the same
   * irreducible cold prefill in that wave, and it dominates the whole-run means at full size; these columns show what
   * routing changes. Equal to the whole-run means when the run has no wave (open-loop scenarios).
   */
  ttft_mean_steady_s: number;
  e2e_mean_steady_s: number;
}

const mean = (a: number[]) => (a.length ? a.reduce((x, y) => x + y, 0) / a.length : 0);
export const quantile = (a: number[], q: number) => {
  if (!a.length) return 0;
  const s = [...a].sort((x, y) => x - y);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
};

/** `wave`: how many leading requests form the opening wave (the scenario's client concurrency; 0 for none). */
export function summarize(name: string, run: RunOutcome, wave = 0): Summary {
  const ok = run.results.filter((r) => r.ok);
  const steady = (wave > 0 && wave < run.results.length ? run.results.slice(wave) : run.results).filter((r) => r.ok);
  const tpots = ok.filter((r) => r.outputTokens > 1).map((r) => (r.e2e - r.ttft) / (r.outputTokens - 1));
  const prompt = ok.reduce((a, r) => a + r.promptTokens, 0);
  return {
    name,
    throughput_rps: ok.length / run.durationSec,
    output_tokens_per_s: ok.reduce((a, r) => a + r.outputTokens, 0) / run.durationSec,
    ttft_mean_s: mean(ok.map((r) => r.ttft)),
    ttft_p90_s: quantile(
      ok.map((r) => r.ttft),
      0.9,
    ),
    e2e_mean_s: mean(ok.map((r) => r.e2e)),
    tpot_mean_s: mean(tpots),
    itl_mean_s: mean(ok.flatMap((r) => r.itls)),
    success_rate: run.results.length ? ok.length / run.results.length : 0,
    cache_hit_rate: prompt ? ok.reduce((a, r) => a + r.cachedTokens, 0) / prompt : 0,
    ttft_mean_steady_s: mean(steady.map((r) => r.ttft)),
    e2e_mean_steady_s: mean(steady.map((r) => r.e2e)),
  };
}

/** Median of each field over runs, plus min–max spread. */
export function medianOf(runs: Summary[]): Summary & { spread: Record<string, [number, number]> } {
  const keys = Object.keys(runs[0]).filter((k) => k !== 'name') as (keyof Omit<Summary, 'name'>)[];
  const out = { name: runs[0].name, spread: {} as Record<string, [number, number]> } as Summary & {
    spread: Record<string, [number, number]>;
  };
  for (const k of keys) {
    const v = runs.map((r) => r[k]).sort((a, b) => a - b);
    out[k] = v[Math.floor((v.length - 1) / 2)] + (v.length % 2 ? 0 : (v[v.length / 2] - v[v.length / 2 - 1]) / 2);
    out.spread[k] = [v[0], v[v.length - 1]];
  }
  return out;
}

const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '-');

export function table(rows: Summary[], baseline = 'random'): string {
  const base = rows.find((r) => r.name === baseline);
  const head = [
    'strategy',
    'req/s',
    'out tok/s',
    'TTFT mean',
    'TTFT p90',
    'E2E mean',
    'TTFT/E2E steady',
    'TPOT',
    'success',
    'cache hit',
    'vs random',
  ];
  const lines = rows.map((r) => [
    r.name,
    f(r.throughput_rps, 1),
    f(r.output_tokens_per_s, 0),
    f(r.ttft_mean_s),
    f(r.ttft_p90_s),
    f(r.e2e_mean_s),
    `${f(r.ttft_mean_steady_s)} / ${f(r.e2e_mean_steady_s)}`,
    f(r.tpot_mean_s, 4),
    `${f(r.success_rate * 100, 1)}%`,
    `${f(r.cache_hit_rate * 100, 1)}%`,
    base
      ? `${f(r.throughput_rps / base.throughput_rps, 2)}× / TTFT ${pct(r.ttft_mean_s, base.ttft_mean_s)} / E2E ${pct(r.e2e_mean_s, base.e2e_mean_s)}`
      : '',
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i].length)));
  const fmt = (l: string[]) => l.map((c, i) => c.padEnd(w[i])).join('  ');
  return [fmt(head), ...lines.map(fmt)].join('\n');
}

const pct = (v: number, b: number) => `${v >= b ? '+' : ''}${f(((v - b) / b) * 100, 1)}%`;

export function markdown(title: string, meta: string, rows: Summary[]): string {
  const base = rows.find((r) => r.name === 'random');
  let s = `### ${title}\n\n${meta}\n\n| strategy | req/s | output tok/s | TTFT mean (s) | TTFT p90 (s) | E2E mean (s) | TTFT / E2E steady (s) | success | cache hit | vs random (thr / TTFT / E2E) | steady vs random (TTFT / E2E) |\n|---|---|---|---|---|---|---|---|---|---|---|\n`;
  for (const r of rows)
    s += `| ${r.name} | ${f(r.throughput_rps, 1)} | ${f(r.output_tokens_per_s, 0)} | ${f(r.ttft_mean_s)} | ${f(r.ttft_p90_s)} | ${f(r.e2e_mean_s)} | ${f(r.ttft_mean_steady_s)} / ${f(r.e2e_mean_steady_s)} | ${f(r.success_rate * 100, 1)}% | ${f(r.cache_hit_rate * 100, 1)}% | ${base ? `${f(r.throughput_rps / base.throughput_rps, 2)}× / ${pct(r.ttft_mean_s, base.ttft_mean_s)} / ${pct(r.e2e_mean_s, base.e2e_mean_s)}` : ''} | ${base ? `${pct(r.ttft_mean_steady_s, base.ttft_mean_steady_s)} / ${pct(r.e2e_mean_steady_s, base.e2e_mean_steady_s)}` : ''} |\n`;
  return s;
}

/** Horizontal bar chart of one metric per strategy, on a value axis with ticks (bench/charts.ts). */
export function barSvg(title: string, rows: { name: string; value: number }[], unit: string): string {
  return barChart({ title, unit, rows });
}

/** TTFT CDF per strategy (pooled over runs). */
export function cdfSvg(title: string, series: { name: string; values: number[] }[]): string {
  return cdfChart({ title, xLabel: 'TTFT (s, simulated)', series });
}

export type { RequestResult };

/** Line chart: one series per strategy over the x values (evenly spaced categories), e.g. throughput vs random. */
export function lineSvg(
  title: string,
  xLabel: string,
  yLabel: string,
  xs: number[],
  series: { name: string; ys: number[] }[],
): string {
  return lineChart({
    title,
    xLabel,
    yLabel,
    categories: xs,
    series: series.map((ser) => ({ name: ser.name, points: ser.ys.map((y, i) => [i, y] as const) })),
  });
}
