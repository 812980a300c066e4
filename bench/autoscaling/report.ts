// Results of `kthena bench autoscaling`: per-policy summary, terminal table, Markdown and an SVG chart of replicas
// and load over the day.
import type { FleetOutcome, FleetSample } from '../../src/twin/index.js';

export interface PolicyResult {
  name: string;
  slo_attainment: number;
  gpu_seconds: number;
  scale_events: number;
  lost_requests: number;
  requests: number;
  ttft_p50_s: number;
  ttft_p99_s: number;
  mean_replicas: number;
  peak_replicas: number;
}

const quantile = (s: number[], q: number) => (s.length ? s[Math.min(s.length - 1, Math.floor(q * s.length))]! : 0);

export function summarize(name: string, out: FleetOutcome, sloTtftSec: number, gpusPerReplica: number): PolicyResult {
  const ttfts = out.requests
    .map((r) => r.ttft)
    .filter((t): t is number => t !== undefined)
    .sort((a, b) => a - b);
  const within = ttfts.filter((t) => t <= sloTtftSec).length;
  return {
    name,
    slo_attainment: out.requests.length ? within / out.requests.length : 1,
    gpu_seconds: Math.round(out.gpuSeconds),
    scale_events: out.scaleEvents,
    lost_requests: out.requests.filter((r) => r.lost).length,
    requests: out.requests.length,
    ttft_p50_s: quantile(ttfts, 0.5),
    ttft_p99_s: quantile(ttfts, 0.99),
    mean_replicas: out.gpuSeconds / gpusPerReplica / Math.max(1, out.durationSec),
    peak_replicas: Math.max(0, ...out.timeline.map((s) => s.allocated)),
  };
}

const f = (v: number, d = 3) => (Number.isFinite(v) ? v.toFixed(d) : '-');

function rows(results: PolicyResult[]): string[][] {
  const peak = results.find((r) => r.name === 'static-peak');
  return results.map((r) => [
    r.name,
    `${f(r.slo_attainment * 100, 2)}%`,
    String(r.gpu_seconds),
    peak ? `${f(r.gpu_seconds / peak.gpu_seconds, 2)}×` : '',
    f(r.mean_replicas, 2),
    String(r.peak_replicas),
    String(r.scale_events),
    String(r.lost_requests),
    f(r.ttft_p50_s),
    f(r.ttft_p99_s),
  ]);
}

const HEAD = [
  'policy',
  'SLO attainment',
  'GPU-seconds',
  'vs static-peak',
  'mean replicas',
  'peak replicas',
  'scale events',
  'lost',
  'TTFT p50 (s)',
  'TTFT p99 (s)',
];

export function table(results: PolicyResult[]): string {
  const body = rows(results);
  const w = HEAD.map((h, i) => Math.max(h.length, ...body.map((l) => l[i]!.length)));
  const fmt = (l: string[]) => l.map((c, i) => c.padEnd(w[i]!)).join('  ');
  return [fmt(HEAD), ...body.map(fmt)].join('\n');
}

export function markdown(meta: string, results: PolicyResult[]): string {
  let s = `${meta}\n\n| ${HEAD.join(' | ')} |\n|${HEAD.map(() => '---').join('|')}|\n`;
  for (const r of rows(results)) s += `| ${r.join(' | ')} |\n`;
  return s;
}

const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;');
const COLORS: Record<string, string> = {
  'static-peak': '#7f7f7f',
  'static-mean': '#bcbd22',
  upstream: '#1f77b4',
  kthena: '#d62728',
  oracle: '#2ca02c',
};

/** Replicas allocated per policy (left axis) and the offered load (right axis, grey area) over the day. */
export function chartSvg(
  title: string,
  series: { name: string; timeline: FleetSample[] }[],
  capacityRps: number,
  daySec: number,
): string {
  const W = 900;
  const H = 420;
  const L = 50;
  const R = 150;
  const T = 30;
  const B = 45;
  const load = series[0]?.timeline ?? [];
  const maxRep = Math.max(1, ...series.flatMap((s) => s.timeline.map((x) => x.allocated)));
  const ymax = Math.max(maxRep, Math.max(0, ...load.map((x) => x.load)) / capacityRps) * 1.08;
  const px = (t: number) => L + ((W - L - R) * t) / daySec;
  const py = (y: number) => H - B - ((H - B - T) * y) / ymax;
  let s = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="12">`;
  s += `<rect width="${W}" height="${H}" fill="#fff"/>`;
  s += `<text x="8" y="18" font-weight="bold">${esc(title)}</text>`;
  // load, in replicas' worth (rate ÷ one replica's capacity), as a grey area
  const area = load.map((x) => `${px(x.t).toFixed(1)},${py(x.load / capacityRps).toFixed(1)}`);
  if (area.length)
    s += `<polygon fill="#ddd" stroke="none" points="${px(load[0]!.t).toFixed(1)},${py(0)} ${area.join(' ')} ${px(load[load.length - 1]!.t).toFixed(1)},${py(0)}"/>`;
  s += `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="#000"/><line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="#000"/>`;
  for (let h = 0; h <= 24; h += 3) {
    const x = px((h / 24) * daySec);
    s += `<text x="${x.toFixed(1)}" y="${H - B + 16}" text-anchor="middle">${String(h).padStart(2, '0')}:00</text>`;
  }
  for (let k = 0; k <= ymax; k += Math.max(1, Math.ceil(ymax / 8))) {
    s += `<text x="${L - 6}" y="${(py(k) + 4).toFixed(1)}" text-anchor="end">${k}</text>`;
  }
  s += `<text x="${(L + W - R) / 2}" y="${H - 10}" text-anchor="middle">time of day (${daySec} s of virtual time)</text>`;
  s += `<text x="14" y="${(T + H - B) / 2}" transform="rotate(-90 14 ${(T + H - B) / 2})" text-anchor="middle">replicas (lines) / load in replicas' worth (grey)</text>`;
  series.forEach((ser, k) => {
    const c = COLORS[ser.name] ?? '#9467bd';
    let pts = '';
    let prev: number | undefined;
    for (const x of ser.timeline) {
      if (prev !== undefined) pts += `${px(x.t).toFixed(1)},${py(prev).toFixed(1)} `;
      pts += `${px(x.t).toFixed(1)},${py(x.allocated).toFixed(1)} `;
      prev = x.allocated;
    }
    s += `<polyline fill="none" stroke="${c}" stroke-width="${ser.name === 'kthena' ? 2.2 : 1.5}" points="${pts.trim()}"/>`;
    s += `<text x="${W - R + 8}" y="${T + 14 + k * 18}" fill="${c}">${esc(ser.name)}</text>`;
  });
  s += `<text x="${W - R + 8}" y="${T + 14 + series.length * 18}" fill="#999">load</text>`;
  return `${s}</svg>\n`;
}
