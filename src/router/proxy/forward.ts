// Sends one request upstream with failover across the scheduler's candidates, then streams the response bytes
// verbatim with backpressure. Failover happens only before the first byte reaches the client.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { errors, type RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import type { ServerEndpoint } from '../store/store.js';
import type { UpstreamPools } from './pools.js';
import { spliceIncludeUsage } from './upstream-body.js';
import { countDataEvents, TailBuffer, type Usage, UsageChunkFilter, usageFromTail } from './usage.js';

export const HOP_BY_HOP: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
]);

export type AttemptOutcome = 'ok' | 'client_error' | 'server_error' | 'connect_error' | 'timeout' | 'aborted';

export interface AttemptRecord {
  endpoint: string;
  outcome: AttemptOutcome;
  status?: number;
  detail?: string;
}

export interface ProxyPlan {
  candidates: readonly ServerEndpoint[];
  /** Total attempts allowed (failover plus retries). */
  maxAttempts: number;
  retryIntervalMs: number;
  /** Per-attempt bound on connect + send + wait for response headers; 0 = none. */
  attemptTimeoutMs: number;
}

export interface ProxyHooks {
  /** In-flight accounting: called exactly once per dispatched attempt on acquire, and once on release.
   *  `cancel` aborts the attempt (outlier detection cancels attempts stuck on a stalled engine: they fail over). */
  acquire(ep: ServerEndpoint, cancel: () => void): void;
  release(ep: ServerEndpoint): void;
  /** The first bytes of a 2xx response were just written, in the same tick (postSchedule hooks run here). */
  committed(ep: ServerEndpoint): void;
  attempt(ep: ServerEndpoint, rec: AttemptRecord): void;
}

export interface ProxyResult {
  /** Status sent to the client, or the error to send when no upstream answered. */
  status?: number;
  error?: RouterError;
  endpoint?: ServerEndpoint;
  attempts: AttemptRecord[];
  usage?: Usage;
  /** ms from request start. */
  firstByteAt?: number;
  endedAt?: number;
  dataEvents: number;
  aborted: boolean;
  /** The stream broke after the first byte (upstream died or timed out mid-body). */
  brokenStream: boolean;
}

export interface UpstreamRequest {
  body: Buffer;
  headers: Record<string, string | string[]>;
  /** True when the router added include_usage and the client did not ask for usage. */
  hideUsageChunk: boolean;
}

/** Body for upstream: model rewrite and stream_options.include_usage injection; raw bytes when nothing changes. */
export function buildUpstreamBody(ctx: RequestContext): { body: Buffer; hideUsageChunk: boolean } {
  let changed = false;
  const out: Record<string, unknown> = { ...ctx.body };
  if (ctx.upstreamModel !== ctx.model) {
    out.model = ctx.upstreamModel;
    changed = true;
  }
  let hide = false;
  // The Responses API reports usage in response.completed by itself; stream_options is chat/completions only.
  if (ctx.stream && !ctx.path.endsWith('/responses')) {
    const so = out.stream_options;
    const opts = so !== null && typeof so === 'object' && !Array.isArray(so) ? (so as Record<string, unknown>) : {};
    if (opts.include_usage !== true) {
      // Keep the client's other stream options (upstream replaces the whole object).
      out.stream_options = { ...opts, include_usage: true };
      hide = true;
      changed = true;
      // Only the key to add and no other change: splice it into the client's bytes instead of re-serialising.
      if (so === undefined && !Object.hasOwn(ctx.body, 'stream_options') && ctx.upstreamModel === ctx.model) {
        const spliced = spliceIncludeUsage(ctx.raw, Object.keys(ctx.body).length > 0);
        if (spliced) return { body: spliced, hideUsageChunk: true };
      }
    }
  }
  return { body: changed ? Buffer.from(JSON.stringify(out), 'utf8') : ctx.raw, hideUsageChunk: hide };
}

export function upstreamHeaders(
  h: IncomingHttpHeaders,
  requestId: string,
  length: number,
): Record<string, string | string[]> {
  const drop = connectionListed(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || drop.has(k) || k === 'content-length' || k === 'host' || k === 'expect')
      continue;
    out[k] = v;
  }
  out['x-request-id'] = requestId;
  out['content-length'] = String(length);
  return out;
}

function connectionListed(v: string | string[] | undefined): Set<string> {
  const s = new Set<string>();
  if (!v) return s;
  for (const part of (Array.isArray(v) ? v.join(',') : v).split(',')) s.add(part.trim().toLowerCase());
  return s;
}

function responseHeaders(h: IncomingHttpHeaders, dropLength: boolean): Record<string, string | string[]> {
  const drop = connectionListed(h.connection);
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) {
    if (v === undefined || HOP_BY_HOP.has(k) || drop.has(k)) continue;
    if (dropLength && k === 'content-length') continue;
    out[k] = v;
  }
  return out;
}

