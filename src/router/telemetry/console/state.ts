// The console's JSON (GET /console/api/state): one read of what the router already keeps — the store, the scheduler's
// last ranking per model, the plugins' debug state, the metrics registry — shaped for a page. Built only when the page
// polls; nothing here runs per request.
import type { Scheduler } from '../../scheduler/framework.js';
import type { EndpointState } from '../../store/endpoint-state.js';
import { keyOf, type ModelRoute } from '../../store/resources.js';
import type { RouterStore } from '../../store/store.js';
import type { RouterMetrics } from '../metrics.js';
import type { ScoreSample } from './decisions.js';
import { type Decision, DecisionLog } from './decisions.js';
import type { WorkloadsView } from './workloads.js';

/** Bumped when a field changes meaning or disappears; new fields do not bump it. */
export const CONSOLE_API_VERSION = 1;

export interface ConsoleDeps {
  store: RouterStore;
  scheduler: Scheduler;
  metrics: RouterMetrics;
  /** The newest score each endpoint got (the request handler's debug view). */
  lastScore(endpoint: string): ScoreSample | null;
  config: { filters: readonly string[]; scores: readonly { name: string; weight: number }[]; topN: number };
  startedAt: number;
  /** ModelBoosters / ModelServings / AutoscalingPolicies, when the router reads a Kubernetes API. */
  workloads?: () => Promise<WorkloadsView>;
  isReady(): boolean;
  activeRequests(): number;
}

export interface RouteTargetView {
  kind: 'ModelServer' | 'ExternalModelProvider';
  name: string;
  weight: number;
  /** weight over the rule's total, 0..1 */
  configuredShare: number;
  /** Requests answered through this target since start (kthena_router_requests_total). */
  requests: number;
}

export interface RouteView {
  key: string;
  model: string;
  loraAdapters: string[];
  rateLimit: unknown;
  rules: { name: string; match: unknown; targets: RouteTargetView[] }[];
}

export interface EndpointView {
  key: string;
  address: string;
  engine: string;
  inflight: number;
  waiting: number;
  running: number;
  kvCacheUsage: number;
  ttftSeconds: number;
  tpotSeconds: number;
  /** Engine-reported prefix-cache hits over lookups (tokens), null when the engine does not export them. */
  prefixHitRate: number | null;
  models: string[];
  /** Served models other than the ModelServer's base model: the loaded LoRA adapters. */
  loraAdapters: string[];
  /** Outlier detection's view (null when the plugin is not configured). */
  health: { state: string; ejections: number; reason: string | null } | null;
  pdRole: 'prefill' | 'decode' | null;
  pdGroup: string | null;
  lastScrapeAt: string | null;
  lastScrapeError: string | null;
}

export interface ServerView {
  key: string;
  model: string;
  engine: string;
  endpoints: EndpointView[];
  pdGroups: { group: string; prefill: string[]; decode: string[] }[];
}

export interface ConsoleState {
  apiVersion: number;
  generatedAt: string;
  router: { uptimeSeconds: number; ready: boolean; activeRequests: number };
  scheduler: { filters: string[]; scores: { name: string; weight: number }[]; topN: number };
  routes: RouteView[];
  servers: ServerView[];
  decisions: Decision[];
  /** latency-predictor's recent decisions (predicted cached tokens per candidate), when that plugin runs. */
  predictions: unknown[];
  /** Predicted vs engine-reported cached tokens per model (the KV verifier), when a precise KV plugin runs. */
  verification: Record<string, { samples: number; meanRelError: number; meanSigned: number }>;
  governance: {
    rateLimited: { model: string; limitType: string; count: number }[];
    fairnessQueues: { model: string; queued: number; inflight: number }[];
    concurrencyRejected: number;
  };
  /** Requests by status code (all routes), for the page's error share. */
  statusCodes: Record<string, number>;
  /** Kubernetes workload objects and the autoscaler's last decisions; null with a file source. */
  workloads: WorkloadsView | null;
}

type Samples = { labels: Record<string, string | number>; value: number }[];

