// Router Prometheus metrics with upstream's kthena_router_* names and labels (reference §4.2), on a private registry so
// several routers can live in one process (tests).
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

const REQUEST_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const PLUGIN_BUCKETS = [0.001, 0.005, 0.01, 0.05, 0.1, 0.5];
const RATIO_BUCKETS = [0, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0];
const KVCACHE_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const DEST = ['model_route', 'backend_type', 'backend_name', 'upstream_model'] as const;

export interface Destination {
  model_route: string;
  backend_type: string;
  backend_name: string;
  upstream_model: string;
}

export const UNRESOLVED: Destination = {
  model_route: 'none',
  backend_type: 'unresolved',
  backend_name: 'none',
  upstream_model: 'none',
};

/** What the per-endpoint gauges read from an endpoint (EndpointState has these fields). */
export interface EndpointLoad {
  key: string;
  inflight: number;
  metrics: { kvCacheUsage: number; waiting: number; running: number };
  prefixCache: { queries: number; hits: number } | undefined;
}

/**
 * Per-endpoint load for dashboards, set from the store at scrape time: the router's in-flight count and the engine's
 * queue, KV usage and prefix-cache counters as last scraped. Reset at every scrape so removed endpoints disappear.
 */
function endpointGauges(registry: Registry, endpoints: () => readonly EndpointLoad[]): void {
  const gauge = (name: string, help: string, value: (e: EndpointLoad) => number | undefined) =>
    new Gauge({
      name,
      help,
      labelNames: ['endpoint'],
      registers: [registry],
      collect() {
        this.reset();
        for (const e of endpoints()) {
          const v = value(e);
          if (v !== undefined) this.set({ endpoint: e.key }, v);
        }
      },
    });
  gauge(
    'kthena_router_endpoint_inflight_requests',
    'Requests the router has in flight to each endpoint',
    (e) => e.inflight,
  );
  gauge('kthena_router_endpoint_waiting_requests', "Engine's waiting requests (last scrape)", (e) => e.metrics.waiting);
  gauge('kthena_router_endpoint_running_requests', "Engine's running requests (last scrape)", (e) => e.metrics.running);
  gauge(
    'kthena_router_endpoint_kv_cache_usage_ratio',
    "Engine's KV-cache usage 0..1 (last scrape)",
    (e) => e.metrics.kvCacheUsage,
  );
  gauge(
    'kthena_router_endpoint_prefix_cache_queries',
    "Engine's prefix-cache lookups in tokens, cumulative",
    (e) => e.prefixCache?.queries,
  );
  gauge(
    'kthena_router_endpoint_prefix_cache_hits',
    "Engine's prefix-cache hits in tokens, cumulative",
    (e) => e.prefixCache?.hits,
  );
}

