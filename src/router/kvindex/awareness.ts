// Precise KV awareness: the state shared by the precise-prefix-cache and latency-predictor scorers of one router.
//   - token ids of the request (local tokenizer, or the engine's /tokenize), hashed with the engines' chained
//     block-hash scheme at each endpoint's block size (learned from its BlockStored events);
//   - the KvBlockIndex fed by one ZMQ subscription per endpoint, plus speculative inserts at dispatch;
//   - per-endpoint queued prefill work the router itself sent (uncached tokens not yet at first byte);
//   - the online TTFT model, fed at each first byte;
//   - self-verification: predicted cached tokens vs the engine's usage.prompt_tokens_details.cached_tokens.
import { request } from 'undici';
import { blockHashes, localTokens } from '../../tokens/index.js';
import type { RequestContext } from '../request/context.js';
import type { ServerEndpoint } from '../store/store.js';
import { DEFAULT_KV_INDEX_OPTIONS, KvBlockIndex, type KvIndexOptions } from './block-index.js';
import { type LatencyInputs, OnlineLatencyModel, predictTtft } from './latency-model.js';
import { KvEventSubscriber, type SubscriberLog } from './subscriber.js';
import { PredictionVerifier } from './verifier.js';

export interface AwarenessOptions {
  /** 'local': the built-in tokenizer (same vocabulary as the simulated engines); 'remote': POST {endpoint}/tokenize. */
  tokenizer: 'local' | 'remote';
  /** Used until an endpoint's events announce its block size. */
  blockSize: number;
  hashSeed: number;
  /** KV-event port when the endpoint has no `kthena.io/kv-events-port` label. */
  kvEventsPort: number;
  /** false: no ZMQ (tests feeding the index directly). */
  subscribe: boolean;
  index?: Partial<Omit<KvIndexOptions, 'now'>>;
  now?: () => number;
  log?: SubscriberLog & { info?(obj: object, msg: string): void };
}

export const KV_EVENTS_PORT_LABEL = 'kthena.io/kv-events-port';
const TOKENS = 'kv.tokens';

interface Dispatch {
  endpoint: string;
  inputs: LatencyInputs;
  uncached: number;
  predictedCached: number;
  /** predicted TTFT at dispatch, seconds */
  predictedSec: number;
  startedAt: number;
  firstByte: boolean;
}

export class KvAwareness {
  readonly index: KvBlockIndex;
  readonly subscriber: KvEventSubscriber | undefined;
  readonly model = new OnlineLatencyModel();
  readonly verifier: PredictionVerifier;
  /** endpoint key → uncached prompt tokens sent there and not yet at first byte */
  private readonly queued = new Map<string, { tokens: number; requests: number }>();
  private readonly dispatches = new Map<string, Dispatch>();
  private readonly now: () => number;

  constructor(readonly opts: AwarenessOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.index = new KvBlockIndex({ ...DEFAULT_KV_INDEX_OPTIONS, ...opts.index, now: this.now });
    this.subscriber = opts.subscribe ? new KvEventSubscriber(this.index, opts.log) : undefined;
    this.verifier = new PredictionVerifier({ log: opts.log });
  }

  close(): void {
    this.subscriber?.close();
  }

  /** tcp://address:port of the endpoint's KV-event publisher. */
  eventsUrl(ep: ServerEndpoint): string {
    const label = Number(ep.state.labels[KV_EVENTS_PORT_LABEL]);
    const port = Number.isInteger(label) && label > 0 && label < 65536 ? label : this.opts.kvEventsPort;
    const host = ep.state.address.includes(':') ? `[${ep.state.address}]` : ep.state.address;
    return `tcp://${host}:${port}`;
  }