function classify(e: unknown, clientAborted: boolean): { outcome: AttemptOutcome; detail: string } {
  const err = e as { code?: string; message?: string; name?: string };
  if (clientAborted) return { outcome: 'aborted', detail: 'client disconnected' };
  if (err.code === 'UND_ERR_HEADERS_TIMEOUT' || err.code === 'UND_ERR_CONNECT_TIMEOUT')
    return { outcome: 'timeout', detail: err.message ?? 'timeout' };
  return { outcome: 'connect_error', detail: `${err.code ?? err.name ?? 'error'}: ${err.message ?? ''}` };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });
}

export async function proxyWithFailover(
  ctx: RequestContext,
  res: ServerResponse,
  up: UpstreamRequest,
  plan: ProxyPlan,
  pools: UpstreamPools,
  hooks: ProxyHooks,
): Promise<ProxyResult> {
  const result: ProxyResult = { attempts: [], dataEvents: 0, aborted: false, brokenStream: false };
  const n = plan.candidates.length;
  for (let i = 0; i < plan.maxAttempts && n > 0; i++) {
    if (ctx.signal.aborted) break;
    if (i > 0 && plan.retryIntervalMs > 0) await sleep(plan.retryIntervalMs, ctx.signal);
    if (ctx.signal.aborted) break;
    const ep = plan.candidates[i % n];
    const ac = new AbortController();
    const onClientAbort = () => ac.abort();
    ctx.signal.addEventListener('abort', onClientAbort, { once: true });
    hooks.acquire(ep, () => ac.abort());
    let released = false;
    const release = () => {
      if (released) return;
      released = true;
      ctx.signal.removeEventListener('abort', onClientAbort);
      hooks.release(ep);
    };
    let r: Dispatcher.ResponseData;
    // Our own timer rather than undici's headersTimeout: it is precise for sub-second values and covers connecting.
    let timedOut = false;
    const timer =
      plan.attemptTimeoutMs > 0
        ? setTimeout(() => {
            timedOut = true;
            ac.abort();
          }, plan.attemptTimeoutMs)
        : undefined;
    try {
      r = await pools.get(ep.origin).request({
        path: ctx.url,
        method: ctx.method as Dispatcher.HttpMethod,
        headers: up.headers,
        body: up.body,
        signal: ac.signal,
      });
    } catch (e) {
      release();
      const c = timedOut
        ? {
            outcome: 'timeout' as const,
            detail: `no response headers from ${ep.state.key} within ${plan.attemptTimeoutMs} ms`,
          }
        : classify(e, ctx.signal.aborted);
      const rec: AttemptRecord = { endpoint: ep.state.key, ...c };
      result.attempts.push(rec);
      hooks.attempt(ep, rec);
      if (c.outcome === 'aborted') break;
      continue;
    } finally {
      clearTimeout(timer);
    }
    // A LoRA adapter unloaded since the last scrape answers 404: try the next candidate (LoRA hot-plug without errors).
    const loraGone = r.statusCode === 404 && ctx.isLora && i + 1 < Math.min(plan.maxAttempts, n);
    if (r.statusCode >= 500 || loraGone) {
      // Server error before anything was written: discard the body and fail over.
      r.body.on('error', () => undefined);
      r.body.destroy();
      release();
      const rec: AttemptRecord = {
        endpoint: ep.state.key,
        outcome: loraGone ? 'client_error' : 'server_error',
        status: r.statusCode,
        detail: `${ep.state.key} answered ${r.statusCode}`,
      };
      result.attempts.push(rec);
      hooks.attempt(ep, rec);
      continue;
    }
    // Nothing is sent to the client until the first body bytes arrive: an engine that dies between its headers and
    // its first chunk is still failed over.
    const first = await firstChunk(r.body);
    if (first.error) {
      release();
      const c = classify(first.error, ctx.signal.aborted);
      const rec: AttemptRecord = {
        endpoint: ep.state.key,
        outcome: c.outcome === 'aborted' ? 'aborted' : 'connect_error',
        status: r.statusCode,
        detail: `${ep.state.key}: response broke before its first byte (${c.detail})`,
      };
      result.attempts.push(rec);
      hooks.attempt(ep, rec);
      if (rec.outcome === 'aborted') break;
      continue;
    }
    const rec: AttemptRecord = {
      endpoint: ep.state.key,
      outcome: r.statusCode < 400 ? 'ok' : 'client_error',
      status: r.statusCode,
    };
    result.attempts.push(rec);
    result.endpoint = ep;
    result.status = r.statusCode;
    // Bookkeeping (attempt metric, postSchedule hooks such as the prefix index) runs right after the first bytes are
    // handed to the socket, in the same tick: same order for every other request, but off the client's TTFT.
    const afterFirstWrite = () => {
      hooks.attempt(ep, rec);
      if (r.statusCode < 400) hooks.committed(ep);
    };
    await pipeBody(ctx, res, r, first.chunk, up.hideUsageChunk && r.statusCode < 400, result, afterFirstWrite);
    release();
    return result;
  }
  result.aborted = ctx.signal.aborted;
  if (!result.aborted) {
    const last = result.attempts.at(-1);
    result.error = errors.allUpstreamsFailed(
      last ? `${result.attempts.length} attempt(s), last: ${last.detail ?? last.outcome}` : 'no candidates',
    );
  }
  return result;
}