export class RouterMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'kthena_router_requests_total',
    help: 'Requests handled by the router',
    labelNames: ['model', 'path', 'status_code', 'error_type', ...DEST],
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'kthena_router_request_duration_seconds',
    help: 'End-to-end request duration',
    labelNames: ['model', 'path', 'status_code', ...DEST],
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly tokens = new Counter({
    name: 'kthena_router_tokens_total',
    help: 'Tokens processed (input: router estimate; output: engine usage)',
    labelNames: ['model', 'path', 'token_type', ...DEST],
    registers: [this.registry],
  });
  readonly pluginDuration = new Histogram({
    name: 'kthena_router_scheduler_plugin_duration_seconds',
    help: 'Time spent in each scheduler plugin',
    labelNames: ['model', 'plugin', 'type'],
    buckets: PLUGIN_BUCKETS,
    registers: [this.registry],
  });
  readonly scaleFromZeroWaiting = new Gauge({
    name: 'kthena_router_scale_from_zero_waiting_requests',
    help: 'Requests held while a scalable-to-zero ModelServer has no ready endpoint',
    registers: [this.registry],
  });
  readonly scaleFromZeroWaits = new Counter({
    name: 'kthena_router_scale_from_zero_waits_total',
    help: 'Held requests by how their wait ended (served, timeout, queue_full, cancelled)',
    labelNames: ['outcome'],
    registers: [this.registry],
  });
  readonly activeDownstream = new Gauge({
    name: 'kthena_router_active_downstream_requests',
    help: 'Client requests being handled',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly activeUpstream = new Gauge({
    name: 'kthena_router_active_upstream_requests',
    help: 'Requests in flight to upstream endpoints',
    labelNames: ['model_server', ...DEST],
    registers: [this.registry],
  });
  readonly prefixMatchRatio = new Histogram({
    name: 'kthena_router_prefix_cache_match_ratio',
    help: 'Best prefix match length over prompt blocks',
    labelNames: ['model'],
    buckets: RATIO_BUCKETS,
    registers: [this.registry],
  });
  readonly prefixEvictions = new Counter({
    name: 'kthena_router_prefix_cache_evictions_total',
    help: 'Prefix index entries evicted by LRU or memory budget',
    labelNames: ['model'],
    registers: [this.registry],
  });
  readonly ttft = new Histogram({
    name: 'kthena_router_request_ttft_seconds',
    help: 'Time from request arrival to the first upstream response byte',
    labelNames: ['model'],
    buckets: REQUEST_BUCKETS,
    registers: [this.registry],
  });
  readonly tpot = new Histogram({
    name: 'kthena_router_request_tpot_seconds',
    help: 'Mean time between streamed chunks of one response',
    labelNames: ['model'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1],
    registers: [this.registry],
  });
  readonly upstreamAttempts = new Counter({
    name: 'kthena_router_upstream_attempts_total',
    help: 'Upstream attempts by outcome (ok, client_error, server_error, connect_error, timeout, aborted)',
    labelNames: ['model_server', 'outcome'],
    registers: [this.registry],
  });
  readonly configReloads = new Counter({
    name: 'kthena_router_config_reloads_total',
    help: 'Configuration loads from --config-dir by result',
    labelNames: ['result'],
    registers: [this.registry],
  });
  readonly scrapeErrors = new Counter({
    name: 'kthena_router_engine_scrape_errors_total',
    help: 'Failed scrapes of engine /metrics or /v1/models',
    labelNames: ['endpoint', 'target'],
    registers: [this.registry],
  });

  // The kvcache-aware plugin's (upstream's Redis-backed scorer) metrics, registered whether or not it is configured,
  // as upstream does, so dashboards find them on every router.
  readonly kvcacheAwareMatchRatio = new Histogram({
    name: 'kthena_router_kvcache_aware_match_ratio',
    help: 'kvcache-aware: best leading-block match over prompt blocks',
    labelNames: ['model'],
    buckets: RATIO_BUCKETS,
    registers: [this.registry],
  });
  readonly kvcacheAwareRedisDuration = new Histogram({
    name: 'kthena_router_kvcache_aware_redis_duration_seconds',
    help: 'kvcache-aware: time to read the block owners from Redis',
    labelNames: ['model'],
    buckets: KVCACHE_BUCKETS,
    registers: [this.registry],
  });
  readonly kvcacheAwareTokenizeDuration = new Histogram({
    name: 'kthena_router_kvcache_aware_tokenize_duration_seconds',
    help: "kvcache-aware: time to tokenize the prompt through an engine's /tokenize",
    labelNames: ['model'],
    buckets: KVCACHE_BUCKETS,
    registers: [this.registry],
  });
  readonly kvcacheAwareErrors = new Counter({
    name: 'kthena_router_kvcache_aware_errors_total',
    help: 'kvcache-aware: requests scored on nothing because a stage failed (tokenize, redis)',
    labelNames: ['model', 'stage'],
    registers: [this.registry],
  });
  readonly tokenizerUnsupportedEngine = new Counter({
    name: 'kthena_router_tokenizer_unsupported_engine_total',
    help: "kvcache-aware: prompts tokenized on an engine other than vLLM (upstream's tokenizer supports vLLM only)",
    labelNames: ['model', 'engine'],
    registers: [this.registry],
  });

  /** Read at scrape time; the server and the prefix-cache plugin install their own. */
  readonly sources = {
    activeRequests: () => 0,
    prefixEntries: () => 0,
    prefixBytes: () => 0,
    /** Every endpoint's live state, read at scrape time for the per-endpoint gauges (no per-request work). */
    endpoints: (): readonly EndpointLoad[] => [],
  };

  constructor() {
    const opts = this.sources;
    new Gauge({
      name: 'kthena_router_active_requests',
      help: 'Requests being handled by the router',
      registers: [this.registry],
      collect() {
        this.set(opts.activeRequests());
      },
    });
    new Gauge({
      name: 'kthena_router_prefix_cache_entries',
      help: '(hash, endpoint) entries in the prefix-cache index',
      registers: [this.registry],
      collect() {
        this.set(opts.prefixEntries());
      },
    });
    new Gauge({
      name: 'kthena_router_prefix_cache_bytes',
      help: 'Estimated memory held by the prefix-cache index (bounded by the configured budget)',
      registers: [this.registry],
      collect() {
        this.set(opts.prefixBytes());
      },
    });
    endpointGauges(this.registry, () => opts.endpoints());
    collectDefaultMetrics({ register: this.registry });
  }
}
