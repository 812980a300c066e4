// Small server-side SVG charts for the benchmark reports: axes with "nice" ticks (1, 2, 5 × 10^k), gridlines, axis
// titles with units, and a legend in its own column right of the plot so it never covers the data. Pure functions
// of their data: the same numbers give the same bytes.

const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#7f7f7f', '#bcbd22'];
/** Fixed colours for names that mean the same thing in every chart. */
const NAMED: Record<string, string> = { default: '#d62728', oracle: '#222222', random: '#a8a8a8' };
const CHAR_W = 6.8; // average glyph width of 12 px sans-serif, for layout

export const esc = (t: string) => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

export function colorOf(name: string, index: number): string {
  return NAMED[name] ?? COLORS[index % COLORS.length];
}

/** Evenly spaced round ticks covering [min, max]: about `target` of them, step 1, 2 or 5 × 10^k. */
export function niceTicks(min: number, max: number, target = 5): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [0, 1];
  if (max < min) [min, max] = [max, min];
  if (max === min) max = min === 0 ? 1 : min + Math.abs(min);
  const raw = (max - min) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  const first = Math.floor(min / step + 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= max + step * 1e-9; v += step) ticks.push(round(v, step));
  if (ticks[ticks.length - 1] < max - step * 1e-9) ticks.push(round(ticks[ticks.length - 1] + step, step));
  return ticks;
}

const round = (v: number, step: number) => Number(v.toFixed(decimals(step)));

function decimals(step: number): number {
  return step >= 1 ? 0 : Math.min(6, Math.ceil(-Math.log10(step) - 1e-9));
}

/** A tick label: as many decimals as the step needs, thousands as "k". */
export function tickLabel(v: number, ticks: readonly number[]): string {
  const step = ticks.length > 1 ? Math.abs(ticks[1] - ticks[0]) : 1;
  if (Math.abs(v) >= 10_000 && step >= 1000) return `${v / 1000}k`;
  return v.toFixed(decimals(step));
}

interface Frame {
  W: number;
  H: number;
  L: number;
  R: number;
  T: number;
  B: number;
}

function open(f: Frame, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.W}" height="${f.H}" viewBox="0 0 ${f.W} ${f.H}" font-family="sans-serif" font-size="12">` +
    `<rect width="${f.W}" height="${f.H}" fill="#fff"/>` +
    `<text x="10" y="20" font-size="14" font-weight="bold">${esc(title)}</text>`
  );
}

function legend(f: Frame, names: readonly string[], colorFor: (n: string, i: number) => string): string {
  let s = '';
  const x = f.W - f.R + 16;
  names.forEach((n, i) => {
    const y = f.T + 6 + i * 18;
    s += `<rect x="${x}" y="${y}" width="12" height="12" fill="${colorFor(n, i)}"/>`;
    s += `<text x="${x + 18}" y="${y + 10}">${esc(n)}</text>`;
  });
  return s;
}

function legendWidth(names: readonly string[]): number {
  return 40 + Math.max(0, ...names.map((n) => n.length)) * CHAR_W;
}

/** Vertical value axis with gridlines; `y` maps a value to a pixel row. */
function yAxis(f: Frame, ticks: readonly number[], y: (v: number) => number, label: string): string {
  let s = '';
  for (const t of ticks) {
    const py = y(t).toFixed(1);
    s += `<line x1="${f.L}" y1="${py}" x2="${f.W - f.R}" y2="${py}" stroke="#e5e5e5"/>`;
    s += `<text x="${f.L - 6}" y="${(y(t) + 4).toFixed(1)}" text-anchor="end">${tickLabel(t, ticks)}</text>`;
  }
  const mid = (f.T + f.H - f.B) / 2;
  s += `<text x="16" y="${mid}" transform="rotate(-90 16 ${mid})" text-anchor="middle">${esc(label)}</text>`;
  return s;
}

function xAxisTitle(f: Frame, label: string): string {
  return `<text x="${(f.L + f.W - f.R) / 2}" y="${f.H - 10}" text-anchor="middle">${esc(label)}</text>`;
}

