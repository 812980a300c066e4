// Metric collection (reference §4.2): the I/O half of the loop. Pod metrics are scraped from the target's ready
// entry pods (one request per pod and endpoint, however many metrics it serves) and summed; a group with a failed,
// terminating or restarted pod is skipped for the cycle, as upstream does, because its numbers would lie. Prometheus
// metrics are instant queries. Scrapes go through an injected fetcher so tests use real loopback servers or fakes.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { labelSelectorMatches } from '../../api/index.js';
import { readFamily } from '../../promtext/index.js';
import { type Buckets, bucketQuantile, HistogramWindow, mergeBuckets } from './histogram.js';
import type { Source, Unit } from './plan.js';
import type { UnitObservation } from './scaler.js';
import { SLO_WINDOW_MS } from './slo.js';

const LABEL_NAME = 'modelserving.volcano.sh/name';
const LABEL_ENTRY = 'modelserving.volcano.sh/entry';

/** GET a URL and return its body; throws on non-2xx, timeout or network error. */
export type FetchText = (url: string, signal: AbortSignal) => Promise<string>;

export const SCRAPE_TIMEOUT_MS = 3000;

export const fetchText: FetchText = async (url, signal) => {
  const res = await fetch(url, { signal, headers: { accept: 'text/plain' } });
  const body = await res.text();
  if (res.status < 200 || res.status > 299) throw new Error(`GET ${url}: HTTP ${res.status}`);
  return body;
};

/** The engine's port: the entry container's port named http, else its first port, else vLLM's default 8000. */
export function enginePort(p: Pod): number {
  const ports = (p.spec?.containers ?? []).flatMap((c) => c.ports ?? []);
  return (ports.find((x) => x.name === 'http') ?? ports[0])?.containerPort ?? 8000;
}

