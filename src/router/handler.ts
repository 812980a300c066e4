// The request pipeline for /v1/*: parse once → resolve route → admission → schedule → proxy with failover →
// account on every terminal path (metrics, access log, plugin hooks, admission releases).
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Logger } from 'pino';
import { type AdmissionStage, admit, type Release } from './admission/chain.js';
import { errors, RouterError, sendError } from './errors.js';
import type { GatewayScope } from './gateway/scope.js';
import { PdRouter, pdPodsOf } from './pd/serve.js';
import type { ScaleFromZeroGate } from './policy/scale-from-zero.js';
import type { ProviderCall } from './providers/gateway.js';
import type { ProviderHook } from './providers/hook.js';
import {
  type AttemptRecord,
  buildUpstreamBody,
  type ProxyResult,
  proxyWithFailover,
  upstreamHeaders,
} from './proxy/forward.js';
import type { UpstreamPools } from './proxy/pools.js';
import { type BodyLimits, parseJsonObject, readBody } from './request/body.js';
import { buildRequestContext, type RequestContext, type ResponseOutcome } from './request/context.js';
import { pickTarget, type RouteMatch, resolveRoute } from './routing/match.js';
import type { EndpointScore, Scheduler } from './scheduler/framework.js';
import { commitAttempt, dispatchAttempt, releaseAttempt, reportAttempt, responseDone } from './scheduler/lifecycle.js';
import { keyOf, type ModelRoute } from './store/resources.js';
import type { RouterStore, ServerEndpoint } from './store/store.js';
import type { AccessLog, AccessLogEntry } from './telemetry/access-log.js';
import { type Destination, type RouterMetrics, UNRESOLVED } from './telemetry/metrics.js';
import { parseDuration } from './util/duration.js';

export interface HandlerDeps {
  store: RouterStore;
  scheduler: Scheduler;
  pools: UpstreamPools;
  metrics: RouterMetrics;
  accessLog: AccessLog;
  log: Logger;
  admission: AdmissionStage[];
  limits: BodyLimits;
  rand: () => number;
  /** External model providers and route fallback (src/router/providers); absent = provider targets answer 501. */
  providers?: ProviderHook;
  /** Holds requests for scalable-to-zero ModelServers with no ready endpoint (src/router/policy/scale-from-zero). */
  scaleFromZero?: ScaleFromZeroGate;
  /** After the first bytes: stall bound and mid-stream failover (src/router/proxy/forward.ts, midstream.ts). */
  streams?: { stallTimeoutMs: number; midStreamFailover: boolean };
}

const plainPortRoute = (r: ModelRoute) => !r.spec.parentRefs?.length;

export class RequestHandler {
  /**
   * Last ranking per model, for the debug view. Kept by reference and turned into per-endpoint scores only when the
   * debug view asks: a copy per candidate per request would cost more than the decision itself.
   */
  private readonly lastRankings = new Map<string, { ranking: { readonly scores: EndpointScore[] }; at: number }>();
  active = 0;
  /** Prefill/decode disaggregation (src/router/pd). */
  readonly pd: PdRouter;

  constructor(private readonly d: HandlerDeps) {
    this.pd = new PdRouter(d);
    d.store.on('endpoint-removed', (s) => {
      for (const p of d.scheduler.plugins) p.onEndpointRemoved?.(s);
    });
    d.store.on('endpoint-added', (s) => {
      for (const p of d.scheduler.plugins) p.onEndpointAdded?.(s);
    });
    // Endpoints already in the store when the router starts.
    for (const eps of d.store.view.endpointsByServer.values())
      for (const ep of eps) for (const p of d.scheduler.plugins) p.onEndpointAdded?.(ep.state);
  }

  /** The newest score given to an endpoint, over the last ranking of each model (debug view). */
  lastScore(endpoint: string): (EndpointScore & { at: string; model: string }) | null {
    let best: (EndpointScore & { at: string; model: string }) | null = null;
    let bestAt = -1;
    for (const [model, { ranking, at }] of this.lastRankings) {
      if (at <= bestAt) continue;
      const sc = ranking.scores.find((x) => x.endpoint === endpoint);
      if (!sc) continue;
      best = { ...sc, at: new Date(at).toISOString(), model };
      bestAt = at;
    }
    return best;
  }

