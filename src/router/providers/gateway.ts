// Serves one request from an ExternalModelProvider: resolve the provider and its credential, build the provider
// request (allowlisted headers only, the router's credential, OpenAI passthrough or Anthropic translation), call it
// over HTTPS with a timeout to the first byte, relay or translate the answer, and report usage. The result has the
// in-cluster proxy's shape so the handler accounts for both the same way.
import type { IncomingHttpHeaders, ServerResponse } from 'node:http';
import { rootCertificates } from 'node:tls';
import type { Logger } from 'pino';
import { Agent, type Dispatcher } from 'undici';
import type { RouterError } from '../errors.js';
import { buildUpstreamBody, firstChunk, HOP_BY_HOP, type ProxyResult } from '../proxy/forward.js';
import { relayBody } from '../proxy/relay.js';
import { countDataEvents, TailBuffer, UsageChunkFilter, usageFromTail } from '../proxy/usage.js';
import type { RequestContext } from '../request/context.js';
import type { ExternalModelProvider } from '../store/resources.js';
import type { RouterStore } from '../store/store.js';
import {
  ANTHROPIC_VERSION,
  AnthropicStreamTranslator,
  anthropicUsage,
  chatToMessages,
  messageToChat,
  providerErrorMessage,
  TranslationError,
} from './anthropic.js';
import type { CredentialStore } from './credentials.js';
import { providerErrors } from './errors.js';
import type { ProviderMetrics } from './metrics.js';
import { type ProviderConfig, parseProvider, providerUrl } from './options.js';

const OPENAI_PATHS = ['/v1/chat/completions', '/v1/completions', '/v1/responses'] as const;
const ANTHROPIC_PATHS = ['/v1/messages', '/v1/chat/completions'] as const;
/** Largest non-streamed provider body we buffer (for translation or error messages). */
const MAX_BUFFERED = 16 * 1024 * 1024;
const MAX_ERROR_BODY = 64 * 1024;

/** Provider response headers not passed to the client: hop-by-hop, the provider's cookies, and the length (the body
 *  may be translated). */
const NOT_FORWARDED = new Set([...HOP_BY_HOP, 'set-cookie', 'content-length']);

export interface ProviderGatewayOptions {
  store: RouterStore;
  credentials: CredentialStore;
  metrics: ProviderMetrics;
  log?: Logger;
  /** Injected for tests: seconds since the epoch for `created`. */
  now?: () => number;
}

/** What the handler learns about a provider call besides the proxy result. */
export interface ProviderCall {
  result: ProxyResult;
  upstreamModel: string;
}

type Parsed = { config?: ProviderConfig; errors: string[] };

export class ProviderGateway {
  private readonly parsed = new WeakMap<ExternalModelProvider, Parsed>();
  private readonly agents = new Map<string, { fp: string; agent: Agent }>();

  constructor(private readonly o: ProviderGatewayOptions) {}

  /** The provider's config, or the error the request gets. Shared with the status writer. */
  configOf(key: string): { provider?: ExternalModelProvider } & Parsed {
    const p = this.o.store.view.providers.get(key);
    if (!p) return { errors: ['not found'] };
    let parsed = this.parsed.get(p);
    if (!parsed) {
      parsed = parseProvider(p);
      this.parsed.set(p, parsed);
    }
    return { provider: p, ...parsed };
  }