function frameLines(f: Frame): string {
  return (
    `<line x1="${f.L}" y1="${f.H - f.B}" x2="${f.W - f.R}" y2="${f.H - f.B}" stroke="#333"/>` +
    `<line x1="${f.L}" y1="${f.T}" x2="${f.L}" y2="${f.H - f.B}" stroke="#333"/>`
  );
}

export interface LineSeries {
  name: string;
  points: readonly (readonly [number, number])[];
}

/**
 * Lines over a numeric x axis (or categories: `categories` gives the label of x = 0, 1, 2, …). `step: true` draws
 * each series as a staircase (CDFs).
 */
export function lineChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly LineSeries[];
  categories?: readonly (string | number)[];
  yMin?: number;
  yMax?: number;
  step?: boolean;
  width?: number;
  height?: number;
}): string {
  const names = o.series.map((s) => s.name);
  const f: Frame = { W: o.width ?? 720, H: o.height ?? 400, L: 64, R: legendWidth(names), T: 36, B: 50 };
  const xs = o.series.flatMap((s) => s.points.map((p) => p[0]));
  const ys = o.series.flatMap((s) => s.points.map((p) => p[1]));
  const xTicks = o.categories ? o.categories.map((_, i) => i) : niceTicks(Math.min(0, ...xs), Math.max(...xs, 1e-9), 6);
  const yTicks = niceTicks(o.yMin ?? Math.min(0, ...ys), o.yMax ?? Math.max(...ys, 1e-9), 5);
  const [x0, x1] = [xTicks[0], xTicks[xTicks.length - 1]];
  const [y0, y1] = [yTicks[0], yTicks[yTicks.length - 1]];
  const px = (x: number) => f.L + ((f.W - f.L - f.R) * (x - x0)) / (x1 - x0 || 1);
  const py = (y: number) => f.H - f.B - ((f.H - f.B - f.T) * (y - y0)) / (y1 - y0 || 1);
  let s = open(f, o.title) + yAxis(f, yTicks, py, o.yLabel);
  xTicks.forEach((t, i) => {
    const x = px(t).toFixed(1);
    s += `<line x1="${x}" y1="${f.H - f.B}" x2="${x}" y2="${f.H - f.B + 5}" stroke="#333"/>`;
    const label = o.categories ? String(o.categories[i]) : tickLabel(t, xTicks);
    s += `<text x="${x}" y="${f.H - f.B + 18}" text-anchor="middle">${esc(label)}</text>`;
  });
  s += frameLines(f) + xAxisTitle(f, o.xLabel);
  o.series.forEach((ser, k) => {
    const c = colorOf(ser.name, k);
    const pts: string[] = [];
    ser.points.forEach(([x, y], i) => {
      if (o.step && i > 0) pts.push(`${px(x).toFixed(1)},${py(ser.points[i - 1][1]).toFixed(1)}`);
      pts.push(`${px(x).toFixed(1)},${py(y).toFixed(1)}`);
    });
    s += `<polyline fill="none" stroke="${c}" stroke-width="2" stroke-linejoin="round" points="${pts.join(' ')}"/>`;
    if (!o.step && ser.points.length <= 12)
      for (const [x, y] of ser.points)
        s += `<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="3" fill="${c}"/>`;
  });
  s += legend(f, names, colorOf);
  return `${s}</svg>\n`;
}

/** Empirical CDF of each series' values: x = value, y = fraction of samples ≤ x. */
export function cdfChart(o: {
  title: string;
  xLabel: string;
  series: readonly { name: string; values: readonly number[] }[];
}): string {
  return lineChart({
    title: o.title,
    xLabel: o.xLabel,
    yLabel: 'fraction of requests ≤ x',
    yMin: 0,
    yMax: 1,
    step: true,
    series: o.series.map((s) => {
      const v = [...s.values].sort((a, b) => a - b);
      return { name: s.name, points: [[0, 0] as const, ...v.map((x, i) => [x, (i + 1) / v.length] as const)] };
    }),
  });
}