export class ConsoleStateBuilder {
  private readonly decisions = new DecisionLog();

  constructor(private readonly d: ConsoleDeps) {}

  async build(now = Date.now()): Promise<ConsoleState> {
    const d = this.d;
    const plugins = pluginStates(d.scheduler);
    const requestSamples = await samplesOf(d.metrics, 'kthena_router_requests_total');
    const kv = kvState(plugins);
    return {
      apiVersion: CONSOLE_API_VERSION,
      generatedAt: new Date(now).toISOString(),
      router: {
        uptimeSeconds: Math.round((now - d.startedAt) / 1000),
        ready: d.isReady(),
        activeRequests: d.activeRequests(),
      },
      scheduler: { filters: [...d.config.filters], scores: [...d.config.scores], topN: d.config.topN },
      routes: d.store.rawRoutes().map((r) => routeView(r, requestSamples)),
      servers: this.serverViews(plugins),
      decisions: this.decisions.sample(d.store, d.lastScore),
      predictions: kv.predictions,
      verification: kv.verification,
      governance: await governanceView(d.metrics),
      statusCodes: sumBy(requestSamples, 'status_code'),
      workloads: d.workloads ? await d.workloads() : null,
    };
  }

  private serverViews(plugins: Map<string, unknown>): ServerView[] {
    const v = this.d.store.view;
    const health = healthByEndpoint(plugins.get('outlier-detection'));
    // The detector lists endpoints once it has seen an attempt; the rest are healthy by definition.
    const unseen = plugins.has('outlier-detection') ? { state: 'closed', ejections: 0, reason: null } : null;
    return [...v.servers.entries()].map(([key, s]) => {
      const pd = v.pdByServer.get(key);
      const role = (k: string) =>
        pd?.prefill.some((e) => e.state.key === k)
          ? 'prefill'
          : pd?.decode.some((e) => e.state.key === k)
            ? 'decode'
            : null;
      const base = s.spec.model ?? '';
      return {
        key,
        model: base,
        engine: s.spec.inferenceEngine,
        endpoints: (v.endpointsByServer.get(key) ?? []).map((e) =>
          endpointView(
            e.state,
            base,
            health.get(e.state.key) ?? unseen,
            role(e.state.key),
            pd?.groupOf.get(e.state.key),
          ),
        ),
        pdGroups: pd
          ? [...pd.groups].map(([group, m]) => ({
              group,
              prefill: m.prefill.map((e) => e.state.key),
              decode: m.decode.map((e) => e.state.key),
            }))
          : [],
      };
    });
  }
}

function endpointView(
  s: EndpointState,
  baseModel: string,
  health: EndpointView['health'],
  pdRole: EndpointView['pdRole'],
  pdGroup: string | undefined,
): EndpointView {
  const models = [...s.models].sort();
  const pc = s.prefixCache;
  return {
    key: s.key,
    address: `${s.address}:${s.port}`,
    engine: s.engine,
    inflight: s.inflight,
    waiting: s.metrics.waiting,
    running: s.metrics.running,
    kvCacheUsage: s.metrics.kvCacheUsage,
    ttftSeconds: s.metrics.ttft,
    tpotSeconds: s.metrics.tpot,
    prefixHitRate: pc && pc.queries > 0 ? pc.hits / pc.queries : null,
    models,
    loraAdapters: models.filter((m) => m !== baseModel),
    health,
    pdRole,
    pdGroup: pdGroup ?? null,
    lastScrapeAt: s.lastScrapeAt ? new Date(s.lastScrapeAt).toISOString() : null,
    lastScrapeError: s.lastScrapeError ?? null,
  };
}

