// Precise KV awareness: the state shared by the precise-prefix-cache and latency-predictor scorers of one router.
//   - token ids of the request from its tokenizer source (tokenizer-source.ts: the model's own tokenizer, the engine's
//     /tokenize, or the simulator's), hashed with the router's chained block-hash scheme at each endpoint's block size;
//   - the KvBlockIndex fed by one ZMQ subscription per endpoint — opened when the endpoint enters the store, with a
//     replay of what the engine published before — plus speculative inserts at dispatch;
//   - per-endpoint queued prefill work the router itself sent (uncached tokens not yet at first byte);
//   - the online TTFT model, fed at each first byte;
//   - self-verification: predicted cached tokens vs the engine's usage.prompt_tokens_details.cached_tokens.
import { request } from 'undici';
import { blockHashes, bodyTokens, HfTokenizer, SIM_TOKENIZER } from '../../tokens/index.js';
import type { RequestContext } from '../request/context.js';
import type { EndpointState } from '../store/endpoint-state.js';
import type { ServerEndpoint } from '../store/store.js';
import { DEFAULT_KV_INDEX_OPTIONS, KvBlockIndex, type KvIndexOptions } from './block-index.js';
import { type LatencyInputs, OnlineLatencyModel, predictTtft } from './latency-model.js';
import { RemoteTokenizer } from './remote-tokens.js';
import { KvEventSubscriber, type SubscriberLog } from './subscriber.js';
import { PredictionVerifier } from './verifier.js';

/**
 * Where the router gets a request's token ids:
 *   auto       (default) the model's tokenizer when one is configured for it (ModelServer annotation
 *              kthena.io/tokenizer, or the `tokenizers` argument); else the simulator's when every candidate announces
 *              itself as the simulator with its built-in tokenizer; else the engine's /tokenize (prefix-cached)
 *   local      the simulator's built-in tokenizer (also spelled `simulator`)
 *   remote     always the engine's /tokenize
 */
export type TokenizerMode = 'auto' | 'local' | 'remote';
export type TokenSource = 'model' | 'simulator' | 'remote' | 'none';

