// What one scrape of an engine means for its EndpointState, without the HTTP: the /metrics text becomes the
// scheduler's engine metrics (with the histogram memory that turns cumulative TTFT/TPOT into last-interval averages),
// the /v1/models text becomes the served-model set. The scraper does the I/O and calls this; the twin calls it with
// the simulated engines' own metrics text at each scrape of virtual time.
import type { EndpointState } from './endpoint-state.js';
import { type HistogramMemory, updateEngineMetrics } from './engine-metrics.js';

export class EngineMetricsIngest {
  private readonly memory = new WeakMap<EndpointState, HistogramMemory>();

  /** `now` stamps lastScrapeAt (epoch milliseconds by default; virtual time in the twin). */
  constructor(private readonly now: () => number = Date.now) {}

  /** Applies one /metrics text. Skipped for an endpoint that left the store meanwhile. */
  metricsText(s: EndpointState, text: string): void {
    if (s.removed) return;
    const next = updateEngineMetrics(s.engine, text, s.metrics, this.memory.get(s) ?? {});
    s.metrics = next.metrics;
    s.prefixCache = next.prefixCache;
    this.memory.set(s, next.memory);
    s.lastScrapeError = undefined;
  }

  /** Applies one /v1/models body; throws when it is not a model list (the previous set stays). */
  modelsText(s: EndpointState, text: string): void {
    const doc = JSON.parse(text) as { data?: { id?: unknown }[] };
    if (!Array.isArray(doc.data)) throw new Error('/v1/models has no data list');
    s.models = new Set(doc.data.map((m) => m.id).filter((id): id is string => typeof id === 'string'));
  }

  /** Marks a completed scrape of `s`. */
  stamp(s: EndpointState): void {
    s.lastScrapeAt = this.now();
  }
}
