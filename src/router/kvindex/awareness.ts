// Precise KV awareness: the state shared by the precise-prefix-cache and latency-predictor scorers of one router.
//   - token ids of the request from its tokenizer source (tokenizer-source.ts: the model's own tokenizer, the engine's
//     /tokenize, or the simulator's), hashed with the router's chained block-hash scheme at each endpoint's block size;
//   - the KvBlockIndex fed by one ZMQ subscription per endpoint — opened when the endpoint enters the store, with a
//     replay of what the engine published before — plus speculative inserts at dispatch;
//   - per-endpoint queued prefill work the router itself sent (uncached tokens not yet at first byte);
//   - the online TTFT model, fed at each first byte;
//   - self-verification: predicted cached tokens vs the engine's usage.prompt_tokens_details.cached_tokens.
import { blockHashes } from '../../tokens/index.js';
import type { RequestContext } from '../request/context.js';
import type { EndpointState } from '../store/endpoint-state.js';
import type { ServerEndpoint } from '../store/store.js';
import { DEFAULT_KV_INDEX_OPTIONS, KvBlockIndex, type KvIndexOptions } from './block-index.js';
import { type LatencyInputs, OnlineLatencyModel, predictTtft } from './latency-model.js';
import { KvEventSubscriber, type SubscriberLog } from './subscriber.js';
import { type TokenizerMode, type TokenSource, TokenSources } from './tokenizer-source.js';
import { PredictionVerifier } from './verifier.js';

export interface AwarenessOptions {
  tokenizer: TokenizerMode;
  /** Model name (ModelServer spec.model, or the client's model) → tokenizer directory or tokenizer.json. */
  tokenizers?: Record<string, string>;
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
  /** Called once per tokenization failure (the request is then scored on load only). */
  onTokenizerFailure?(model: string, source: TokenSource): void;
  /** Whether to GET each new endpoint's /v1/models for a simulator's announcement (default: when subscribing). */
  probe?: boolean;
}

export const KV_EVENTS_PORT_LABEL = 'kthena.io/kv-events-port';
/** Port of the engine's KV-event replay socket (vLLM's kv-events-config replay_endpoint). */
export const KV_REPLAY_PORT_LABEL = 'kthena.io/kv-replay-port';

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
  readonly tokenizers: TokenSources;

  constructor(readonly opts: AwarenessOptions) {
    this.now = opts.now ?? (() => performance.now());
    this.index = new KvBlockIndex({
      ...DEFAULT_KV_INDEX_OPTIONS,
      ...opts.index,
      hashSeed: opts.hashSeed,
      now: this.now,
    });
    this.subscriber = opts.subscribe ? new KvEventSubscriber(this.index, opts.log) : undefined;
    this.verifier = new PredictionVerifier({ log: opts.log });
    this.tokenizers = new TokenSources({
      mode: opts.tokenizer,
      tokenizers: opts.tokenizers,
      probe: opts.probe ?? !!this.subscriber,
      log: opts.log,
      onFailure: (model, source) => opts.onTokenizerFailure?.(model, source),
      onAnnounced: (state) => this.ensureSubscribed(state),
    });
  }

  close(): void {
    this.subscriber?.close();
  }

  /** tcp://address:port of the endpoint's KV-event publisher. */
  eventsUrl(ep: ServerEndpoint): string {
    return this.eventsUrlOf(ep.state);
  }

  private eventsUrlOf(state: EndpointState): string {
    const label = Number(state.labels[KV_EVENTS_PORT_LABEL]);
    return `tcp://${hostOf(state.address)}:${validPort(label) ? label : this.opts.kvEventsPort}`;
  }

  /**
   * An endpoint entered the store: subscribe to its KV events now (not at its first request), so what it caches —
   * and, through the replay, what it cached before this router started — is known from the start.
   */
  endpointAdded(state: EndpointState): void {
    this.ensureSubscribed(state);
    this.tokenizers.endpointAdded(state);
  }

  private ensureSubscribed(state: EndpointState): void {
    const sub = this.subscriber;
    if (!sub) return;
    const url = this.eventsUrlOf(state);
    if (!sub.has(state.key, url)) {
      sub.subscribe(state.key, url).catch((err: Error) => {
        this.opts.log?.warn({ endpoint: state.key, err: (err as Error).message }, 'KV event subscription failed');
      });
    }
    const label = Number(state.labels[KV_REPLAY_PORT_LABEL]);
    const port = validPort(label) ? label : this.tokenizers.announced.get(state.key)?.replayPort;
    if (port) sub.setReplay(state.key, `tcp://${hostOf(state.address)}:${port}`);
  }

  /** Per request, before scoring: subscriptions for new endpoints, token ids of the prompt. */
  async prepare(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): Promise<void> {
    if (this.subscriber) for (const ep of endpoints) this.ensureSubscribed(ep.state);
    if (ctx.tokenIds) return;
    const { tokens, promptLen } = await this.tokenizers.tokens(ctx, endpoints);
    ctx.tokenIds = tokens;
    if (promptLen !== undefined) ctx.promptLen = promptLen;
  }

  /** Prompt length: the tokens, or the prefix's tokens plus an estimate of the last message when only those are known. */
  promptLenOf(ctx: RequestContext): number {
    return ctx.promptLen ?? this.tokensOf(ctx).length;
  }

  tokensOf(ctx: RequestContext): number[] {
    return ctx.tokenIds ?? [];
  }

  blockSizeFor(endpoint: string): number {
    return this.index.blockSizeOf(endpoint) ?? this.opts.blockSize;
  }

  /** Block hashes of the request at the given block size (memoised per request). */
  hashesOf(ctx: RequestContext, blockSize: number): number[] {
    ctx.blockHashes ??= new Map();
    let h = ctx.blockHashes.get(blockSize);
    if (!h) {
      h = blockHashes(this.tokensOf(ctx), blockSize, 0, this.opts.hashSeed);
      ctx.blockHashes.set(blockSize, h);
    }
    return h;
  }

  /** Prompt tokens each endpoint already holds, as far as the index knows. */
  cachedTokens(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): number[] {
    // The engine always recomputes at least the last token.
    const most = Math.max(0, this.promptLenOf(ctx) - 1);
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
    const promptTokens = this.promptLenOf(ctx) || ctx.inputTokens;
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
    this.tokenizers.forget(endpoint);
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
            replays: this.subscriber.replays,
            replayedBatches: this.subscriber.replayedBatches,
            replayFailures: this.subscriber.replayFailures,
          }
        : null,
      tokenizer: this.tokenizers.debugState(),
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

const validPort = (n: number) => Number.isInteger(n) && n > 0 && n < 65536;
const hostOf = (address: string) => (address.includes(':') ? `[${address}]` : address);
