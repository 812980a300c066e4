// The virtual-time twin: one process, one VirtualClock, N simulated engines (the simulator's own Engine: batching,
// paged KV, prefix cache, cost model — unchanged) and the router's real scheduling path, built from a router
// configuration exactly as `kthena router` builds it (parseRouterConfig → buildScheduler → the same plugin objects),
// driven by a workload of virtual clients. What HTTP, ZMQ and timers do in the live system happens here at the
// matching moments of virtual time:
//   client → router      a network hop, then the request context from the parsed body (buildRequestContext)
//   router decision      Scheduler.schedule over the store's endpoints, plus the configured router latency
//   router → engine      dispatchAttempt (in-flight, plugin onDispatch), a network hop, Engine.submit
//   first token          a hop back: commitAttempt (postSchedule); another hop: the client's TTFT
//   last token           a hop back: releaseAttempt + responseDone (with the engine's cached tokens); the client's E2E
//   metrics scrapes      every scrapeIntervalSec: each engine's /metrics text through EngineMetricsIngest
//   KV events            each engine step's batch, msgpack-encoded as on the wire, applied kvEventDelaySec later
//                        through applyKvMessage (sequence numbers included)
// Nothing reads the wall clock, so the same inputs give the same outputs, byte for byte.
import {
  Engine,
  type EngineRequest,
  encodeKvEventBatch,
  parseGeneration,
  seqFrame,
  VirtualClock,
} from '../engine/index.js';
import {
  applyKvMessage,
  BUILTIN_PLUGINS,
  buildRequestContext,
  buildScheduler,
  commitAttempt,
  type DecisionRecord,
  dispatchAttempt,
  EngineMetricsIngest,
  kvAwarenessOf,
  type PluginDefinition,
  PluginRegistry,
  parseRouterConfig,
  type RouterClock,
  RouterMetrics,
  RouterStore,
  releaseAttempt,
  resolveRoute,
  responseDone,
  type ServerEndpoint,
} from '../router/index.js';
import type { RequestResult, TwinRequest, Workload } from './workload.js';

export interface TwinEngines {
  replicas: number;
  model: string;
  profile: string;
  numGpuBlocks?: number;
}

/** Latencies of the path (seconds of virtual time). */
export interface TwinLatencies {
  /** each network hop: client ↔ router, router ↔ engine */
  networkSec: number;
  /** the router's own processing before a request leaves for its engine */
  routerSec: number;
  /** from an engine step to its KV events reaching the router's index */
  kvEventDelaySec: number;
  /** the router's metrics scrape interval */
  scrapeIntervalSec: number;
}

export const DEFAULT_LATENCIES: TwinLatencies = {
  networkSec: 0.0002,
  routerSec: 0.0003,
  kvEventDelaySec: 0.001,
  scrapeIntervalSec: 1,
};

export interface DecisionTrace {
  request: number;
  /** virtual seconds at the decision */
  at: number;
  chosen: string;
  /** the latency predictor's view of every candidate, when the strategy uses it */
  decision?: DecisionRecord;
  ttft?: number;
  cachedTokens?: number;
}

export interface TwinOptions {
  engines: TwinEngines;
  /** router configuration text (upstream's format), as given to `kthena router --router-config` */
  routerConfig: string;
  workload: Workload;
  latencies?: Partial<TwinLatencies>;
  /** seeds the scheduler's random tie-breaks and the random scorer */
  seed: number;
  /**
   * Extra plugins (benchmark-only strategies). A function receives the twin's engines by endpoint key, for plugins
   * that read the engines' true state (the oracle).
   */
  extraPlugins?: (engines: ReadonlyMap<string, Engine>) => PluginDefinition[];
  onDecision?: (t: DecisionTrace) => void;
  onProgress?: (done: number, total: number) => void;
}

export interface TwinOutcome {
  results: RequestResult[];
  /** virtual seconds from the first arrival to the last response */
  durationSec: number;
  engines: { key: string; steps: number; busySec: number; preemptions: number }[];
}

const NS = 'default';
const SERVER = 'sim';