/** Horizontal bars, one per row, on a value axis with ticks; each bar labelled with its value and unit. */
export function barChart(o: { title: string; unit: string; rows: readonly { name: string; value: number }[] }): string {
  const rowH = 26;
  const nameW = 16 + Math.max(0, ...o.rows.map((r) => r.name.length)) * CHAR_W;
  const f: Frame = { W: 720, H: 36 + o.rows.length * rowH + 50, L: Math.max(80, nameW), R: 90, T: 36, B: 50 };
  const ticks = niceTicks(0, Math.max(...o.rows.map((r) => r.value), 1e-9), 5);
  const max = ticks[ticks.length - 1];
  const px = (v: number) => f.L + ((f.W - f.L - f.R) * v) / max;
  let s = open(f, o.title);
  for (const t of ticks) {
    const x = px(t).toFixed(1);
    s += `<line x1="${x}" y1="${f.T}" x2="${x}" y2="${f.H - f.B}" stroke="#e5e5e5"/>`;
    s += `<text x="${x}" y="${f.H - f.B + 18}" text-anchor="middle">${tickLabel(t, ticks)}</text>`;
  }
  o.rows.forEach((r, i) => {
    const y = f.T + i * rowH;
    const w = px(r.value) - f.L;
    s += `<text x="${f.L - 8}" y="${y + 17}" text-anchor="end">${esc(r.name)}</text>`;
    s += `<rect x="${f.L}" y="${y + 4}" width="${Math.max(1, w).toFixed(1)}" height="${rowH - 8}" fill="${colorOf(r.name, 0)}"/>`;
    s += `<text x="${(f.L + w + 5).toFixed(1)}" y="${y + 17}">${formatValue(r.value)}</text>`;
  });
  s += frameLines(f) + xAxisTitle(f, o.unit);
  return `${s}</svg>\n`;
}

/** Vertical bars grouped by category (e.g. concurrency), one colour per series, legend on the right. */
export function groupedBarChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  groups: readonly (string | number)[];
  series: readonly { name: string; values: readonly (number | undefined)[] }[];
}): string {
  const names = o.series.map((s) => s.name);
  const f: Frame = { W: 720, H: 380, L: 64, R: legendWidth(names), T: 36, B: 50 };
  const all = o.series.flatMap((s) => s.values.filter((v): v is number => v !== undefined));
  const ticks = niceTicks(0, Math.max(...all, 1e-9), 5);
  const max = ticks[ticks.length - 1];
  const py = (v: number) => f.H - f.B - ((f.H - f.B - f.T) * v) / max;
  const gw = (f.W - f.L - f.R) / Math.max(1, o.groups.length);
  const bw = (gw * 0.8) / Math.max(1, o.series.length);
  let s = open(f, o.title) + yAxis(f, ticks, py, o.yLabel);
  o.groups.forEach((g, gi) => {
    const gx = f.L + gi * gw + gw * 0.1;
    o.series.forEach((ser, si) => {
      const v = ser.values[gi];
      if (v === undefined) return;
      const top = py(v);
      // At least 1 px tall, so a small value stays visible next to large ones.
      const h = Math.max(1, f.H - f.B - top);
      s += `<rect x="${(gx + si * bw).toFixed(1)}" y="${(f.H - f.B - h).toFixed(1)}" width="${(bw - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${colorOf(ser.name, si)}"><title>${esc(`${ser.name} ${g}: ${formatValue(v)}`)}</title></rect>`;
    });
    s += `<text x="${(f.L + gi * gw + gw / 2).toFixed(1)}" y="${f.H - f.B + 18}" text-anchor="middle">${esc(String(g))}</text>`;
  });
  s += frameLines(f) + xAxisTitle(f, o.xLabel) + legend(f, names, colorOf);
  return `${s}</svg>\n`;
}

function formatValue(v: number): string {
  if (v === 0) return '0';
  const a = Math.abs(v);
  return a >= 100 ? v.toFixed(0) : a >= 10 ? v.toFixed(1) : a >= 1 ? v.toFixed(2) : v.toPrecision(2);
}