/** What an endpoint's /v1/models told us (simulators only; real engines announce nothing). */
export interface EngineAnnouncement {
  tokenizer: 'simulator' | 'hf' | 'unknown';
  replayPort: number | null;
}

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
/** ModelServer annotation: the model's tokenizer directory or tokenizer.json, as mounted in the router. */
export const TOKENIZER_ANNOTATION = 'kthena.io/tokenizer';
const PROMPT_LEN = 'kv.promptLen';
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
  readonly remote = new RemoteTokenizer();
  /** Tokenizer path → the loaded tokenizer (or its loading, or why it failed). */
  private readonly local = new Map<string, { tok?: HfTokenizer; loading?: Promise<void>; error?: string }>();
  /** Endpoint key → its announcement (or the probe still running). */
  private readonly announced = new Map<string, EngineAnnouncement>();
  private readonly probes = new Map<string, Promise<void>>();
  /** Model → the source its last request used, for /debug. */
  readonly sources = new Map<string, { source: TokenSource; detail?: string }>();
  private readonly warnedModels = new Set<string>();
  tokenizeNanos = 0n;
  tokenizeCount = 0;

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
    // Tokenizers named in the configuration load at start (parsing one blocks the event loop for 1–4 s: better
    // before traffic than during it); those named by ModelServer annotations load at their model's first request.
    if (opts.tokenizer === 'auto')
      for (const path of new Set(Object.values(opts.tokenizers ?? {}))) this.localTokenizer(path);
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
    if ((this.opts.probe ?? !!this.subscriber) && !this.probes.has(state.key))
      this.probes.set(state.key, this.probeEndpoint(state));
  }

  /** Loads a tokenizer path now (normally the first request of its model starts it in the background). */
  async preload(path: string): Promise<void> {
    this.localTokenizer(path);
    await this.local.get(path)?.loading;
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
    const port = validPort(label) ? label : this.announced.get(state.key)?.replayPort;
    if (port) sub.setReplay(state.key, `tcp://${hostOf(state.address)}:${port}`);
  }

  /**
   * GET /v1/models until it answers (a few tries, backing off): a simulator says which tokenizer it uses and its
   * replay port. The returned promise settles after the first try, so a request never waits on an endpoint that is down.
   */
  private probeEndpoint(state: EndpointState): Promise<void> {
    const once = async (): Promise<boolean> => {
      try {
        const res = await request(`${state.origin}/v1/models`, { signal: AbortSignal.timeout(2_000) });
        const doc = (await res.body.json()) as { data?: { kthena_sim?: Record<string, unknown> }[] };
        if (res.statusCode !== 200) return false;
        const sim = doc.data?.[0]?.kthena_sim;
        const kind = sim?.tokenizer;
        const port = Number(sim?.kv_events_replay_port);
        this.announced.set(state.key, {
          tokenizer: kind === 'simulator' || kind === 'hf' ? kind : 'unknown',
          replayPort: validPort(port) ? port : null,
        });
        if (!state.removed) this.ensureSubscribed(state);
        return true;
      } catch {
        return false;
      }
    };
    const first = once();
    void first.then(async (ok) => {
      for (let attempt = 1; !ok && attempt < 8 && !state.removed && this.probes.has(state.key); attempt++) {
        await new Promise((r) => setTimeout(r, 250 * 2 ** attempt).unref());
        ok = await once();
      }
    });
    return first.then(() => undefined);
  }

  /** Per request, before scoring: subscriptions for new endpoints, token ids of the prompt. */
  async prepare(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): Promise<void> {
    if (this.subscriber) for (const ep of endpoints) this.ensureSubscribed(ep.state);
    if (ctx.attrs.has(TOKENS)) return;
    const started = process.hrtime.bigint();
    const source = await this.sourceFor(ctx, endpoints);
    let tokens: number[] = [];
    let promptLen: number | undefined;
    try {
      if (source.source === 'model' && source.tok) tokens = bodyTokens(source.tok, ctx.body);
      else if (source.source === 'simulator') tokens = bodyTokens(SIM_TOKENIZER, ctx.body);
      else if (source.source === 'remote') {
        const r = await this.remoteTokens(ctx, endpoints);
        if (r) {
          tokens = r.tokens;
          if (!r.complete) promptLen = r.tokens.length + estimateLast(ctx.body);
        }
      }
    } catch (err) {
      this.tokenizerFailed(ctx, source.source, (err as Error).message);
    }
    this.tokenizeNanos += process.hrtime.bigint() - started;
    this.tokenizeCount++;
    ctx.attrs.set(TOKENS, tokens);
    if (promptLen !== undefined) ctx.attrs.set(PROMPT_LEN, promptLen);
  }

  /** /tokenize on the first candidate, or the second when the first fails (an engine that is down or restarting). */
  private async remoteTokens(ctx: RequestContext, endpoints: readonly ServerEndpoint[]) {
    if (endpoints.length === 0) return undefined;
    for (let i = 0; ; i++) {
      try {
        return await this.remote.tokens(endpoints[i].origin, ctx.upstreamModel, ctx.body);
      } catch (err) {
        if (i + 1 >= Math.min(2, endpoints.length)) throw err;
      }
    }
  }

  /** Decides the tokenizer source of this request (see TokenizerMode); loads a configured tokenizer in the background. */
  async sourceFor(
    ctx: RequestContext,
    endpoints: readonly ServerEndpoint[],
  ): Promise<{ source: TokenSource; tok?: HfTokenizer; detail?: string }> {
    const mode = this.opts.tokenizer;
    let out: { source: TokenSource; tok?: HfTokenizer; detail?: string };
    if (mode === 'local') out = { source: 'simulator' };
    else if (mode === 'remote') out = { source: 'remote' };
    else {
      const path = this.configuredPath(ctx);
      const loaded = path ? this.localTokenizer(path) : undefined;
      if (loaded?.tok) out = { source: 'model', tok: loaded.tok, detail: path };
      else {
        if (path && loaded?.error) this.tokenizerFailed(ctx, 'model', loaded.error);
        out = (await this.allAnnounceSimulator(endpoints))
          ? { source: 'simulator' }
          : { source: 'remote', detail: path ? `${path} (${loaded?.error ?? 'loading'})` : undefined };
      }
    }
    const prev = this.sources.get(ctx.model);
    if (prev?.source !== out.source || prev.detail !== out.detail) {
      this.sources.set(ctx.model, { source: out.source, detail: out.detail });
      this.opts.log?.info?.(
        { model: ctx.model, tokenizer: out.source, detail: out.detail },
        'tokenizer source for model',
      );
    }
    return out;
  }

  private configuredPath(ctx: RequestContext): string | undefined {
    const ann = ctx.server?.metadata.annotations?.[TOKENIZER_ANNOTATION];
    if (ann) return ann;
    const m = this.opts.tokenizers;
    if (!m) return undefined;
    const own = ctx.server?.spec.model;
    return (own ? m[own] : undefined) ?? m[ctx.upstreamModel] ?? m[ctx.model];
  }

  private localTokenizer(path: string): { tok?: HfTokenizer; error?: string } {
    let e = this.local.get(path);
    if (!e) {
      const entry: { tok?: HfTokenizer; loading?: Promise<void>; error?: string } = {};
      entry.loading = HfTokenizer.load(path).then(
        (tok) => {
          entry.tok = tok;
          if (!tok.hasChatTemplate) this.opts.log?.warn({ path }, 'tokenizer has no chat template; chat requests fail');
        },
        (err: Error) => {
          entry.error = `cannot load tokenizer ${path}: ${err.message}`;
        },
      );
      this.local.set(path, entry);
      e = entry;
    }
    return e;
  }

  /** Waits for the candidates' probes; true when every one announced the simulator's own tokenizer. */
  private async allAnnounceSimulator(endpoints: readonly ServerEndpoint[]): Promise<boolean> {
    if (endpoints.length === 0) return false;
    // Fed events (the twin, tests) come from simulated engines with their built-in tokenizer.
    if (!this.subscriber && this.opts.probe !== true) return true;
    const pending = endpoints.map((ep) => this.probes.get(ep.state.key)).filter((p) => p !== undefined);
    if (pending.length) await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 1_000).unref())]);
    return endpoints.every((ep) => this.announced.get(ep.state.key)?.tokenizer === 'simulator');
  }

  private tokenizerFailed(ctx: RequestContext, source: TokenSource, message: string): void {
    this.opts.onTokenizerFailure?.(ctx.model, source);
    const key = `${ctx.model}\0${source}`;
    if (this.warnedModels.has(key)) return;
    this.warnedModels.add(key);
    this.opts.log?.warn(
      { model: ctx.model, tokenizer: source, err: message },
      'tokenization failed: requests of this model are routed on load only until it works (logged once per model)',
    );
  }

  /** Prompt length: the tokens, or the prefix's tokens plus an estimate of the last message when only those are known. */
  promptLenOf(ctx: RequestContext): number {
    return (ctx.attrs.get(PROMPT_LEN) as number | undefined) ?? this.tokensOf(ctx).length;
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
    const promptLen = this.promptLenOf(ctx);
    return endpoints.map((ep) => {
      const bs = this.blockSizeFor(ep.state.key);
      const [blocks] = this.index.prefixMatch(this.hashesOf(ctx, bs), [ep.state.key]);
      // The engine always recomputes at least the last token.
      return Math.min(blocks * bs, Math.max(0, promptLen - 1));
    });
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
    this.announced.delete(endpoint);
    this.probes.delete(endpoint);
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
      tokenizer: {
        mode: this.opts.tokenizer,
        models: Object.fromEntries(this.sources),
        configured: Object.fromEntries(
          [...this.local].map(([path, e]) => [path, e.tok ? 'loaded' : (e.error ?? 'loading')]),
        ),
        engines: Object.fromEntries(this.announced),
        remoteCache: { entries: this.remote.size, hits: this.remote.hits, misses: this.remote.misses },
        meanMicrosPerRequest: this.tokenizeCount ? Number(this.tokenizeNanos / BigInt(this.tokenizeCount)) / 1000 : 0,
      },
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

/** Tokens of a chat body's last message, estimated (4 characters a token) when only its prefix was tokenized. */
function estimateLast(body: Record<string, unknown>): number {
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return 0;
  const last = msgs[msgs.length - 1] as { content?: unknown };
  const text = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
  return Math.ceil(text.length / 4) + 8;
}
