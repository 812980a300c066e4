// Sends one request upstream with failover across the scheduler's candidates, then streams the response bytes
// verbatim with backpressure. Failover happens before the first byte reaches the client; after it, a stream that
// breaks or stalls (no bytes for stallTimeoutMs) ends with an SSE error event — or, with mid-stream failover on,
// continues on the next candidate from the prompt plus the text already relayed (./midstream.ts).
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import type { Dispatcher } from 'undici';
import { errors, type RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import type { ServerEndpoint } from '../store/store.js';
import { continuableKind, continuationBody, GeneratedText, sseErrorEvent } from './midstream.js';
import type { UpstreamPools } from './pools.js';
import { type RelayEnd, relayBody } from './relay.js';
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

export type AttemptOutcome =
  | 'ok'
  | 'client_error'
  | 'server_error'
  | 'connect_error'
  | 'timeout'
  | 'aborted'
  /** the stream broke after its first bytes (engine died, connection cut) */
  | 'stream_broken'
  /** no bytes for the stall timeout after the first ones */
  | 'stalled';

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
  /** After the first bytes, the longest gap allowed between two chunks; 0 = none. */
  stallTimeoutMs?: number;
  /** Continue a broken or stalled stream on the next candidate (chat/completions streams with one choice). */
  midStreamFailover?: boolean;
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
  /** The stream broke after the first byte (upstream died or timed out mid-body) and was not continued. */
  brokenStream: boolean;
  /** Times the stream was continued on another endpoint after its first bytes. */
  continuations?: number;
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
  /** Set once bytes went to the client: the response head is out, later attempts continue that stream. */
  let client: ClientStream | undefined;
  let upstreamBody = up.body;
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
    // A stream's head and first event come at once from a live engine (vLLM answers streams from its event loop
    // before the first token): nothing at all within the stall timeout means the engine is stuck, so fail over.
    // Not for non-streaming bodies, which arrive only when the whole generation is done.
    let stalledEarly = false;
    const stallMs = plan.stallTimeoutMs ?? 0;
    const earlyStall =
      ctx.stream && stallMs > 0
        ? setTimeout(() => {
            stalledEarly = true;
            ac.abort();
          }, stallMs)
        : undefined;
    const stalledRecord = (): AttemptRecord => ({
      endpoint: ep.state.key,
      outcome: 'stalled',
      detail: `no response from ${ep.state.key} within the stall timeout (${stallMs} ms)`,
    });
    try {
      r = await pools.get(ep.origin).request({
        path: ctx.url,
        method: ctx.method as Dispatcher.HttpMethod,
        headers:
          upstreamBody === up.body ? up.headers : { ...up.headers, 'content-length': String(upstreamBody.length) },
        body: upstreamBody,
        signal: ac.signal,
      });
    } catch (e) {
      release();
      clearTimeout(earlyStall);
      if (stalledEarly && !ctx.signal.aborted) {
        const rec = stalledRecord();
        result.attempts.push(rec);
        hooks.attempt(ep, rec);
        continue;
      }
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
    // A continuation must be a stream like the first leg; anything else cannot be spliced into it.
    const badContinuation = client !== undefined && r.statusCode !== 200;
    if (r.statusCode >= 500 || loraGone || badContinuation) {
      clearTimeout(earlyStall);
      // Nothing was written for this attempt: discard the body and fail over.
      r.body.on('error', () => undefined);
      r.body.destroy();
      release();
      const rec: AttemptRecord = {
        endpoint: ep.state.key,
        outcome: r.statusCode >= 500 ? 'server_error' : 'client_error',
        status: r.statusCode,
        detail: `${ep.state.key} answered ${r.statusCode}${badContinuation ? ' to the continuation' : ''}`,
      };
      result.attempts.push(rec);
      hooks.attempt(ep, rec);
      continue;
    }
    // Nothing is sent to the client until the first body bytes arrive: an engine that dies between its headers and
    // its first chunk is still failed over.
    const first = await firstChunk(r.body);
    clearTimeout(earlyStall);
    if (first.error && stalledEarly && !ctx.signal.aborted) {
      release();
      const rec = stalledRecord();
      result.attempts.push(rec);
      hooks.attempt(ep, rec);
      continue;
    }
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
    const continuing = client !== undefined;
    if (!client) {
      result.status = r.statusCode;
      const kind =
        plan.midStreamFailover && r.statusCode === 200 && isEventStream(r.headers)
          ? continuableKind(ctx.path, ctx.body)
          : undefined;
      client = new ClientStream(ctx, res, result, up.hideUsageChunk && r.statusCode < 400, kind);
    } else {
      rec.detail = `continued the stream after ${client.generated?.events ?? 0} events`;
      result.continuations = (result.continuations ?? 0) + 1;
    }
    // Bookkeeping (attempt metric, postSchedule hooks such as the prefix index) runs right after the first bytes are
    // handed to the socket, in the same tick: same order for every other request, but off the client's TTFT.
    const afterFirstWrite = () => {
      hooks.attempt(ep, rec);
      if (r.statusCode < 400 && !continuing) hooks.committed(ep);
    };
    const end = await client.pump(r, first.chunk, afterFirstWrite, plan.stallTimeoutMs ?? 0);
    release();
    if (end === 'end' || end === 'aborted') {
      // A continued stream's usage is the last leg's: add what the earlier legs generated (one token per event).
      if (result.usage && client.carriedEvents > 0) {
        result.usage.completionTokens += client.carriedEvents;
        result.usage.promptTokens = Math.max(0, result.usage.promptTokens - client.carriedEvents);
      }
      return result;
    }
    // Broke or stalled after bytes reached the client: record it against this endpoint, then continue or end.
    const broke: AttemptRecord = {
      endpoint: ep.state.key,
      outcome: end === 'stalled' ? 'stalled' : 'stream_broken',
      status: r.statusCode,
      detail:
        end === 'stalled'
          ? `${ep.state.key}: no bytes for ${plan.stallTimeoutMs} ms after the stream started`
          : `${ep.state.key}: the stream broke after its first bytes`,
    };
    result.attempts.push(broke);
    hooks.attempt(ep, broke);
    const next = client.continuation(up.body);
    if (next === 'complete') {
      client.endWith(DONE_EVENT);
      return result;
    }
    if (!next || i + 1 >= plan.maxAttempts || n < 2) break;
    upstreamBody = next;
  }
  result.aborted = ctx.signal.aborted;
  if (client) {
    // Headers are out: end the stream with an error the client can see (SSE), or cut it (a JSON body cannot be fixed).
    if (!result.aborted) {
      result.brokenStream = true;
      const last = result.attempts.at(-1);
      client.fail(`the upstream stream failed: ${last?.detail ?? 'broken'}`);
    }
    return result;
  }
  if (!result.aborted) {
    const last = result.attempts.at(-1);
    result.error = errors.allUpstreamsFailed(
      last ? `${result.attempts.length} attempt(s), last: ${last.detail ?? last.outcome}` : 'no candidates',
    );
  }
  return result;
}