  async serve(ctx: RequestContext, res: ServerResponse, key: string): Promise<ProviderCall> {
    const result: ProxyResult = { attempts: [], dataEvents: 0, aborted: false, brokenStream: false };
    const { provider, config: cfg, errors } = this.configOf(key);
    const fail = (error: RouterError, upstreamModel = ctx.model): ProviderCall => {
      result.error = error;
      return { result, upstreamModel };
    };
    if (!provider) return fail(providerErrors.notFound(key));
    if (!cfg) return fail(providerErrors.notReady(key, errors.join('; ')));
    const upstreamModel = cfg.model ?? ctx.model;
    let token: string | undefined;
    if (cfg.auth) {
      const r = this.o.credentials.resolve(cfg.namespace, cfg.auth.secretName, cfg.auth.secretKey);
      if (!r.ok) return fail(providerErrors.notReady(key, r.message), upstreamModel);
      token = r.value;
    }
    const allowed = cfg.type === 'OpenAI' ? OPENAI_PATHS : ANTHROPIC_PATHS;
    if (!(allowed as readonly string[]).includes(ctx.path))
      return fail(providerErrors.unsupportedPath(key, cfg.type, ctx.path, allowed), upstreamModel);

    // ---- body
    const translate = cfg.type === 'Anthropic' && ctx.path === '/v1/chat/completions';
    let body: Buffer;
    let hideUsageChunk = false;
    let path = ctx.path;
    if (cfg.type === 'OpenAI') {
      ctx.upstreamModel = upstreamModel;
      const up = buildUpstreamBody(ctx);
      body = up.body;
      hideUsageChunk = up.hideUsageChunk;
    } else if (translate) {
      try {
        body = Buffer.from(JSON.stringify(chatToMessages(ctx.body, upstreamModel)), 'utf8');
      } catch (e) {
        if (e instanceof TranslationError) return fail(providerErrors.badRequest(key, e.message), upstreamModel);
        throw e;
      }
      path = '/v1/messages';
    } else {
      body = upstreamModel === ctx.model ? ctx.raw : Buffer.from(JSON.stringify({ ...ctx.body, model: upstreamModel }));
    }
    const query = ctx.url.includes('?') ? ctx.url.slice(ctx.url.indexOf('?')) : '';
    const url = providerUrl(cfg, path, query);
    const headers = this.headers(ctx.headers, cfg, token, ctx.id, body.length);

    // ---- call, bounded to the first byte
    const outcome = (o: string) => this.o.metrics.attempts.inc({ provider: key, provider_type: cfg.type, outcome: o });
    const ac = new AbortController();
    const onAbort = () => ac.abort();
    ctx.signal.addEventListener('abort', onAbort, { once: true });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort();
    }, cfg.timeoutMs);
    const record = (rec: ProxyResult['attempts'][number]) => result.attempts.push(rec);
    try {
      let r: Dispatcher.ResponseData;
      try {
        r = await this.agent(cfg).request({
          origin: url.origin,
          path: `${url.pathname}${url.search}`,
          method: 'POST',
          headers,
          body,
          signal: ac.signal,
        });
      } catch (e) {
        return fail(this.transportError(key, cfg, e, timedOut, ctx, result, outcome, record), upstreamModel);
      }
      if (r.statusCode >= 400) {
        const text = await readLimited(r.body, MAX_ERROR_BODY).catch(() => '');
        const msg = providerErrorMessage(text) ?? (text.trim().slice(0, 300) || undefined);
        const ra = r.headers['retry-after'];
        const err = providerErrors.fromStatus(
          key,
          r.statusCode,
          msg === undefined ? undefined : this.o.credentials.redact(msg),
          typeof ra === 'string' ? ra : undefined,
        );
        outcome(
          r.statusCode === 401 || r.statusCode === 403
            ? 'auth_error'
            : r.statusCode === 429
              ? 'rate_limited'
              : r.statusCode >= 500
                ? 'server_error'
                : 'client_error',
        );
        record({ endpoint: key, outcome: r.statusCode >= 500 ? 'server_error' : 'client_error', status: r.statusCode });
        return fail(err, upstreamModel);
      }
      const first = await firstChunk(r.body);
      if (first.error) {
        return fail(this.transportError(key, cfg, first.error, timedOut, ctx, result, outcome, record), upstreamModel);
      }
      clearTimeout(timer);
      outcome('ok');
      record({ endpoint: key, outcome: 'ok', status: r.statusCode });
      result.status = r.statusCode;
      const stream = /text\/event-stream/i.test(String(r.headers['content-type'] ?? '')) || ctx.stream;
      if (translate && !stream) {
        await this.translateJson(ctx, res, r, first.chunk, result, key);
      } else if (translate) {
        const includeUsage =
          (ctx.body.stream_options as { include_usage?: unknown } | undefined)?.include_usage === true;
        const tr = new AnthropicStreamTranslator(this.now(), includeUsage);
        await relay(ctx, res, r, first.chunk, result, {
          headers: { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' },
          push: (b) => tr.push(b.toString('utf8')),
          end: () => undefined,
          events: () => tr.contentEvents,
        });
        result.usage = tr.usage;
        if (!tr.done && !result.aborted) result.brokenStream = true;
      } else if (cfg.type === 'Anthropic') {
        // Native /v1/messages: bytes verbatim, usage read on the way.
        const obs = new AnthropicStreamTranslator(0, false);
        const tail = new TailBuffer(64 * 1024);
        await relay(ctx, res, r, first.chunk, result, {
          headers: passHeaders(r.headers),
          push: (b) => {
            if (stream) obs.observe(b.toString('utf8'));
            else tail.push(b);
            return b;
          },
          end: () => undefined,
        });
        result.usage = stream ? obs.usage : parseJsonUsage(tail.toString());
      } else {
        const tail = new TailBuffer(16 * 1024);
        const filter = hideUsageChunk ? new UsageChunkFilter() : undefined;
        await relay(ctx, res, r, first.chunk, result, {
          headers: passHeaders(r.headers),
          push: (b) => {
            tail.push(b);
            return filter ? filter.push(b) : b;
          },
          end: () => filter?.flush(),
        });
        result.usage = usageFromTail(tail.toString());
      }
      return { result, upstreamModel };
    } finally {
      clearTimeout(timer);
      ctx.signal.removeEventListener('abort', onAbort);
    }
  }

  async close(): Promise<void> {
    const all = [...this.agents.values()];
    this.agents.clear();
    await Promise.all(all.map((a) => a.agent.close().catch(() => undefined)));
  }

  private now(): number {
    return this.o.now?.() ?? Math.floor(Date.now() / 1000);
  }

  private transportError(
    key: string,
    cfg: ProviderConfig,
    e: unknown,
    timedOut: boolean,
    ctx: RequestContext,
    result: ProxyResult,
    outcome: (o: string) => void,
    record: (r: ProxyResult['attempts'][number]) => void,
  ): RouterError {
    if (ctx.signal.aborted && !timedOut) {
      result.aborted = true;
      outcome('aborted');
      record({ endpoint: key, outcome: 'aborted', detail: 'client disconnected' });
      return providerErrors.unreachable(key, 'client disconnected');
    }
    if (timedOut) {
      outcome('timeout');
      record({ endpoint: key, outcome: 'timeout', detail: `no answer within ${cfg.timeoutMs} ms` });
      return providerErrors.timeout(key, cfg.timeoutMs);
    }
    const err = e as { code?: string; message?: string };
    const detail = `${err.code ?? 'error'}: ${err.message ?? String(e)}`;
    outcome('connect_error');
    record({ endpoint: key, outcome: 'connect_error', detail });
    this.o.log?.warn({ provider: key, err: detail }, 'external provider request failed');
    return providerErrors.unreachable(key, detail);
  }

  /** Allowlisted client headers, then static headers, then the router's credential (never the client's). */
  private headers(
    h: IncomingHttpHeaders,
    cfg: ProviderConfig,
    token: string | undefined,
    requestId: string,
    length: number,
  ): Record<string, string> {
    const out: Record<string, string> = {};
    for (const name of cfg.forward) {
      const v = h[name];
      if (v !== undefined) out[name] = Array.isArray(v) ? v.join(', ') : v;
    }
    Object.assign(out, cfg.headers);
    out['x-request-id'] = requestId;
    out['content-type'] = 'application/json';
    out['content-length'] = String(length);
    out['accept-encoding'] = 'identity';
    if (cfg.type === 'Anthropic') out['anthropic-version'] ??= ANTHROPIC_VERSION;
    if (token !== undefined && cfg.auth) {
      if (cfg.auth.scheme === 'Bearer') out.authorization = `Bearer ${token}`;
      else out['x-api-key'] = token;
    }
    return out;
  }

  private agent(cfg: ProviderConfig): Agent {
    const fp = `${cfg.insecureSkipVerify}|${cfg.caBundle ?? ''}|${cfg.idleTimeoutMs}`;
    const have = this.agents.get(cfg.key);
    if (have && have.fp === fp) return have.agent;
    if (have) void have.agent.close().catch(() => undefined); // in-flight requests finish on the old agent
    const agent = new Agent({
      connect: {
        rejectUnauthorized: !cfg.insecureSkipVerify,
        ...(cfg.caBundle ? { ca: [...rootCertificates, cfg.caBundle] } : {}),
        timeout: cfg.timeoutMs,
      },
      headersTimeout: 0, // our own timer bounds time to the first byte
      bodyTimeout: cfg.idleTimeoutMs,
      keepAliveTimeout: 4_000,
      maxRedirections: 0,
    } as Agent.Options);
    this.agents.set(cfg.key, { fp, agent });
    return agent;
  }

  private async translateJson(
    ctx: RequestContext,
    res: ServerResponse,
    r: Dispatcher.ResponseData,
    first: Buffer | null,
    result: ProxyResult,
    key: string,
  ): Promise<void> {
    let text: string;
    try {
      text = (first ? first.toString('utf8') : '') + (await readLimited(r.body, MAX_BUFFERED));
    } catch {
      result.aborted = ctx.signal.aborted;
      result.brokenStream = !result.aborted;
      result.error = providerErrors.unreachable(key, 'response body broke');
      return;
    }
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(text) as Record<string, unknown>;
    } catch {
      result.error = providerErrors.unreachable(key, 'provider answered with invalid JSON');
      return;
    }
    const out = messageToChat(msg, this.now());
    const json = JSON.stringify(out.body);
    result.usage = out.usage;
    result.firstByteAt = performance.now() - ctx.startedAt;
    res.writeHead(result.status ?? 200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(json),
    });
    res.end(json);
    result.endedAt = performance.now() - ctx.startedAt;
  }
}