/** Waits for the first bytes of a body (or its end, or its failure) without switching it to flowing mode. */
export function firstChunk(body: Dispatcher.ResponseData['body']): Promise<{ chunk: Buffer | null; error?: Error }> {
  return new Promise((resolve) => {
    const done = (v: { chunk: Buffer | null; error?: Error }) => {
      body.off('readable', onReadable);
      body.off('end', onEnd);
      body.off('error', onError);
      resolve(v);
    };
    const onReadable = () => {
      const c = body.read() as Buffer | null;
      if (c !== null) done({ chunk: c });
    };
    const onEnd = () => done({ chunk: null });
    const onError = (e: Error) => done({ chunk: null, error: e });
    body.on('readable', onReadable);
    body.on('end', onEnd);
    body.on('error', onError);
  });
}

/** Streams the upstream body to the client with backpressure; resolves on end, upstream error or client abort. */
function pipeBody(
  ctx: RequestContext,
  res: ServerResponse,
  r: Dispatcher.ResponseData,
  firstBytes: Buffer | null,
  hide: boolean,
  result: ProxyResult,
  afterFirstWrite: () => void,
): Promise<void> {
  const body = r.body;
  const tail = new TailBuffer(16 * 1024);
  const filter = hide ? new UsageChunkFilter() : undefined;
  res.writeHead(r.statusCode, responseHeaders(r.headers, hide));
  // No flushHeaders(): the first bytes are written right below, so the headers leave in the same packet as them (one
  // syscall and one client wake-up fewer per request). Flushed explicitly only when nothing was written.
  const corker = new TickCorker(res);
  return new Promise((resolve) => {
    let finished = false;
    const finish = () => {
      if (finished) return;
      finished = true;
      body.off('data', onData);
      res.off('drain', onDrain);
      res.off('close', onClose);
      result.endedAt = performance.now() - ctx.startedAt;
      const u = usageFromTail(tail.toString());
      if (u) result.usage = u;
      resolve();
    };
    const onData = (chunk: Buffer) => {
      if (result.firstByteAt === undefined) result.firstByteAt = performance.now() - ctx.startedAt;
      tail.push(chunk);
      result.dataEvents += countDataEvents(chunk);
      const out = filter ? filter.push(chunk) : chunk;
      if (out) corker.cork();
      if (out && !res.write(out)) {
        backpressured = true;
        body.pause();
      }
    };
    let backpressured = false;
    const onDrain = () => {
      backpressured = false;
      body.resume();
    };
    const onClose = () => {
      if (!res.writableFinished) {
        result.aborted = true;
        body.destroy();
        finish();
      }
    };
    if (ctx.signal.aborted) {
      afterFirstWrite();
      result.aborted = true;
      body.on('error', () => undefined);
      body.destroy();
      finish();
      return;
    }
    body.on('data', onData);
    res.on('drain', onDrain);
    res.on('close', onClose);
    if (firstBytes) onData(firstBytes);
    corker.flush(); // the head and first bytes go out now, before the bookkeeping below
    if (!res.headersSent) res.flushHeaders();
    afterFirstWrite();
    if (body.readableEnded) {
      const rest = filter?.flush();
      if (rest) res.write(rest);
      res.end();
      finish();
      return;
    }
    if (!backpressured) body.resume();
    body.on('end', () => {
      const rest = filter?.flush();
      if (rest) res.write(rest);
      res.end();
      finish();
    });
    body.on('error', () => {
      if (!ctx.signal.aborted) result.brokenStream = true;
      else result.aborted = true;
      // Headers are out: the only honest signal left is to cut the connection.
      res.destroy();
      finish();
    });
  });
}

/**
 * Corks the response for the rest of the current tick: every upstream chunk parsed from one socket read (several SSE
 * events often arrive in one TCP segment under load) leaves in one writev instead of one syscall each. Uncorked on
 * process.nextTick, i.e. before any further I/O, so no latency is added; flush() uncorks at once.
 */
class TickCorker {
  private corked = false;
  private scheduled = false;
  private readonly onTick = () => {
    this.scheduled = false;
    this.flush();
  };

  constructor(private readonly res: ServerResponse) {}

  cork(): void {
    if (this.corked || this.res.destroyed) return;
    this.corked = true;
    this.res.cork();
    if (!this.scheduled) {
      this.scheduled = true;
      process.nextTick(this.onTick);
    }
  }

  /** Exactly one uncork per cork; end() already uncorks fully, and then the socket may belong to the next response. */
  flush(): void {
    if (!this.corked) return;
    this.corked = false;
    if (!this.res.writableEnded && !this.res.destroyed) this.res.uncork();
  }
}
