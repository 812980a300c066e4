// Reads one metric family out of a Prometheus text exposition together with its declared type, which the parser
// in parse.ts skips (it serves the router's per-scrape hot path, where names are enough). The autoscaler needs the
// type: counters and gauges are summed over series, a histogram is read as cumulative buckets.
import { parsePrometheusText, type Sample } from './parse.js';

export type FamilyType = 'counter' | 'gauge' | 'histogram' | 'summary' | 'untyped';

export interface HistogramSeries {
  /** Upper bounds, ascending, `+Inf` last. */
  bounds: number[];
  /** Cumulative counts per bound. */
  counts: number[];
  labels: Record<string, string>;
}

export interface Family {
  name: string;
  type: FamilyType;
  /** Counter/gauge/untyped samples (for histograms: none — see `histograms`). */
  samples: Sample[];
  /** Histogram series in order of first appearance. */
  histograms: HistogramSeries[];
}

const TYPES = new Set<FamilyType>(['counter', 'gauge', 'histogram', 'summary', 'untyped']);

/** The type a `# TYPE name type` line declares for `name`; undefined when there is none. */
export function declaredType(text: string, name: string): FamilyType | undefined {
  const marker = `# TYPE ${name} `;
  let at = text.indexOf(marker);
  while (at > 0 && text[at - 1] !== '\n') at = text.indexOf(marker, at + 1);
  if (at < 0) return undefined;
  const end = text.indexOf('\n', at);
  const t = text
    .slice(at + marker.length, end < 0 ? undefined : end)
    .trim()
    .toLowerCase();
  return TYPES.has(t as FamilyType) ? (t as FamilyType) : undefined;
}

function seriesKey(labels: Record<string, string>): string {
  return Object.keys(labels)
    .filter((k) => k !== 'le')
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

/** The family `name`, or undefined when the exposition has no sample of it. Untyped families with samples count. */
export function readFamily(text: string, name: string): Family | undefined {
  const type = declaredType(text, name) ?? 'untyped';
  if (type === 'histogram') {
    const bucket = `${name}_bucket`;
    const samples = parsePrometheusText(text, (n) => n === bucket);
    if (samples.length === 0) return undefined;
    const byKey = new Map<string, HistogramSeries>();
    for (const s of samples) {
      const le = s.labels.le === undefined ? Number.NaN : s.labels.le === '+Inf' ? Infinity : Number(s.labels.le);
      if (Number.isNaN(le)) continue;
      const key = seriesKey(s.labels);
      let h = byKey.get(key);
      if (!h) {
        const { le: _le, ...labels } = s.labels;
        h = { bounds: [], counts: [], labels };
        byKey.set(key, h);
      }
      h.bounds.push(le);
      h.counts.push(s.value);
    }
    const histograms = [...byKey.values()].map(sortBuckets);
    return histograms.length > 0 ? { name, type, samples: [], histograms } : undefined;
  }
  const samples = parsePrometheusText(text, (n) => n === name);
  return samples.length > 0 ? { name, type, samples, histograms: [] } : undefined;
}

function sortBuckets(h: HistogramSeries): HistogramSeries {
  const order = h.bounds.map((_, i) => i).sort((a, b) => h.bounds[a]! - h.bounds[b]!);
  return { labels: h.labels, bounds: order.map((i) => h.bounds[i]!), counts: order.map((i) => h.counts[i]!) };
}