  /** Per request, before scoring: subscriptions for new endpoints, token ids of the prompt. */
  async prepare(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): Promise<void> {
    if (this.subscriber) {
      for (const ep of endpoints) {
        const url = this.eventsUrl(ep);
        if (!this.subscriber.has(ep.state.key, url)) {
          this.subscriber.subscribe(ep.state.key, url).catch((err: Error) => {
            this.opts.log?.warn({ endpoint: ep.state.key, err: err.message }, 'KV event subscription failed');
          });
        }
      }
    }
    if (ctx.attrs.has(TOKENS)) return;
    let tokens: number[] | undefined;
    try {
      tokens =
        this.opts.tokenizer === 'local' ? localTokens(ctx.body) : await remoteTokens(ctx, endpoints[0], ctx.signal);
    } catch (err) {
      this.opts.log?.debug({ err: (err as Error).message }, 'tokenization failed; scoring without cache affinity');
    }
    ctx.attrs.set(TOKENS, tokens ?? []);
  }

  tokensOf(ctx: RequestContext): number[] {
    return (ctx.attrs.get(TOKENS) as number[] | undefined) ?? [];
  }

  blockSizeFor(endpoint: string): number {
    return this.index.blockSizeOf(endpoint) ?? this.opts.blockSize;
  }

  /** Block hashes of the request at the given block size (memoised per request). */
  hashesOf(ctx: RequestContext, blockSize: number): number[] {
    const key = `kv.hashes.${blockSize}`;
    let h = ctx.attrs.get(key) as number[] | undefined;
    if (!h) {
      h = blockHashes(this.tokensOf(ctx), blockSize, 0, this.opts.hashSeed);
      ctx.attrs.set(key, h);
    }
    return h;
  }

  /** Prompt tokens each endpoint already holds, as far as the index knows. */
  cachedTokens(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): number[] {
    // The engine always recomputes at least the last token.
    const most = Math.max(0, this.tokensOf(ctx).length - 1);
    const out = new Array<number>(endpoints.length);
    let lastSize = -1;
    let hashes: number[] = [];
    for (let i = 0; i < endpoints.length; i++) {
      const key = endpoints[i].state.key;
      const bs = this.blockSizeFor(key);
      if (bs !== lastSize) {
        hashes = this.hashesOf(ctx, bs);
        lastSize = bs;
      }
      out[i] = Math.min(this.index.prefixLength(hashes, key) * bs, most);
    }
    return out;
  }

  queuedOf(endpoint: string): { tokens: number; requests: number } {
    return this.queued.get(endpoint) ?? { tokens: 0, requests: 0 };
  }

  /** Latency-model inputs for each candidate. */
  inputsFor(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): LatencyInputs[] {
    const cached = this.cachedTokens(ctx, endpoints);
    const promptTokens = this.tokensOf(ctx).length || ctx.inputTokens;
    const backlog = this.backlog();
    return endpoints.map((ep, i) => {
      const q = this.queuedOf(ep.state.key);
      // Engine-reported waiting requests beyond what this router sent (other router replicas): assume they are
      // as large as this one (the only size we know).
      const foreignWaiting = Math.max(0, ep.state.metrics.waiting - q.requests);
      return {
        promptTokens,
        cachedTokens: cached[i],
        queuedPrefillTokens: q.tokens + foreignWaiting * promptTokens,
        decoding: Math.max(0, ep.state.inflight - q.requests, ep.state.metrics.running - q.requests),
        backlogSec: backlog.get(ep.state.key) ?? 0,
      };
    });
  }

  /**
   * endpoint → how far (seconds) its most overdue request is past the TTFT predicted for it at dispatch, over the
   * requests this router sent there that have no first byte yet. Self-correcting: it falls as soon as those
   * requests produce their first token, and it needs no constant tuned to the engine's speed.
   */
  backlog(now = this.now()): Map<string, number> {
    const out = new Map<string, number>();
    for (const d of this.dispatches.values()) {
      if (d.firstByte) continue;
      const late = (now - d.startedAt) / 1000 - d.predictedSec;
      if (late > (out.get(d.endpoint) ?? 0)) out.set(d.endpoint, late);
    }
    return out;
  }