const DONE_EVENT = Buffer.from('data: [DONE]\n\n');

function isEventStream(h: IncomingHttpHeaders): boolean {
  const ct = h['content-type'];
  return typeof ct === 'string' && ct.startsWith('text/event-stream');
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

type PumpEnd = RelayEnd;

/**
 * The client's side of one proxied response: the head (written once), the usage filter, the tail kept for usage, and
 * — when the stream may be continued elsewhere — the text relayed so far. Each upstream leg is pumped into it with
 * backpressure until it ends, breaks, stalls or the client leaves.
 */
class ClientStream {
  private readonly tail = new TailBuffer(16 * 1024);
  private readonly filter: UsageChunkFilter | undefined;
  private readonly corker: TickCorker;
  readonly generated: GeneratedText | undefined;
  /** Content events relayed before the current leg began (its usage counts only its own tokens). */
  carriedEvents = 0;
  private headWritten = false;
  /** The response head sent to the client said text/event-stream. */
  private eventStream = false;

  constructor(
    private readonly ctx: RequestContext,
    private readonly res: ServerResponse,
    private readonly result: ProxyResult,
    private readonly hide: boolean,
    kind: 'chat' | 'completion' | undefined,
  ) {
    this.filter = hide ? new UsageChunkFilter() : undefined;
    this.corker = new TickCorker(res);
    this.generated = kind ? new GeneratedText(kind) : undefined;
  }

  pump(
    r: Dispatcher.ResponseData,
    firstBytes: Buffer | null,
    afterFirstWrite: () => void,
    stallMs: number,
  ): Promise<PumpEnd> {
    const { ctx, res, result, corker, filter, tail } = this;
    const body = r.body;
    if (!this.headWritten) {
      this.headWritten = true;
      this.eventStream = isEventStream(r.headers);
      res.writeHead(r.statusCode, responseHeaders(r.headers, this.hide));
    }
    // No flushHeaders(): the first bytes are written right below, so the headers leave in the same packet as them (one
    // syscall and one client wake-up fewer per request). Flushed explicitly only when nothing was written.
    return relayBody(body, res, firstBytes, {
      signal: ctx.signal,
      stallMs,
      chunk: (chunk) => {
        if (result.firstByteAt === undefined) result.firstByteAt = performance.now() - ctx.startedAt;
        tail.push(chunk);
        this.generated?.push(chunk);
        result.dataEvents += countDataEvents(chunk);
        return filter ? filter.push(chunk) : chunk;
      },
      beforeWrite: () => corker.cork(),
      started: () => {
        if (!ctx.signal.aborted) {
          corker.flush(); // the head and first bytes go out now, before the bookkeeping below
          if (!res.headersSent) res.flushHeaders();
        }
        afterFirstWrite();
      },
      ending: () => {
        const rest = filter?.flush();
        if (rest) res.write(rest);
      },
      finished: (how) => {
        if (how === 'aborted') result.aborted = true;
        result.endedAt = performance.now() - ctx.startedAt;
        const u = usageFromTail(tail.toString());
        if (u) result.usage = u;
      },
    });
  }

  /**
   * After a leg broke: the body that continues the generation, 'complete' when it had already finished (only the
   * end of the stream is missing), or undefined when this stream cannot be continued.
   */
  continuation(upstreamBody: Buffer): Buffer | 'complete' | undefined {
    const g = this.generated;
    if (!g || this.res.destroyed) return undefined;
    if (g.finished) return 'complete';
    let parsed: Record<string, unknown>;
    try {
      parsed = JSON.parse(upstreamBody.toString('utf8')) as Record<string, unknown>;
    } catch {
      return undefined;
    }
    const next = continuationBody(parsed, g.kind, g);
    if (!next) return 'complete';
    this.carriedEvents = g.events;
    // A leg that broke inside an event leaves the client half a line: close it so the next event parses.
    if (!g.atBoundary) this.res.write('\n\n');
    return Buffer.from(JSON.stringify(next), 'utf8');
  }

  endWith(bytes: Buffer): void {
    const rest = this.filter?.flush();
    if (rest) this.res.write(rest);
    if (!this.res.destroyed) this.res.end(bytes);
  }

  /** The stream cannot go on: an OpenAI-shaped SSE error event (then [DONE]); other bodies are cut. */
  fail(message: string): void {
    if (this.res.destroyed || this.res.writableEnded) return;
    if (this.eventStream) {
      if (this.generated && !this.generated.atBoundary) this.res.write('\n\n');
      this.endWith(sseErrorEvent(message, 'upstream_stream_failed'));
    } else this.res.destroy();
  }
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
