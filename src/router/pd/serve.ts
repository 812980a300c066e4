// Serves one request on a prefill/decode ModelServer: rank pairs, run the connector's two legs, fail over to the next
// pair until the first byte reaches the client, and hand the handler a ProxyResult (decode usage, timings, every
// attempt of both legs) so metrics, access log, rate limits and plugin hooks account PD requests like any other.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import { errors } from '../errors.js';
import {
  type AttemptRecord,
  buildUpstreamBody,
  type ProxyHooks,
  type ProxyResult,
  proxyWithFailover,
  upstreamHeaders,
} from '../proxy/forward.js';
import type { UpstreamPools } from '../proxy/pools.js';
import type { RequestContext } from '../request/context.js';
import type { EndpointScore, Scheduler } from '../scheduler/framework.js';
import { attemptHooks } from '../scheduler/lifecycle.js';
import type { SchedulerPlugin } from '../scheduler/plugin.js';
import type { PdTopology } from '../store/pd-topology.js';
import type { ModelServer } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';
import type { Destination, RouterMetrics } from '../telemetry/metrics.js';
import { parseDuration } from '../util/duration.js';
import {
  BadPrefillResponse,
  type ConnectorName,
  type LegBodies,
  type PdConnector,
  type PdPair,
  withoutTransportFields,
} from './connector.js';
import { connectorFor } from './connectors.js';
import { PdMetrics } from './metrics.js';
import { CACHE_AFFINITY_PLUGINS, PairPlanner, pairSequence, prefillsByGroup } from './pairing.js';
import { type PrefillLegResult, sendPrefill } from './prefill-leg.js';

export interface PdDeps {
  scheduler: Scheduler;
  pools: UpstreamPools;
  metrics: RouterMetrics;
  log: Logger;
  rand: () => number;
}

export interface PdResult extends ProxyResult {
  connector: ConnectorName;
  /** The pair whose decode answered (or the last pair tried). */
  prefill?: ServerEndpoint;
  decode?: ServerEndpoint;
}

export interface PdServeInput {
  ctx: RequestContext;
  /** The client's request headers (forwarded to both legs like in aggregated mode). */
  headers: IncomingHttpHeaders;
  res: ServerResponse;
  server: ModelServer;
  serverKey: string;
  topology: PdTopology | undefined;
  dest: Destination;
  /** Pairs are ranked: the best decode endpoint and the decode scores (access log, debug view). */
  /** `ranking.scores` is built when read: keep the object, read it only when needed. */
  onScheduled?(top: ServerEndpoint | undefined, ranking: { readonly scores: EndpointScore[] }): void;
}

/** Access-log fields of a request served in PD mode: both pods of the pair that answered (or was tried last). */
export function pdPodsOf(p: ProxyResult | undefined): { prefill_pod?: string; decode_pod?: string } {
  if (!p || !('connector' in p)) return {};
  const pd = p as PdResult;
  return { prefill_pod: pd.prefill?.state.name, decode_pod: pd.decode?.state.name };
}

/** How one attempt on one pair ended. */
type AttemptEnd =
  | { kind: 'answered'; proxy: ProxyResult }
  | { kind: 'failed'; blame: ServerEndpoint; detail: string; badPrefill: boolean };

export class PdRouter {
  readonly planner: PairPlanner;
  private readonly pdMetrics: PdMetrics;
  private readonly cachePlugins: SchedulerPlugin[];
  private readonly loadPlugins: SchedulerPlugin[];

  constructor(private readonly d: PdDeps) {
    this.planner = new PairPlanner(d.scheduler);
    this.pdMetrics = new PdMetrics(d.metrics.registry);
    this.cachePlugins = d.scheduler.plugins.filter((p) => CACHE_AFFINITY_PLUGINS.has(p.name));
    this.loadPlugins = d.scheduler.plugins.filter((p) => !CACHE_AFFINITY_PLUGINS.has(p.name));
  }