function passHeaders(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !NOT_FORWARDED.has(k)) out[k] = v;
  return out;
}

function parseJsonUsage(text: string): ReturnType<typeof anthropicUsage> {
  try {
    return anthropicUsage((JSON.parse(text) as { usage?: unknown }).usage);
  } catch {
    return undefined;
  }
}

function readLimited(body: Dispatcher.ResponseData['body'], max: number): Promise<string> {
  return new Promise((resolve, reject) => {
    // firstChunk may have consumed everything and 'end' may already have fired.
    if (body.readableEnded) return resolve('');
    const parts: Buffer[] = [];
    let n = 0;
    body.on('data', (c: Buffer) => {
      n += c.length;
      if (n > max) {
        body.destroy();
        resolve(Buffer.concat(parts).toString('utf8'));
        return;
      }
      parts.push(c);
    });
    body.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    body.on('error', reject);
    body.resume(); // after firstChunk's 'readable' listener the stream is not flowing by itself
  });
}

interface RelayShape {
  headers: Record<string, string | string[]>;
  /** Transforms provider bytes into client bytes (undefined/'' = nothing to write yet). */
  push(b: Buffer): Buffer | string | undefined;
  end(): Buffer | string | undefined;
  /** Content events for TPOT when the output is not the provider's own SSE. */
  events?: () => number;
}

