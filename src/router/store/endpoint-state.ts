// Runtime state of one inference endpoint: what the scheduler reads (in-flight, engine metrics, served models).
// It outlives store rebuilds so counters do not reset when unrelated objects change.
import type { EngineKind } from './resources.js';

export interface EngineMetrics {
  /** KV-cache usage fraction 0..1. */
  kvCacheUsage: number;
  waiting: number;
  running: number;
  /** Seconds; last-interval averages from the engine's histograms (0 = unknown). */
  ttft: number;
  tpot: number;
}

export class EndpointState {
  /** Router-tracked requests dispatched to this endpoint and not yet finished. */
  inflight = 0;
  metrics: EngineMetrics = { kvCacheUsage: 0, waiting: 0, running: 0, ttft: 0, tpot: 0 };
  /** `data[].id` from the engine's /v1/models (base model plus loaded LoRA adapters). */
  models: ReadonlySet<string> = new Set();
  /** The engine's cumulative prefix-cache counters from the last scrape (debug views only; not used to schedule). */
  prefixCache: { queries: number; hits: number } | undefined;
  lastScrapeAt = 0;
  lastScrapeError: string | undefined;
  /** Set when the endpoint leaves the store; late decrements on a removed endpoint are harmless. */
  removed = false;
  /** Scrape over HTTPS (ModelServer workloadPort.protocol: https). */
  https = false;

  constructor(
    readonly key: string,
    readonly namespace: string,
    readonly name: string,
    public address: string,
    /** Port used for scraping: the endpoint's own port, or the selecting ModelServer's workloadPort. */
    public port: number,
    public engine: EngineKind,
    public labels: Readonly<Record<string, string>>,
  ) {}

  get origin(): string {
    const host = this.address.includes(':') ? `[${this.address}]` : this.address;
    return `${this.https ? 'https' : 'http'}://${host}:${this.port}`;
  }
}

/** An endpoint as one ModelServer sees it: the shared state plus this server's port. */
export interface ServerEndpoint {
  state: EndpointState;
  /** Port for inference on this endpoint for this ModelServer. */
  port: number;
  origin: string;
}