  async serve(i: PdServeInput): Promise<PdResult> {
    const { ctx, server } = i;
    const connector = connectorFor(server, this.d.rand);
    const result: PdResult = {
      attempts: [],
      dataEvents: 0,
      aborted: false,
      brokenStream: false,
      connector: connector.name,
    };
    const topo = i.topology;
    if (!topo || topo.decode.length === 0) throw errors.schedulingFailed('no decode pod found');
    await this.planner.prepare(ctx, topo);
    const ranked = this.planner.rankDecodes(ctx, topo);
    const prefillsFor = prefillsByGroup(this.planner, ctx, topo);
    i.onScheduled?.(ranked.decodes[0], ranked);

    const tp = server.spec.trafficPolicy;
    const timeoutMs = tp?.timeout ? parseDuration(tp.timeout) : 0;
    const retry = tp?.retry;
    const maxAttempts = retry ? 1 + Math.max(0, retry.attempts ?? 0) : this.d.scheduler.opts.topN;
    const retryIntervalMs = retry ? parseDuration(retry.retryInterval ?? '100ms') : 0;
    const up = buildUpstreamBody(ctx);
    const request = withoutTransportFields(JSON.parse(up.body.toString('utf8')) as Record<string, unknown>);

    const failed = new Set<string>();
    let tried = 0;
    let last: Extract<AttemptEnd, { kind: 'failed' }> | undefined;
    for (const pair of pairSequence(ranked.decodes, prefillsFor, failed)) {
      if (ctx.signal.aborted || tried >= maxAttempts) break;
      if (tried > 0 && retryIntervalMs > 0)
        await sleep(retryIntervalMs, undefined, { signal: ctx.signal }).catch(() => undefined);
      if (ctx.signal.aborted) break;
      tried++;
      result.prefill = pair.prefill;
      result.decode = pair.decode;
      const legs = connector.shape(request, pair);
      const attempt = { i, pair, legs, connector, timeoutMs, hide: up.hideUsageChunk, result };
      const end = connector.concurrent ? await this.concurrent(attempt) : await this.sequential(attempt);
      if (end.kind === 'answered') {
        const p = end.proxy;
        Object.assign(result, { ...p, attempts: result.attempts });
        ctx.pdPair = { prefill: pair.prefill, decode: pair.decode, connector: connector.name };
        return result;
      }
      failed.add(end.blame.state.key);
      last = end;
    }
    result.aborted = ctx.signal.aborted;
    if (result.aborted) return result;
    if (!last) throw errors.schedulingFailed('no valid prefill-decode pod pairs found');
    result.error = last.badPrefill
      ? errors.badPrefillResponse(last.detail)
      : errors.allUpstreamsFailed(`all prefill/decode pairs failed: ${tried} attempt(s), last: ${last.detail}`);
    return result;
  }

  /** Prefill to completion, then decode streamed to the client (http, lmcache, nixl, mooncake). */
  private async sequential(a: Attempt): Promise<AttemptEnd> {
    const { ctx } = a.i;
    const pre = await this.prefill(a, ctx.signal);
    if (pre.outcome === 'aborted') return this.answeredAborted();
    if (pre.outcome === 'client_error') return this.relayPrefillError(a, pre);
    if (pre.outcome !== 'ok' || !pre.decodeBody) return this.prefillFailed(a, pre);
    const dec = await this.decode(a, pre.decodeBody, ctx);
    if (dec.error)
      return { kind: 'failed', blame: a.pair.decode, detail: `decode leg: ${lastDetail(dec)}`, badPrefill: false };
    return { kind: 'answered', proxy: dec };
  }