/**
 * Streams the provider body to the client through the router's one body relay (src/router/proxy/relay.ts), shaped by
 * `shape`; resolves on end, provider error (the client connection is cut) or client abort.
 */
async function relay(
  ctx: RequestContext,
  res: ServerResponse,
  r: Dispatcher.ResponseData,
  first: Buffer | null,
  result: ProxyResult,
  shape: RelayShape,
): Promise<void> {
  res.writeHead(r.statusCode, shape.headers);
  res.flushHeaders();
  const beforeWrite = (out: Buffer | string) => {
    if (result.firstByteAt === undefined) result.firstByteAt = performance.now() - ctx.startedAt;
    if (!shape.events) result.dataEvents += countDataEvents(typeof out === 'string' ? Buffer.from(out) : out);
  };
  await relayBody(r.body, res, first, {
    signal: ctx.signal,
    chunk: (b) => shape.push(b),
    beforeWrite,
    ending: () => {
      const out = shape.end();
      if (out === undefined || out.length === 0) return;
      beforeWrite(out);
      res.write(out);
    },
    finished: (end) => {
      if (end === 'aborted') result.aborted = true;
      else if (end !== 'end') {
        result.brokenStream = true;
        res.destroy();
      }
      result.endedAt = performance.now() - ctx.startedAt;
      if (shape.events) result.dataEvents = shape.events() + 1;
    },
  });
}
