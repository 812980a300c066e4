// A minimal Prometheus text-format registry for the simulator. Each engine owns one; series have fixed label
// sets bound at creation, so the hot path (observe/inc) is a few array writes with no label hashing.

export type Labels = Readonly<Record<string, string>>;

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function renderLabels(labels: Labels, extra?: string): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  if (extra) parts.push(extra);
  return parts.length ? `{${parts.join(',')}}` : '';
}

function fmt(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Number.POSITIVE_INFINITY) return '+Inf';
  if (v === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(v);
}

interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(out: string[]): void;
}

export class Counter {
  value = 0;
  constructor(readonly labels: string) {}
  inc(v = 1): void {
    this.value += v;
  }
}

export class Gauge {
  value = 0;
  constructor(
    readonly labels: Labels,
    private readonly fn?: () => number,
  ) {}
  set(v: number): void {
    this.value = v;
  }
  read(): number {
    return this.fn ? this.fn() : this.value;
  }
}

export class Histogram {
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(
    readonly labels: Labels,
    readonly buckets: readonly number[],
  ) {
    this.counts = new Float64Array(buckets.length);
  }
  observe(v: number): void {
    const b = this.buckets;
    // Buckets are few (≤ 25); a linear scan beats a binary search here.
    let i = 0;
    while (i < b.length && v > b[i]) i++;
    if (i < b.length) this.counts[i]++;
    this.sum += v;
    this.count++;
  }
}

export class Registry {
  private readonly families: Family[] = [];

  /** A counter exposed as `name`, `_total` included (as Python's client writes text format 0.0.4). */
  counter(name: string, help: string, labels: Labels): Counter {
    const c = new Counter(renderLabels(labels));
    this.families.push({
      name,
      help,
      type: 'counter',
      render: (out) => out.push(`${name}${c.labels} ${fmt(c.value)}`),
    });
    return c;
  }

  /** A counter family with one series per value of a dynamic label (e.g. finished_reason). */
  labelledCounter(name: string, help: string, labels: Labels, key: string): (value: string) => Counter {
    const series = new Map<string, Counter>();
    this.families.push({
      name,
      help,
      type: 'counter',
      render: (out) => {
        for (const c of series.values()) out.push(`${name}${c.labels} ${fmt(c.value)}`);
      },
    });
    return (value: string) => {
      let c = series.get(value);
      if (!c) {
        c = new Counter(renderLabels({ ...labels, [key]: value }));
        series.set(value, c);
      }
      return c;
    };
  }

  gauge(name: string, help: string, labels: Labels, fn?: () => number): Gauge {
    const g = new Gauge(labels, fn);
    const l = renderLabels(labels);
    this.families.push({ name, help, type: 'gauge', render: (out) => out.push(`${name}${l} ${fmt(g.read())}`) });
    return g;
  }

  /** A gauge whose labels are computed at scrape time (vllm:lora_requests_info). */
  dynamicGauge(name: string, help: string, fn: () => { labels: Labels; value: number }[]): void {
    this.families.push({
      name,
      help,
      type: 'gauge',
      render: (out) => {
        for (const s of fn()) out.push(`${name}${renderLabels(s.labels)} ${fmt(s.value)}`);
      },
    });
  }

  histogram(name: string, help: string, labels: Labels, buckets: readonly number[]): Histogram {
    const h = new Histogram(labels, buckets);
    const bucketLabels = buckets.map((b) => renderLabels(labels, `le="${fmt(b)}"`));
    const infLabels = renderLabels(labels, 'le="+Inf"');
    const l = renderLabels(labels);
    this.families.push({
      name,
      help,
      type: 'histogram',
      render: (out) => {
        let cum = 0;
        for (let i = 0; i < buckets.length; i++) {
          cum += h.counts[i];
          out.push(`${name}_bucket${bucketLabels[i]} ${fmt(cum)}`);
        }
        out.push(`${name}_bucket${infLabels} ${fmt(h.count)}`);
        out.push(`${name}_sum${l} ${fmt(h.sum)}`);
        out.push(`${name}_count${l} ${fmt(h.count)}`);
      },
    });
    return h;
  }

  /** Prometheus text exposition format 0.0.4. */
  render(): string {
    const out: string[] = [];
    for (const f of this.families) {
      out.push(`# HELP ${f.name} ${f.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`);
      out.push(`# TYPE ${f.name} ${f.type}`);
      f.render(out);
    }
    return `${out.join('\n')}\n`;
  }
}