  /**
   * Both legs at once (sglang). A prefill failure before the decode's first byte cancels the decode and fails the
   * pair; a decode failure cancels the prefill. After the first byte the decode stream is the answer, whatever the
   * prefill does; a prefill still running when the decode ends is cancelled (its work is done or no longer needed).
   */
  private async concurrent(a: Attempt): Promise<AttemptEnd> {
    const { ctx, res } = a.i;
    const leg = new AbortController();
    const onClient = () => leg.abort();
    ctx.signal.addEventListener('abort', onClient, { once: true });
    // The response is committed once the decode's status line is written (same tick as its first bytes).
    let prefillFailure: PrefillLegResult | undefined;
    let prefillSettled = false;
    const preP = this.prefill(a, leg.signal).then((r) => {
      prefillSettled = true;
      if (r.outcome !== 'ok' && r.outcome !== 'aborted' && !res.headersSent) {
        prefillFailure = r;
        leg.abort();
      }
      return r;
    });
    try {
      const decodeCtx: RequestContext = { ...ctx, signal: leg.signal };
      const dec = await this.decode(a, a.legs.decode(undefined), decodeCtx);
      const started = res.headersSent;
      if (!prefillSettled) leg.abort();
      await preP;
      if (ctx.signal.aborted && !started) return this.answeredAborted();
      if (started) {
        if (dec.aborted && !ctx.signal.aborted && !res.writableEnded) {
          // The prefill failed in the very tick the decode answer began: its head is out, nothing else will come.
          res.destroy();
          return { kind: 'answered', proxy: { ...dec, aborted: false, brokenStream: true } };
        }
        return { kind: 'answered', proxy: { ...dec, aborted: ctx.signal.aborted } };
      }
      if (prefillFailure) {
        if (prefillFailure.outcome === 'client_error') return this.relayPrefillError(a, prefillFailure);
        return this.prefillFailed(a, prefillFailure);
      }
      return { kind: 'failed', blame: a.pair.decode, detail: `decode leg: ${lastDetail(dec)}`, badPrefill: false };
    } finally {
      ctx.signal.removeEventListener('abort', onClient);
    }
  }

  /** Sends the prefill leg with exact in-flight accounting, and (sequential connectors) builds the decode body. */
  private async prefill(a: Attempt, signal: AbortSignal): Promise<PrefillOutcome> {
    const orig = a.i.ctx;
    // Concurrent legs: plugins that keep one attempt per request keyed by the context (outlier detection) get the
    // prefill leg on a shadow context, so the two simultaneous attempts do not overwrite each other.
    const ctx: RequestContext = a.connector.concurrent ? { ...orig } : orig;
    const ep = a.pair.prefill;
    const body = Buffer.from(JSON.stringify(a.legs.prefill), 'utf8');
    const headers = upstreamHeaders(a.i.headers, ctx.id, body.length);
    // The prefill answer is parsed by the router: no compressed encodings.
    delete headers['accept-encoding'];
    const hooks = this.legHooks(a, this.d.scheduler.plugins, ctx, (rec) => rec);
    // A plugin may cancel a stalled attempt (outlier detection): that is a failure of this endpoint, not an abort.
    const leg = new AbortController();
    const onAbort = () => leg.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    let cancelled = false;
    const cancel = () => {
      cancelled = true;
      leg.abort();
    };
    hooks.acquire(ep, cancel);
    let r: PrefillOutcome;
    try {
      r = await sendPrefill(this.d.pools, ep, {
        path: ctx.url,
        method: ctx.method,
        headers,
        body,
        parse: a.connector.readsPrefillResponse,
        timeoutMs: a.timeoutMs,
        signal: leg.signal,
      });
      if (r.outcome === 'aborted' && cancelled && !signal.aborted)
        r = { ...r, outcome: 'connect_error', detail: `${ep.state.key}: attempt cancelled (endpoint stalled)` };
      if (r.outcome === 'ok' && !a.connector.concurrent) {
        try {
          r.decodeBody = a.legs.decode(r.json);
        } catch (e) {
          if (!(e instanceof BadPrefillResponse)) throw e;
          r = { ...r, outcome: 'bad_response', detail: `${ep.state.key} answered ${r.status}: ${e.message}` };
        }
      }
      // The prompt's KV blocks now live on the prefill endpoint: that is what cache-affinity plugins remember.
      if (r.outcome === 'ok') for (const p of this.cachePlugins) p.postSchedule?.(ctx, ep);
      const outcome = r.outcome === 'bad_response' ? 'server_error' : r.outcome;
      const detail =
        r.outcome === 'aborted' && !orig.signal.aborted ? 'prefill cancelled (decode leg ended or failed)' : r.detail;
      hooks.attempt(ep, { endpoint: ep.state.key, outcome, status: r.status, detail: detail && `prefill: ${detail}` });
    } finally {
      signal.removeEventListener('abort', onAbort);
      hooks.release(ep);
    }
    this.pdMetrics.prefillDuration.observe(
      { model: ctx.model, path: ctx.path, status_code: legStatus(r.status, r.outcome) },
      r.durationMs / 1000,
    );
    return r;
  }

