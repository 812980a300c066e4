// Polls every endpoint's /metrics and /v1/models each interval and writes the results into its EndpointState.

import type { Logger } from 'pino';
import { Agent, request } from 'undici';
import type { RouterMetrics } from '../telemetry/metrics.js';
import type { EndpointState } from './endpoint-state.js';
import { EngineMetricsIngest } from './metrics-ingest.js';
import type { RouterStore } from './store.js';

const MAX_CONCURRENT = 100;
const SCRAPE_TIMEOUT_MS = 5000;

export class EngineScraper {
  private readonly agent = new Agent({
    headersTimeout: SCRAPE_TIMEOUT_MS,
    bodyTimeout: SCRAPE_TIMEOUT_MS,
    connections: 2,
    keepAliveTimeout: 4000,
  });
  private readonly ingest = new EngineMetricsIngest();
  private timer: NodeJS.Timeout | undefined;
  private passes = 0;
  private running: Promise<void> | undefined;
  private firstPassWaiters: (() => void)[] = [];

  constructor(
    private readonly store: RouterStore,
    private readonly opts: { intervalMs: number; metrics?: RouterMetrics; log?: Logger },
  ) {
    // A new endpoint is scraped at once, so it becomes schedulable with real numbers quickly.
    store.on('endpoint-added', (s: EndpointState) => void this.scrapeEndpoint(s));
  }

  get completedPasses(): number {
    return this.passes;
  }

  /** Resolves after the first full pass (readiness needs it). */
  firstPass(): Promise<void> {
    if (this.passes > 0) return Promise.resolve();
    return new Promise((r) => this.firstPassWaiters.push(r));
  }

  start(): void {
    if (this.timer) return;
    const tick = () => {
      void this.scrapeOnce().finally(() => {
        if (this.timer) this.timer = setTimeout(tick, this.opts.intervalMs).unref();
      });
    };
    this.timer = setTimeout(tick, 0).unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    await this.agent.close();
  }

  /** One pass over all endpoints; concurrent calls share the pass in progress. */
  scrapeOnce(): Promise<void> {
    if (!this.running) {
      this.running = this.pass().finally(() => {
        this.running = undefined;
        this.passes++;
        for (const w of this.firstPassWaiters.splice(0)) w();
      });
    }
    return this.running;
  }

  private async pass(): Promise<void> {
    const states = this.store.endpointStates();
    for (let i = 0; i < states.length; i += MAX_CONCURRENT) {
      await Promise.all(states.slice(i, i + MAX_CONCURRENT).map((s) => this.scrapeEndpoint(s)));
    }
  }

  private async scrapeEndpoint(s: EndpointState): Promise<void> {
    await Promise.all([this.scrapeMetrics(s), this.scrapeModels(s)]);
    this.ingest.stamp(s);
  }

  private async getText(s: EndpointState, path: string): Promise<string> {
    const res = await request(`${s.origin}${path}`, { dispatcher: this.agent, method: 'GET' });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`${path} answered ${res.statusCode}`);
    return text;
  }

  private async scrapeMetrics(s: EndpointState): Promise<void> {
    try {
      this.ingest.metricsText(s, await this.getText(s, '/metrics'));
    } catch (e) {
      // A failed scrape keeps the previous values.
      s.lastScrapeError = (e as Error).message;
      this.opts.metrics?.scrapeErrors.inc({ endpoint: s.key, target: 'metrics' });
      this.opts.log?.debug({ endpoint: s.key, err: s.lastScrapeError }, 'engine metrics scrape failed');
    }
  }

  private async scrapeModels(s: EndpointState): Promise<void> {
    try {
      this.ingest.modelsText(s, await this.getText(s, '/v1/models'));
    } catch (e) {
      this.opts.metrics?.scrapeErrors.inc({ endpoint: s.key, target: 'models' });
      this.opts.log?.debug({ endpoint: s.key, err: (e as Error).message }, 'engine models scrape failed');
    }
  }
}