  /** GET /v1/models/{id}: the model object of a model or adapter some ModelRoute serves, else 404 (as OpenAI). */
  modelInfo(res: ServerResponse, id: string): void {
    const v = this.d.store.view;
    if (!v.routesByModel.has(id) && !v.routesByLora.has(id)) {
      sendError(res, new RouterError(404, 'model_not_found', `the model "${id}" does not exist`, {}, 'model'));
      return;
    }
    const body = JSON.stringify({ id, object: 'model', created: 0, owned_by: 'kthena' });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  modelsList(res: ServerResponse): void {
    const v = this.d.store.view;
    const names = [...new Set([...v.routesByModel.keys(), ...v.routesByLora.keys()])].sort();
    const body = JSON.stringify({
      object: 'list',
      data: names.map((id) => ({ id, object: 'model', created: 0, owned_by: 'kthena' })),
    });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  }

  /**
   * `scope`: the Gateway listener that received the request (Gateway API mode, src/router/gateway); on the router's
   * plain port routes with parentRefs are not served.
   */
  async handle(req: IncomingMessage, res: ServerResponse, path: string, scope?: GatewayScope): Promise<void> {
    const startedAt = performance.now();
    const startWall = new Date();
    this.active++;
    const ac = new AbortController();
    res.on('close', () => {
      if (!res.writableFinished) ac.abort();
    });
    const requestId = headerValue(req.headers['x-request-id']) || randomUUID();
    const s: RequestState = { startedAt, startWall, requestId, path, dest: UNRESOLVED, modelLabel: 'unknown' };
    if (scope) s.gateway = { gateway: scope.gateway };
    let releases: Release[] = [];
    const setReleases = (r: Release[]) => {
      releases = r;
      s.admitted = true;
    };
    try {
      await this.pipeline(req, res, s, ac.signal, setReleases, scope).catch((e: unknown) =>
        this.fallback(e, res, s, setReleases),
      );
    } catch (e) {
      const err = e instanceof RouterError ? e : errors.internal((e as Error).message);
      if (!(e instanceof RouterError)) this.d.log.error({ err: e, requestId }, 'unexpected error in request pipeline');
      s.error = err;
      if (!ac.signal.aborted) {
        if (err.code === 'body_too_large' || err.code === 'request_timeout') res.setHeader('connection', 'close');
        sendError(res, err);
      }
    } finally {
      for (const r of releases.reverse()) r();
      this.finish(req, res, s, ac.signal.aborted);
      this.active--;
    }
  }

  private async pipeline(
    req: IncomingMessage,
    res: ServerResponse,
    s: RequestState,
    signal: AbortSignal,
    setReleases: (r: Release[]) => void,
    scope: GatewayScope | undefined,
  ): Promise<void> {
    const raw = await readBody(req, this.d.limits);
    const body = parseJsonObject(raw);
    const model = body.model;
    if (typeof model !== 'string' || model.trim() === '') throw errors.modelNotFound(model !== undefined);
    const so = body.stream_options;
    if (so !== undefined && so !== null && (typeof so !== 'object' || Array.isArray(so)))
      throw new RouterError(400, 'invalid_request_body', '"stream_options" must be an object', {}, 'stream_options');
    s.model = model;
    const view = this.d.store.view;
    const lora = !view.routesByModel.has(model);
    const candidates = view.routesByModel.get(model) ?? view.routesByLora.get(model);
    if (candidates) s.modelLabel = model;
    this.d.metrics.activeDownstream.inc({ model: s.modelLabel });
    s.downstreamCounted = true;
    const ctx = buildRequestContext({
      id: s.requestId,
      method: req.method ?? 'POST',
      path: s.path,
      url: req.url ?? s.path,
      headers: req.headers,
      raw,
      body,
      model,
      isLora: lora,
      signal,
      startedAt: s.startedAt,
      clientAddress: req.socket.remoteAddress ?? '',
    });
    s.ctx = ctx;
    const match =
      candidates &&
      resolveRoute(
        candidates.filter(scope?.binds ?? plainPortRoute),
        lora,
        { model, path: s.path, header: (n) => headerValue(req.headers[n]) },
        this.d.rand,
        (route, t) =>
          !t.modelServerName || view.servers.has(`${route.metadata.namespace ?? 'default'}/${t.modelServerName}`),
      );
    // Inference Extension mode: ModelRoutes first, then HTTPRoute → InferencePool (reference §2.3).
    const pool = match ? undefined : scope?.inferencePool?.();
    if (!match && !pool) throw errors.routeNotFound(model);
    if (pool)
      s.gateway = {
        ...s.gateway,
        gateway: s.gateway?.gateway ?? '',
        http_route: pool.httpRoute,
        inference_pool: pool.inferencePool,
      };
    if (match) ctx.route = match;
    const ns = match?.route.metadata.namespace ?? 'default';
    s.dest = { ...UNRESOLVED, model_route: match ? keyOf(match.route.metadata) : 'none' };
    if (match && !match.target.modelServerName) {
      const name = `${ns}/${match.target.externalModelProviderName}`;
      s.dest = { ...s.dest, backend_type: 'external_provider', backend_name: name };
      if (!this.d.providers) throw errors.externalUnsupported(name);
      setReleases(await admit(this.d.admission, ctx));
      if (signal.aborted) return;
      return this.useProvider(await this.d.providers.serveTarget(ctx, res, name), s, name);
    }
    const first = pool ? pool.serverKey : `${ns}/${match?.target.modelServerName}`;
    // Target failover: when a weighted target's ModelServer cannot serve (no endpoint, every attempt failed before a
    // byte reached the client), the rule's other ModelServer targets are tried, weighted, before the error is final.
    const tried = new Set<string>();
    for (let serverKey: string | undefined = first; serverKey; ) {
      tried.add(serverKey);
      try {
        return await this.serveFromServer(req, res, s, ctx, serverKey, setReleases);
      } catch (e) {
        const next =
          match && !res.headersSent && !signal.aborted ? nextTarget(e, match, ns, tried, this.d.rand) : undefined;
        if (!next) throw e;
        this.d.log.debug({ requestId: s.requestId, from: serverKey, to: next }, 'target failed; trying the next one');
        serverKey = next;
      }
    }
  }

  /** Schedules and proxies the request to one ModelServer (aggregated or prefill/decode). Throws its RouterError. */
  private async serveFromServer(
    req: IncomingMessage,
    res: ServerResponse,
    s: RequestState,
    ctx: RequestContext,
    serverKey: string,
    setReleases: (r: Release[]) => void,
  ): Promise<void> {
    const signal = ctx.signal;
    const model = ctx.model;
    const lora = ctx.isLora;
    const view = this.d.store.view;
    const earlier = s.proxy?.attempts; // attempts on targets tried before this one
    const server = view.servers.get(serverKey);
    s.dest = { ...s.dest, backend_type: 'model_server', backend_name: serverKey };
    if (!server) throw errors.modelServerNotFound(serverKey);
    ctx.serverKey = serverKey;
    ctx.server = server;
    if (server.spec.model && !lora) ctx.upstreamModel = server.spec.model;
    s.dest = { ...s.dest, upstream_model: ctx.upstreamModel };
    const endpoints = this.d.scaleFromZero
      ? await this.d.scaleFromZero.endpoints(serverKey, server, signal)
      : (view.endpointsByServer.get(serverKey) ?? []);
    if (endpoints.length === 0) throw errors.noEndpoints(serverKey);

    if (!s.admitted) setReleases(await admit(this.d.admission, ctx));
    if (signal.aborted) return;

    if (server.spec.workloadSelector?.pdGroup) {
      // PD ModelServer: pairs and both legs live in src/router/pd; accounting continues in finish() as usual.
      s.proxy = await this.pd.serve({
        ctx,
        headers: req.headers,
        res,
        server,
        serverKey,
        topology: this.d.store.view.pdByServer.get(serverKey), // fresh: a scale from zero may have waited
        dest: s.dest,
        onScheduled: (top, ranking) => {
          s.selected = top;
          s.schedDoneAt = performance.now();
          this.lastRankings.set(model, { ranking, at: Date.now() });
        },
      });
      if (s.proxy.error) throw s.proxy.error;
      return;
    }

    if (this.d.providers?.saturated(ctx, endpoints))
      throw errors.schedulingFailed('every endpoint is past the route fallback thresholds');
    const sched = await this.d.scheduler.schedule(ctx, endpoints);
    this.lastRankings.set(model, { ranking: sched, at: Date.now() });
    s.selected = sched.ranked[0];
    s.schedDoneAt = performance.now();

    const tp = server.spec.trafficPolicy;
    const timeoutMs = tp?.timeout ? parseDuration(tp.timeout) : 0;
    const retry = tp?.retry;
    const plan = {
      candidates: sched.ranked,
      maxAttempts: retry ? 1 + Math.max(0, retry.attempts ?? 0) : sched.ranked.length,
      retryIntervalMs: retry ? parseDuration(retry.retryInterval ?? '100ms') : 0,
      attemptTimeoutMs: timeoutMs,
      stallTimeoutMs: this.d.streams?.stallTimeoutMs ?? 0,
      midStreamFailover: this.d.streams?.midStreamFailover ?? false,
    };
    const up = buildUpstreamBody(ctx);
    const headers = upstreamHeaders(req.headers, s.requestId, up.body.length);
    const dest = s.dest;
    const activeLabels = { model_server: serverKey, ...dest };
    const plugins = this.d.scheduler.plugins;
    const result = await proxyWithFailover(
      ctx,
      res,
      { body: up.body, headers, hideUsageChunk: up.hideUsageChunk },
      plan,
      this.d.pools,
      {
        acquire: (ep, cancel) => {
          this.d.metrics.activeUpstream.inc(activeLabels);
          dispatchAttempt(plugins, ctx, ep, cancel);
        },
        release: (ep) => {
          this.d.metrics.activeUpstream.dec(activeLabels);
          releaseAttempt(plugins, ctx, ep);
        },
        committed: (ep) => commitAttempt(plugins, ctx, ep),
        attempt: (ep: ServerEndpoint, rec: AttemptRecord) => {
          this.d.metrics.upstreamAttempts.inc({ model_server: serverKey, outcome: rec.outcome });
          reportAttempt(plugins, ctx, ep, rec); // resilience: outcome hook
        },
      },
    );
    if (earlier?.length) result.attempts.unshift(...earlier);
    s.proxy = result;
    if (result.error) throw result.error;
  }

  // ---- external providers: a failed in-cluster request spills to the route's fallback provider (providers/) ----
  private async fallback(e: unknown, res: ServerResponse, s: RequestState, setReleases: (r: Release[]) => void) {
    const spill = e instanceof RouterError && s.ctx ? this.d.providers?.shouldSpill(s.ctx, e, res) : undefined;
    if (!spill || !s.ctx || !this.d.providers) throw e;
    const ctx = s.ctx;
    if (!s.admitted) setReleases(await admit(this.d.admission, ctx));
    if (ctx.signal.aborted) return;
    s.fallback = { reason: spill.reason, from: ctx.serverKey ?? s.dest.backend_name };
    s.selected = undefined;
    s.dest = { ...s.dest, backend_type: 'external_provider', backend_name: spill.providerKey };
    const before = s.proxy?.attempts ?? [];
    const call = await this.d.providers.spill(ctx, res, spill, s.dest.model_route);
    call.result.attempts.unshift(...before);
    this.useProvider(call, s, spill.providerKey);
  }

  private useProvider(call: ProviderCall, s: RequestState, key: string): void {
    s.dest = { ...s.dest, backend_type: 'external_provider', backend_name: key, upstream_model: call.upstreamModel };
    s.proxy = call.result;
    if (call.result.error) throw call.result.error;
  }

  private finish(req: IncomingMessage, res: ServerResponse, s: RequestState, aborted: boolean): void {
    const m = this.d.metrics;
    const end = performance.now();
    const p = s.proxy;
    const status = s.error ? s.error.status : aborted && !p?.status ? 499 : (p?.status ?? res.statusCode);
    const errorType = s.error
      ? s.error.finishReason
      : aborted
        ? 'client_disconnected'
        : p?.brokenStream
          ? 'proxy'
          : status >= 400
            ? 'request_failed'
            : 'successful_request';
    const labels = { model: s.modelLabel, path: s.path, ...s.dest };
    m.requests.inc({ ...labels, status_code: String(status), error_type: errorType });
    m.requestDuration.observe({ ...labels, status_code: String(status) }, (end - s.startedAt) / 1000);
    if (s.downstreamCounted) m.activeDownstream.dec({ model: s.modelLabel });
    const ctx = s.ctx;
    if (ctx) m.tokens.inc({ ...labels, token_type: 'input' }, ctx.inputTokens);
    if (p?.usage) m.tokens.inc({ ...labels, token_type: 'output' }, p.usage.completionTokens);
    let tpotMs: number | undefined;
    if (p?.firstByteAt !== undefined) {
      m.ttft.observe({ model: s.modelLabel }, p.firstByteAt / 1000);
      if (p.endedAt !== undefined && p.dataEvents > 2) {
        // Events after the first, excluding the [DONE] marker.
        tpotMs = (p.endedAt - p.firstByteAt) / (p.dataEvents - 2);
        m.tpot.observe({ model: s.modelLabel }, tpotMs / 1000);
      }
    }
    if (ctx) {
      const outcome: ResponseOutcome = {
        endpoint: p?.endpoint,
        provider:
          s.dest.backend_type === 'external_provider' && p?.status !== undefined ? s.dest.backend_name : undefined,
        status,
        ok: status < 400 && !aborted && !p?.brokenStream,
        aborted,
        promptTokens: p?.usage?.promptTokens,
        completionTokens: p?.usage?.completionTokens,
        cachedTokens: p?.usage?.cachedTokens,
        ttftMs: p?.firstByteAt,
        tpotMs,
        streamedEvents: p?.dataEvents,
      };
      for (const stage of this.d.admission) {
        try {
          stage.onResponseDone?.(ctx, outcome);
        } catch (e) {
          this.d.log.error({ err: e, stage: stage.name }, 'admission stage onResponseDone failed');
        }
      }
      responseDone(this.d.scheduler.plugins, ctx, outcome, (plugin, err) =>
        this.d.log.error({ err, plugin }, 'plugin onResponseDone failed'),
      );
    }
    const upstreamStart = s.schedDoneAt ?? end;
    const upstreamEnd = p?.firstByteAt !== undefined ? s.startedAt + p.firstByteAt : end;
    const lastAttempt = p?.attempts.at(-1);
    const entry: AccessLogEntry = {
      timestamp: s.startWall.toISOString(),
      method: req.method ?? '',
      path: s.path,
      protocol: `HTTP/${req.httpVersion}`,
      status_code: status,
      error: s.error
        ? { type: s.error.finishReason, message: s.error.message }
        : aborted
          ? { type: 'client_disconnected', message: 'client closed the connection before the response ended' }
          : p?.brokenStream
            ? { type: 'proxy', message: 'upstream stream broke after the first byte' }
            : undefined,
      model_name: s.model,
      model_route: s.dest.model_route === 'none' ? undefined : s.dest.model_route,
      ...s.gateway,
      model_server: s.dest.backend_type === 'model_server' ? s.dest.backend_name : s.fallback?.from,
      fallback: s.fallback?.reason,
      // The pod that served (after failover), else the one the scheduler picked first.
      selected_pod: (p?.endpoint ?? s.selected)?.state.name,
      ...pdPodsOf(p),
      request_id: s.requestId,
      backend_type: s.dest.backend_type === 'unresolved' ? undefined : s.dest.backend_type,
      backend_name: s.dest.backend_name === 'none' ? undefined : s.dest.backend_name,
      upstream_model: s.dest.upstream_model === 'none' ? undefined : s.dest.upstream_model,
      upstream_status_code: lastAttempt?.status,
      upstream_attempts: p?.attempts.length,
      error_origin: s.error ? 'router' : status >= 400 ? 'upstream' : undefined,
      input_tokens: ctx?.inputTokens,
      output_tokens: p?.usage?.completionTokens,
      ttft_ms: p?.firstByteAt !== undefined ? Math.round(p.firstByteAt) : undefined,
      tpot_ms: tpotMs !== undefined ? Math.round(tpotMs * 100) / 100 : undefined,
      duration_total: Math.round(end - s.startedAt),
      duration_request_processing: Math.round(upstreamStart - s.startedAt),
      duration_upstream_processing: Math.max(0, Math.round(upstreamEnd - upstreamStart)),
      duration_response_processing: Math.max(0, Math.round(end - upstreamEnd)),
    };
    this.d.accessLog.write(entry);
  }
}

interface RequestState {
  startedAt: number;
  startWall: Date;
  requestId: string;
  path: string;
  model?: string;
  modelLabel: string;
  dest: Destination;
  downstreamCounted?: boolean;
  ctx?: RequestContext;
  selected?: ServerEndpoint;
  schedDoneAt?: number;
  proxy?: ProxyResult;
  error?: RouterError;
  admitted?: boolean;
  /** Gateway API mode: the Gateway that received the request, and the HTTPRoute/InferencePool that served it. */
  gateway?: { gateway: string; http_route?: string; inference_pool?: string };
  /** Set when a fallback provider served the request instead of the in-cluster target. */
  fallback?: { reason: string; from: string };
}

function headerValue(v: string | string[] | undefined): string {
  if (v === undefined) return '';
  return Array.isArray(v) ? v.join(',') : v;
}

/** Failures of one ModelServer that another target of the same rule may not share. */
const TARGET_FAILOVER_CODES: ReadonlySet<string> = new Set([
  'no_available_endpoints',
  'all_upstreams_failed',
  'scheduling_failed',
  'model_server_not_found',
]);

/** The next ModelServer target of the matched rule to try after `e`, weighted among those not tried yet. */
function nextTarget(
  e: unknown,
  match: RouteMatch,
  ns: string,
  tried: ReadonlySet<string>,
  rand: () => number,
): string | undefined {
  if (!(e instanceof RouterError) || !TARGET_FAILOVER_CODES.has(e.code)) return undefined;
  const left = (match.rule.targetModels ?? []).filter(
    (t) => t.modelServerName && !tried.has(`${ns}/${t.modelServerName}`),
  );
  const t = pickTarget(left, rand);
  return t ? `${ns}/${t.modelServerName}` : undefined;
}