  private async decode(a: Attempt, body: Record<string, unknown>, ctx: RequestContext): Promise<ProxyResult> {
    const orig = a.i.ctx;
    const buf = Buffer.from(JSON.stringify(body), 'utf8');
    const hooks = this.legHooks(a, this.loadPlugins, orig, (rec) => {
      const detail =
        rec.outcome === 'aborted' && !orig.signal.aborted ? 'decode cancelled: the prefill leg failed' : rec.detail;
      return { ...rec, detail: detail && `decode: ${detail}` };
    });
    const t0 = performance.now();
    const dec = await proxyWithFailover(
      ctx,
      a.i.res,
      { body: buf, headers: upstreamHeaders(a.i.headers, orig.id, buf.length), hideUsageChunk: a.hide },
      { candidates: [a.pair.decode], maxAttempts: 1, retryIntervalMs: 0, attemptTimeoutMs: a.timeoutMs },
      this.d.pools,
      hooks,
    );
    const status = dec.brokenStream ? undefined : dec.status;
    this.pdMetrics.decodeDuration.observe(
      {
        model: orig.model,
        path: orig.path,
        status_code: legStatus(status, dec.aborted ? 'aborted' : dec.error ? 'server_error' : 'ok'),
      },
      (performance.now() - t0) / 1000,
    );
    return dec;
  }

  private prefillFailed(a: Attempt, pre: PrefillLegResult): AttemptEnd {
    return {
      kind: 'failed',
      blame: a.pair.prefill,
      detail: `prefill leg: ${pre.detail ?? pre.outcome}`,
      badPrefill: pre.outcome === 'bad_response',
    };
  }

  /** A 4xx from the prefill pod is about the request itself (any pair would say the same): the client gets it. */
  private relayPrefillError(a: Attempt, pre: PrefillLegResult): AttemptEnd {
    const res = a.i.res;
    const body = pre.errorBody ?? Buffer.alloc(0);
    const status = pre.status ?? 400;
    res.writeHead(status, {
      'content-type': pre.errorContentType ?? 'application/json',
      'content-length': body.length,
    });
    res.end(body);
    return {
      kind: 'answered',
      proxy: { status, endpoint: a.pair.prefill, attempts: [], dataEvents: 0, aborted: false, brokenStream: false },
    };
  }

  private answeredAborted(): AttemptEnd {
    return { kind: 'answered', proxy: { attempts: [], dataEvents: 0, aborted: true, brokenStream: false } };
  }

  /**
   * One leg's attempt bookkeeping (in-flight, gauges, plugin hooks, attempt counts: attemptHooks, shared with the
   * aggregated path); the request's record of both legs gets `recorded(rec)`, the plugins the leg's own record.
   */
  private legHooks(
    a: Attempt,
    plugins: readonly SchedulerPlugin[],
    ctx: RequestContext,
    recorded: (rec: AttemptRecord) => AttemptRecord,
  ): ProxyHooks {
    return attemptHooks({
      metrics: this.d.metrics,
      plugins,
      ctx,
      serverKey: a.i.serverKey,
      dest: a.i.dest,
      record: (_ep, rec) => a.result.attempts.push(recorded(rec)),
    });
  }
}

type PrefillOutcome = PrefillLegResult & { decodeBody?: Record<string, unknown> };

interface Attempt {
  i: PdServeInput;
  pair: PdPair;
  legs: LegBodies;
  connector: PdConnector;
  timeoutMs: number;
  hide: boolean;
  result: PdResult;
}

function lastDetail(p: ProxyResult): string {
  const rec = p.attempts.at(-1);
  return rec ? (rec.detail ?? rec.outcome) : 'no attempt';
}

function legStatus(status: number | undefined, outcome: string): string {
  if (outcome === 'aborted') return '499';
  if (status !== undefined) return String(status);
  return outcome === 'timeout' ? '504' : '502';
}