  dispatch(ctx: RequestContext, ep: ServerEndpoint): void {
    const key = ep.state.key;
    const [inputs] = this.inputsFor(ctx, [ep]);
    const uncached = Math.max(0, inputs.promptTokens - inputs.cachedTokens);
    this.cancel(ctx);
    this.dispatches.set(ctx.id, {
      endpoint: key,
      inputs,
      uncached,
      predictedCached: inputs.cachedTokens,
      predictedSec: predictTtft(this.model.coefficients, inputs).ttftSec,
      startedAt: this.now(),
      firstByte: false,
    });
    const q = this.queued.get(key) ?? { tokens: 0, requests: 0 };
    q.tokens += uncached;
    q.requests++;
    this.queued.set(key, q);
    // Speculative: the engine will hold these blocks once it has prefilled this prompt.
    const hashes = this.hashesOf(ctx, this.blockSizeFor(key));
    if (hashes.length) this.index.addSpeculative(key, hashes);
  }

  /** First byte from `ep`: the request's prefill is done; learn from its TTFT. */
  firstByte(ctx: RequestContext, ep: ServerEndpoint): void {
    const d = this.dispatches.get(ctx.id);
    if (!d || d.endpoint !== ep.state.key || d.firstByte) return;
    d.firstByte = true;
    this.unqueue(d);
    this.model.observe(d.inputs, (this.now() - d.startedAt) / 1000);
  }

  release(ctx: RequestContext, ep: ServerEndpoint): void {
    const d = this.dispatches.get(ctx.id);
    if (!d || d.endpoint !== ep.state.key) return;
    if (!d.firstByte) {
      this.unqueue(d);
      this.dispatches.delete(ctx.id);
    }
  }

  /** Terminal: compare the predicted cached tokens with the engine's report. */
  done(ctx: RequestContext, endpoint: string | undefined, cachedTokens: number | undefined): void {
    const d = this.dispatches.get(ctx.id);
    this.dispatches.delete(ctx.id);
    if (!d) return;
    if (!d.firstByte) this.unqueue(d);
    if (endpoint === d.endpoint && cachedTokens !== undefined && d.inputs.promptTokens > 0)
      this.verifier.record(ctx.model, d.predictedCached, cachedTokens, d.inputs.promptTokens);
  }

  forgetEndpoint(endpoint: string): void {
    this.subscriber?.unsubscribe(endpoint);
    this.index.removeEndpoint(endpoint);
    this.queued.delete(endpoint);
  }

  debugState(): unknown {
    return {
      entries: this.index.entries,
      bytes: this.index.bytes,
      evictions: this.index.evictions,
      endpoints: Object.fromEntries(this.index.endpoints().map((e) => [e, this.index.stats(e)])),
      queued: Object.fromEntries(this.queued),
      model: { ...this.model.coefficients, observations: this.model.observations },
      verification: this.verifier.snapshot(),
      subscriber: this.subscriber
        ? {
            sockets: this.subscriber.size,
            disconnects: this.subscriber.disconnects,
            decodeErrors: this.subscriber.decodeErrors,
          }
        : null,
    };
  }

  private cancel(ctx: RequestContext): void {
    const d = this.dispatches.get(ctx.id);
    if (d && !d.firstByte) this.unqueue(d);
    this.dispatches.delete(ctx.id);
  }

  private unqueue(d: Dispatch): void {
    const q = this.queued.get(d.endpoint);
    if (!q) return;
    q.tokens = Math.max(0, q.tokens - d.uncached);
    q.requests = Math.max(0, q.requests - 1);
    d.uncached = 0;
  }
}

async function remoteTokens(
  ctx: RequestContext,
  ep: ServerEndpoint | undefined,
  signal: AbortSignal,
): Promise<number[]> {
  if (!ep) return [];
  const b = ctx.body;
  const payload: Record<string, unknown> = { model: ctx.upstreamModel };
  if (Array.isArray(b.messages)) {
    payload.messages = b.messages;
    if (typeof b.add_generation_prompt === 'boolean') payload.add_generation_prompt = b.add_generation_prompt;
  } else if (typeof b.prompt === 'string') payload.prompt = b.prompt;
  else return localTokens(b);
  const res = await request(`${ep.origin}/tokenize`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(payload),
    signal,
  });
  const json = (await res.body.json()) as { tokens?: unknown };
  if (res.statusCode !== 200 || !Array.isArray(json.tokens)) throw new Error(`/tokenize answered ${res.statusCode}`);
  return json.tokens as number[];
}