/** mulberry32: the scheduler's seeded random source. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function storeFor(model: string, replicas: number): RouterStore {
  const store = new RouterStore();
  const meta = (name: string) => ({ name, namespace: NS });
  store.replaceAll({
    routes: [
      {
        apiVersion: 'networking.serving.volcano.sh/v1alpha1',
        kind: 'ModelRoute',
        metadata: meta(SERVER),
        spec: { modelName: model, rules: [{ name: 'default', targetModels: [{ modelServerName: SERVER }] }] },
      },
    ],
    servers: [
      {
        apiVersion: 'networking.serving.volcano.sh/v1alpha1',
        kind: 'ModelServer',
        metadata: meta(SERVER),
        spec: {
          model,
          inferenceEngine: 'vLLM',
          workloadSelector: { matchLabels: { app: SERVER } },
          workloadPort: { port: 8000 },
        },
      },
    ],
    providers: [],
    endpoints: Array.from({ length: replicas }, (_, i) => ({
      namespace: NS,
      name: `engine-${i}`,
      address: `10.0.0.${i + 1}`,
      labels: { app: SERVER },
      ready: true,
    })),
  });
  return store;
}

/** Runs one workload through one router configuration; engines start cold. */
export async function runTwin(o: TwinOptions): Promise<TwinOutcome> {
  const lat = { ...DEFAULT_LATENCIES, ...o.latencies };
  const clock = new VirtualClock();
  const routerClock: RouterClock = {
    now: () => clock.now() * 1000,
    setInterval: () => 0, // periodic housekeeping (outlier sweeps) has no virtual-time equivalent yet
    clearInterval: () => {},
  };
  const store = storeFor(o.engines.model, o.engines.replicas);
  const endpoints = store.view.endpointsByServer.get(`${NS}/${SERVER}`) ?? [];
  const engines = new Map<string, Engine>();
  endpoints.forEach((ep, i) => {
    engines.set(
      ep.state.key,
      new Engine({
        model: o.engines.model,
        profile: o.engines.profile,
        numGpuBlocks: o.engines.numGpuBlocks,
        seed: i,
        clock,
        engineId: `twin-engine-${i}`,
      }),
    );
  });

  const metrics = new RouterMetrics();
  // One random source for route resolution and scheduling, as in the live router (startRouter's `rand`).
  const rand = seededRandom(o.seed);
  const registry = new PluginRegistry([...BUILTIN_PLUGINS, ...(o.extraPlugins?.(engines) ?? [])]);
  const built = await buildScheduler(parseRouterConfig(o.routerConfig, registry), registry, {
    metrics,
    rand,
    clock: routerClock,
    kvEvents: 'fed',
  });
  const scheduler = built.scheduler;
  const plugins = scheduler.plugins;
  const kv = kvAwarenessOf(metrics);
  const byKey = new Map(endpoints.map((ep) => [ep.state.key, ep]));

  // KV events: every step's batch, encoded as the engines publish it, reaches the index after the configured delay.
  if (kv) {
    for (const [key, engine] of engines) {
      let seq = 0n;
      engine.setKvEventSink((events) => {
        const payload = encodeKvEventBatch(events, clock.now());
        const frame = seqFrame(seq++);
        clock.at(clock.now() + lat.kvEventDelaySec, () => applyKvMessage(kv.index, key, frame, payload));
      });
    }
  }

  const w = o.workload;
  const n = w.requests.length;
  const results: RequestResult[] = new Array(n);
  let done = 0;
  // Scrapes run while requests remain, so the clock runs dry when the workload ends.
  const ingest = new EngineMetricsIngest(() => clock.now() * 1000);
  const scrape = () => {
    for (const [key, engine] of engines) {
      const state = byKey.get(key)!.state;
      ingest.metricsText(state, engine.metrics.render());
      ingest.stamp(state);
    }
    if (done < n) clock.at(clock.now() + lat.scrapeIntervalSec, scrape);
  };
  clock.at(0, scrape);

  // ---- virtual clients: open-loop arrivals, a concurrency cap, sessions in order ----
  const planned: number[] = [];
  let t = 0;
  for (let i = 0; i < n; i++) {
    t += w.gapsSec[i] ?? 0;
    planned.push(t);
  }
  let next = 0;
  let inflight = 0;
  let arrivalTimer = false;
  const sessionTail = new Map<number, { done: boolean; waiters: (() => void)[] }>();
  /** decisions awaiting their (microtask) completion; virtual time does not move while any is pending */
  let deciding = 0;
  let lastEnd = 0;

  const issue = () => {
    while (next < n && planned[next] <= clock.now() && inflight < w.maxConcurrency) {
      const i = next++;
      inflight++;
      const req = w.requests[i];
      const prev = req.session !== undefined ? sessionTail.get(req.session) : undefined;
      const mine = { done: false, waiters: [] as (() => void)[] };
      if (req.session !== undefined) sessionTail.set(req.session, mine);
      const go = () => send(i, req, mine);
      if (prev && !prev.done) prev.waiters.push(go);
      else go();
    }
    if (next < n && planned[next] > clock.now() && !arrivalTimer) {
      arrivalTimer = true;
      clock.at(planned[next], () => {
        arrivalTimer = false;
        issue();
      });
    }
  };

  const finish = (i: number, r: RequestResult, tail: { done: boolean; waiters: (() => void)[] }) => {
    results[i] = r;
    done++;
    inflight--;
    lastEnd = Math.max(lastEnd, clock.now());
    o.onProgress?.(done, n);
    tail.done = true;
    for (const f of tail.waiters.splice(0)) f();
    issue();
  };

  const send = (i: number, req: TwinRequest, tail: { done: boolean; waiters: (() => void)[] }) => {
    const sentAt = clock.now();
    const body = {
      model: o.engines.model,
      prompt: req.prompt,
      max_tokens: req.maxTokens,
      ignore_eos: true,
      stream: true,
      stream_options: { include_usage: true },
    };
    clock.at(sentAt + lat.networkSec, () => {
      deciding++;
      void route(i, body, sentAt, tail).finally(() => {
        deciding--;
      });
    });
  };

  const route = async (
    i: number,
    body: Record<string, unknown>,
    sentAt: number,
    tail: { done: boolean; waiters: (() => void)[] },
  ) => {
    const fail = (error: string) =>
      finish(
        i,
        {
          ok: false,
          cls: w.requests[i].cls,
          ttft: 0,
          e2e: 0,
          itls: [],
          promptTokens: 0,
          outputTokens: 0,
          cachedTokens: 0,
          error,
        },
        tail,
      );
    const ctx = buildRequestContext({
      id: `twin-${i}`,
      body,
      model: o.engines.model,
      isLora: false,
      startedAt: routerClock.now(),
    });
    let ep: ServerEndpoint;
    try {
      // The route is resolved as the handler does (it draws from the shared random source for weighted targets).
      const match = resolveRoute(
        store.view.routesByModel.get(ctx.model) ?? [],
        false,
        { model: ctx.model, path: ctx.path, header: () => '' },
        rand,
      );
      if (!match) throw new Error(`no route for ${ctx.model}`);
      ctx.route = match;
      ep = (await scheduler.schedule(ctx, endpoints)).ranked[0];
    } catch (e) {
      fail((e as Error).message);
      return;
    }
    const trace: DecisionTrace = {
      request: i,
      at: clock.now(),
      chosen: ep.state.key,
      decision: ctx.latencyDecision,
    };
    const engine = engines.get(ep.state.key)!;
    const parsed = parseGeneration('completion', body);
    clock.at(clock.now() + lat.routerSec, () => {
      dispatchAttempt(plugins, ctx, ep);
      clock.at(clock.now() + lat.networkSec, () => {
        const itls: number[] = [];
        let firstAt = -1;
        let lastTokenAt = -1;
        let seen = 0;
        engine.submit({
          id: ctx.id,
          promptTokens: parsed.promptTokens,
          maxTokens: parsed.maxTokens ?? 1,
          minTokens: parsed.minTokens,
          ignoreEos: parsed.ignoreEos,
          lora: null,
          onUpdate: (r: EngineRequest, now: number) => {
            if (r.numOutputTokens > seen) {
              seen = r.numOutputTokens;
              if (firstAt < 0) {
                firstAt = now;
                clock.at(now + lat.networkSec, () => commitAttempt(plugins, ctx, ep));
              } else itls.push(now - lastTokenAt);
              lastTokenAt = now;
            }
            if (r.state !== 'finished') return;
            const back = now + lat.networkSec;
            clock.at(back, () => {
              releaseAttempt(plugins, ctx, ep);
              const ttftAtRouter = (firstAt + lat.networkSec) * 1000 - ctx.startedAt;
              responseDone(
                plugins,
                ctx,
                {
                  endpoint: ep,
                  status: 200,
                  ok: true,
                  aborted: false,
                  promptTokens: r.numPromptTokens,
                  completionTokens: r.numOutputTokens,
                  cachedTokens: r.numCachedTokens,
                  ttftMs: ttftAtRouter,
                },
                () => {},
              );
              clock.at(back + lat.networkSec, () => {
                const ttft = firstAt + 2 * lat.networkSec - sentAt;
                trace.ttft = ttft;
                trace.cachedTokens = r.numCachedTokens;
                o.onDecision?.(trace);
                finish(
                  i,
                  {
                    ok: r.numOutputTokens > 0,
                    cls: w.requests[i].cls,
                    ttft,
                    e2e: clock.now() - sentAt,
                    itls,
                    promptTokens: r.numPromptTokens,
                    outputTokens: r.numOutputTokens,
                    cachedTokens: r.numCachedTokens,
                  },
                  tail,
                );
              });
            });
          },
        });
      });
    });
  };

  const firstArrival = planned[0] ?? 0;
  clock.at(0, issue);
  // The drive loop: run the next timer, but first let every pending decision finish (its promise settles in
  // microtasks; a macrotask turn drains them), so a decision sees the state of the moment it was asked at.
  for (;;) {
    if (deciding > 0) {
      await new Promise<void>((r) => setImmediate(r));
      continue;
    }
    if (!clock.runNext()) break;
  }
  for (const p of plugins) p.close?.();
  const out: TwinOutcome = {
    results,
    durationSec: lastEnd - firstArrival,
    engines: [...engines].map(([key, e]) => ({
      key,
      steps: e.loop.stats.steps,
      busySec: e.loop.stats.busySeconds,
      preemptions: e.core.numPreemptions,
    })),
  };
  for (const e of engines.values()) e.close();
  if (done < n) throw new Error(`twin stopped with ${n - done} of ${n} requests unfinished`);
  return out;
}