const isReady = (p: Pod) =>
  p.status?.phase === 'Running' && (p.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

/** Why the pods make the group's numbers untrustworthy this cycle, or undefined. */
export function unstablePod(pods: Pod[]): string | undefined {
  for (const p of pods) {
    const name = p.metadata?.name;
    if (p.status?.phase === 'Failed') return `pod ${name} failed`;
    if (p.metadata?.deletionTimestamp) return `pod ${name} is terminating`;
    const statuses = [...(p.status?.containerStatuses ?? []), ...(p.status?.initContainerStatuses ?? [])];
    if (
      (p.status?.phase === 'Running' || p.status?.phase === 'Pending') &&
      statuses.some((s) => (s.restartCount ?? 0) > 0)
    )
      return `pod ${name} has restarted containers`;
  }
  return undefined;
}

export class MetricCollector {
  /** Histogram snapshots per pod uid and family. */
  private readonly windows = new Map<string, HistogramWindow>();

  constructor(
    private readonly fetch: FetchText = fetchText,
    private readonly timeoutMs = SCRAPE_TIMEOUT_MS,
  ) {}

  /** Observes one unit: its pods' metrics and any Prometheus metrics. `pods` are all pods in the unit's namespace. */
  async observe(unit: Unit, current: number, pods: readonly Pod[], now: number): Promise<UnitObservation> {
    // One GET per pod and endpoint per cycle, however many metrics (and the SLO's histogram) it serves.
    const texts = new Map<string, Promise<string>>();
    const external = new Map<string, number>();
    const errors: string[] = [];
    const podSources = new Map<string, { source: Extract<Source, { kind: 'pod' }>; metrics: string[] }>();
    for (const [metric, src] of unit.sources) {
      if (!unit.targets.has(metric)) continue;
      if (src.kind === 'prometheus') {
        try {
          external.set(metric, await this.query(src.serverURL, src.query));
        } catch (err) {
          errors.push(`prometheus ${metric}: ${(err as Error).message}`);
        }
        continue;
      }
      const key = JSON.stringify([src.path, src.port ?? 'engine', src.selector]);
      const group = podSources.get(key) ?? { source: src, metrics: [] };
      group.metrics.push(metric);
      podSources.set(key, group);
    }
    const missing = [...unit.targets.keys()].filter((m) => !unit.sources.has(m));
    if (missing.length > 0) errors.push(`no metricSources for ${missing.join(', ')}`);

    const metrics = new Map<string, number>();
    let unready = 0;
    let ready: number | undefined;
    let failed = false;
    for (const { source, metrics: names } of podSources.values()) {
      const selected = pods.filter(
        (p) =>
          p.metadata?.labels?.[LABEL_NAME] === unit.modelServing &&
          p.metadata?.labels?.[LABEL_ENTRY] === 'true' &&
          labelSelectorMatches(source.selector, p.metadata?.labels),
      );
      if (selected.length === 0) {
        // At zero replicas there is nothing to scrape and nothing running: every pod metric is 0.
        if (current === 0) {
          for (const m of names) metrics.set(m, 0);
          continue;
        }
        errors.push('no entry pods match');
        failed = true;
        continue;
      }
      const unstable = unstablePod(selected);
      if (unstable) {
        errors.push(unstable);
        failed = true;
        continue;
      }
      const readyPods = selected.filter(isReady);
      unready = Math.max(unready, selected.length - readyPods.length);
      ready = Math.max(ready ?? 0, readyPods.length);
      try {
        const sums = await this.scrapeAll(readyPods, source, names, now, texts);
        for (const [m, v] of sums) metrics.set(m, v);
      } catch (err) {
        errors.push((err as Error).message);
        failed = true;
      }
    }
    const error = errors.length > 0 ? errors.join('; ') : undefined;
    const out: UnitObservation = {
      current,
      metrics: failed || podSources.size === 0 ? undefined : metrics,
      external,
      unready,
      error,
      ready,
    };
    if (unit.slo && !failed) out.slo = await this.ttftOf(unit, pods, now, texts).catch(() => undefined);
    return out;
  }

  /** The SLO's signals over the recent window, across the unit's ready pods: TTFT quantile and request rate. */
  private async ttftOf(
    unit: Unit,
    pods: readonly Pod[],
    now: number,
    texts: Map<string, Promise<string>>,
  ): Promise<UnitObservation['slo']> {
    const slo = unit.slo!;
    const ready = pods.filter(
      (p) =>
        p.metadata?.labels?.[LABEL_NAME] === unit.modelServing &&
        p.metadata?.labels?.[LABEL_ENTRY] === 'true' &&
        labelSelectorMatches(slo.ttft.selector, p.metadata?.labels) &&
        isReady(p),
    );
    const deltas: Buckets[] = [];
    let rate = 0;
    for (const pod of ready) {
      const text = await this.scrape(pod, slo.ttft, texts);
      let f: ReturnType<typeof readFamily>;
      for (const name of slo.ttft.families) {
        f = readFamily(text, name);
        if (f) break;
      }
      if (f?.type !== 'histogram' || !f.histograms[0]) continue;
      // Its own (recent) window: the same family may also be a target metric with upstream's window.
      const key = `${pod.metadata?.uid ?? pod.metadata?.name}/${f.name}#slo`;
      const w = this.windows.get(key) ?? new HistogramWindow(true, SLO_WINDOW_MS);
      this.windows.set(key, w);
      const d = w.observeDelta(now, pod.status?.startTime, f.histograms[0]);
      deltas.push(d);
      const started = pod.status?.startTime ? Date.parse(pod.status.startTime) : Number.NaN;
      const from = w.since ?? started;
      const count = d.counts[d.counts.length - 1] ?? 0;
      if (Number.isFinite(from) && now > from) rate += count / ((now - from) / 1000);
    }
    const merged = mergeBuckets(deltas);
    if (!merged) return undefined;
    const requests = merged.counts[merged.counts.length - 1] ?? 0;
    const q = bucketQuantile(slo.quantile, merged);
    return { ttftSec: Number.isNaN(q) ? undefined : q, requests, rate, ready: deltas.length };
  }

  private async scrapeAll(
    pods: Pod[],
    src: Extract<Source, { kind: 'pod' }>,
    metrics: string[],
    now: number,
    cache: Map<string, Promise<string>>,
  ): Promise<Map<string, number>> {
    const sums = new Map<string, number>();
    const texts = await Promise.all(pods.map((p) => this.scrape(p, src, cache)));
    texts.forEach((text, i) => {
      const pod = pods[i]!;
      for (const metric of metrics) {
        const v = this.valueOf(text, src.families, pod, now);
        if (v === undefined)
          throw new Error(`pod ${pod.metadata?.name}: metric ${src.families.join(' or ')} not found`);
        sums.set(metric, (sums.get(metric) ?? 0) + v);
      }
    });
    return sums;
  }

  private async scrape(
    pod: Pod,
    src: Extract<Source, { kind: 'pod' }>,
    cache: Map<string, Promise<string>>,
  ): Promise<string> {
    const ip = pod.status?.podIP;
    if (!ip) throw new Error(`pod ${pod.metadata?.name} has no IP`);
    const host = ip.includes(':') ? `[${ip}]` : ip;
    const url = `http://${host}:${src.port ?? enginePort(pod)}${src.path}`;
    let text = cache.get(url);
    if (!text) {
      text = this.fetch(url, AbortSignal.timeout(this.timeoutMs));
      cache.set(url, text);
    }
    try {
      return await text;
    } catch (err) {
      throw new Error(`scrape of pod ${pod.metadata?.name} failed: ${(err as Error).message}`);
    }
  }

  /** Counter/gauge: the sum of all series. Histogram: p95 of the recent window (first series). */
  private valueOf(text: string, families: readonly string[], pod: Pod, now: number): number | undefined {
    let f: ReturnType<typeof readFamily>;
    for (const name of families) {
      f = readFamily(text, name);
      if (f) break;
    }
    if (!f) return undefined;
    const family = f.name;
    if (f.type === 'histogram') {
      const h = f.histograms[0]!;
      const key = `${pod.metadata?.uid ?? pod.metadata?.name}/${family}`;
      const w = this.windows.get(key) ?? new HistogramWindow();
      this.windows.set(key, w);
      const q = w.observe(now, pod.status?.startTime, h);
      return Number.isNaN(q) ? 0 : q;
    }
    if (f.type === 'summary') return undefined;
    return f.samples.reduce((a, s) => a + s.value, 0);
  }

  /** Forgets histogram windows of pods that are gone. */
  prune(liveUids: ReadonlySet<string>): void {
    for (const key of this.windows.keys()) if (!liveUids.has(key.slice(0, key.indexOf('/')))) this.windows.delete(key);
  }

  private async query(serverURL: string, query: string): Promise<number> {
    if (!/^https?:\/\//.test(serverURL)) throw new Error(`serverURL must be http or https: ${serverURL}`);
    const url = `${serverURL.replace(/\/$/, '')}/api/v1/query?query=${encodeURIComponent(query)}`;
    const body = JSON.parse(await this.fetch(url, AbortSignal.timeout(this.timeoutMs))) as {
      status?: string;
      data?: { resultType?: string; result?: unknown };
    };
    if (body.status !== 'success') throw new Error('query failed');
    const r = body.data?.result;
    let raw: unknown;
    if (body.data?.resultType === 'scalar' && Array.isArray(r)) raw = r[1];
    else if (body.data?.resultType === 'vector' && Array.isArray(r) && r.length === 1)
      raw = (r[0] as { value?: unknown[] }).value?.[1];
    else
      throw new Error(
        `query must return a scalar or one sample (got ${body.data?.resultType} of ${Array.isArray(r) ? r.length : 0})`,
      );
    const v = Number(raw);
    if (!Number.isFinite(v)) throw new Error(`query returned a non-finite value ${String(raw)}`);
    return v;
  }
}