/** One RouteView: targets with their configured weight share and the requests each has answered. */
export function routeView(r: ModelRoute, requestSamples: Samples): RouteView {
  const key = keyOf(r.metadata);
  const ns = r.metadata.namespace ?? 'default';
  const served = new Map<string, number>();
  for (const s of requestSamples) {
    if (s.labels.model_route !== key) continue;
    const b = String(s.labels.backend_name);
    served.set(b, (served.get(b) ?? 0) + s.value);
  }
  return {
    key,
    model: r.spec.modelName ?? '',
    loraAdapters: r.spec.loraAdapters ?? [],
    rateLimit: r.spec.rateLimit ?? null,
    rules: r.spec.rules.map((rule, i) => {
      const total = rule.targetModels.reduce((a, t) => a + (t.weight ?? 1), 0);
      return {
        name: rule.name ?? `rule-${i}`,
        match: rule.modelMatch ?? null,
        targets: rule.targetModels.map((t) => {
          const name = t.modelServerName ?? t.externalModelProviderName ?? '';
          const weight = t.weight ?? 1;
          return {
            kind: t.modelServerName ? 'ModelServer' : 'ExternalModelProvider',
            name,
            weight,
            configuredShare: total > 0 ? weight / total : 0,
            requests: served.get(`${ns}/${name}`) ?? 0,
          };
        }),
      };
    }),
  };
}

function pluginStates(scheduler: Scheduler): Map<string, unknown> {
  return new Map(scheduler.plugins.map((p) => [p.name, p.debugState?.() ?? null]));
}

function healthByEndpoint(state: unknown): Map<string, EndpointView['health']> {
  const out = new Map<string, EndpointView['health']>();
  const eps = (state as { endpoints?: { endpoint: string; state: string; ejections: number; reason: string | null }[] })
    ?.endpoints;
  for (const h of eps ?? []) out.set(h.endpoint, { state: h.state, ejections: h.ejections, reason: h.reason });
  return out;
}

/** The precise-KV plugins share one awareness object; whichever runs, its verification and decisions are read. */
function kvState(plugins: Map<string, unknown>): Pick<ConsoleState, 'predictions' | 'verification'> {
  const lp = plugins.get('latency-predictor') as {
    kv?: { verification?: unknown };
    recentDecisions?: unknown[];
  } | null;
  const pp = plugins.get('precise-prefix-cache') as { verification?: unknown } | null;
  const verification = (lp?.kv?.verification ?? pp?.verification ?? {}) as ConsoleState['verification'];
  // Newest first, at most 20: the page shows a short list.
  const predictions = (lp?.recentDecisions ?? []).slice(-20).reverse();
  return { predictions: JSON.parse(JSON.stringify(predictions)), verification };
}

async function samplesOf(metrics: RouterMetrics, name: string): Promise<Samples> {
  const m = metrics.registry.getSingleMetric(name);
  if (!m) return [];
  return (await m.get()).values as Samples;
}

function sumBy(samples: Samples, label: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const s of samples) {
    const k = String(s.labels[label] ?? '');
    out[k] = (out[k] ?? 0) + s.value;
  }
  return out;
}

async function governanceView(metrics: RouterMetrics): Promise<ConsoleState['governance']> {
  const limited = new Map<string, { model: string; limitType: string; count: number }>();
  for (const s of await samplesOf(metrics, 'kthena_router_rate_limit_exceeded_total')) {
    const model = String(s.labels.model ?? '');
    const limitType = String(s.labels.limit_type ?? '');
    const k = `${model}\u0000${limitType}`;
    const e = limited.get(k) ?? { model, limitType, count: 0 };
    e.count += s.value;
    limited.set(k, e);
  }
  const queues = new Map<string, { model: string; queued: number; inflight: number }>();
  const queue = (model: string) => {
    const q = queues.get(model) ?? { model, queued: 0, inflight: 0 };
    queues.set(model, q);
    return q;
  };
  for (const s of await samplesOf(metrics, 'kthena_router_fairness_queue_size'))
    queue(String(s.labels.model)).queued += s.value;
  for (const s of await samplesOf(metrics, 'kthena_router_fairness_queue_inflight'))
    queue(String(s.labels.model)).inflight += s.value;
  const rejected = await samplesOf(metrics, 'kthena_router_concurrency_rejected_total');
  return {
    rateLimited: [...limited.values()],
    fairnessQueues: [...queues.values()],
    concurrencyRejected: rejected.reduce((a, s) => a + s.value, 0),
  };
}
