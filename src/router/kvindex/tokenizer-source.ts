// Where the router gets a request's token ids (`tokenizer` argument of the KV-aware scorers):
//   auto       (default) the model's tokenizer when one is configured for it (ModelServer annotation
//              kthena.io/tokenizer, or the `tokenizers` argument); else the simulator's when every candidate announces
//              itself as the simulator with its built-in tokenizer (`kthena_sim` in /v1/models, read once per new
//              endpoint; always with fed events); else the engine's /tokenize, prefix-cached (remote-tokens.ts)
//   local      the simulator's built-in tokenizer (also spelled `simulator`)
//   remote     always the engine's /tokenize
// A failure never blocks a request: it gets no token ids (load-only scoring), the failure is counted and logged once
// per model and source.
import { request } from 'undici';
import { bodyTokens, HfTokenizer, SIM_TOKENIZER } from '../../tokens/index.js';
import type { RequestContext } from '../request/context.js';
import type { EndpointState } from '../store/endpoint-state.js';
import type { ServerEndpoint } from '../store/store.js';
import { RemoteTokenizer } from './remote-tokens.js';

export type TokenizerMode = 'auto' | 'local' | 'remote';
export type TokenSource = 'model' | 'simulator' | 'remote' | 'none';

/** What an endpoint's /v1/models told us (simulators only; real engines announce nothing). */
export interface EngineAnnouncement {
  tokenizer: 'simulator' | 'hf' | 'unknown';
  replayPort: number | null;
}

/** ModelServer annotation: the model's tokenizer directory or tokenizer.json, as mounted in the router. */
export const TOKENIZER_ANNOTATION = 'kthena.io/tokenizer';

export interface TokenSourcesOptions {
  mode: TokenizerMode;
  /** Model name (ModelServer spec.model, or the client's model) → tokenizer directory or tokenizer.json. */
  tokenizers?: Record<string, string>;
  /** GET each new endpoint's /v1/models for an announcement; false (fed events): trust the simulator. */
  probe: boolean;
  log?: { warn(obj: object, msg: string): void; info?(obj: object, msg: string): void };
  onFailure?(model: string, source: TokenSource): void;
  /** An endpoint's announcement arrived (its replay port may now be known). */
  onAnnounced?(state: EndpointState): void;
}

export class TokenSources {
  readonly remote = new RemoteTokenizer();
  /** Tokenizer path → the loaded tokenizer (or its loading, or why it failed). */
  private readonly local = new Map<string, { tok?: HfTokenizer; loading?: Promise<void>; error?: string }>();
  /** Endpoint key → its announcement. */
  readonly announced = new Map<string, EngineAnnouncement>();
  private readonly probes = new Map<string, Promise<void>>();
  /** Model → the source its last request used, for /debug. */
  readonly sources = new Map<string, { source: TokenSource; detail?: string }>();
  private readonly warned = new Set<string>();
  nanos = 0n;
  count = 0;

  constructor(readonly opts: TokenSourcesOptions) {
    // Tokenizers named in the configuration load at start (parsing one blocks the event loop for 1–4 s: better
    // before traffic than during it); those named by ModelServer annotations load at their model's first request.
    if (opts.mode === 'auto')
      for (const path of new Set(Object.values(opts.tokenizers ?? {}))) this.localTokenizer(path);
  }

  endpointAdded(state: EndpointState): void {
    if (this.opts.probe && !this.probes.has(state.key)) this.probes.set(state.key, this.probeEndpoint(state));
  }

  forget(endpoint: string): void {
    this.announced.delete(endpoint);
    this.probes.delete(endpoint);
  }

  /** Loads a tokenizer path now (normally the first request of its model starts it in the background). */
  async preload(path: string): Promise<void> {
    this.localTokenizer(path);
    await this.local.get(path)?.loading;
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
        if (!state.removed) this.opts.onAnnounced?.(state);
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

  /** The request's token ids from its source (see TokenizerMode); [] when they cannot be had (load-only scoring). */
  async tokens(
    ctx: RequestContext,
    endpoints: readonly ServerEndpoint[],
  ): Promise<{ tokens: number[]; promptLen?: number }> {
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
      this.failed(ctx, source.source, (err as Error).message);
    }
    this.nanos += process.hrtime.bigint() - started;
    this.count++;
    return { tokens, promptLen };
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
    const mode = this.opts.mode;
    let out: { source: TokenSource; tok?: HfTokenizer; detail?: string };
    if (mode === 'local') out = { source: 'simulator' };
    else if (mode === 'remote') out = { source: 'remote' };
    else {
      const path = this.configuredPath(ctx);
      const loaded = path ? this.localTokenizer(path) : undefined;
      if (loaded?.tok) out = { source: 'model', tok: loaded.tok, detail: path };
      else {
        if (path && loaded?.error) this.failed(ctx, 'model', loaded.error);
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
    if (!this.opts.probe) return true;
    const pending = endpoints.map((ep) => this.probes.get(ep.state.key)).filter((p) => p !== undefined);
    if (pending.length) await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 1_000).unref())]);
    return endpoints.every((ep) => this.announced.get(ep.state.key)?.tokenizer === 'simulator');
  }

  private failed(ctx: RequestContext, source: TokenSource, message: string): void {
    this.opts.onFailure?.(ctx.model, source);
    const key = `${ctx.model}\0${source}`;
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.log?.warn(
      { model: ctx.model, tokenizer: source, err: message },
      'tokenization failed: requests of this model are routed on load only until it works (logged once per model)',
    );
  }

  debugState(): unknown {
    return {
      mode: this.opts.mode,
      models: Object.fromEntries(this.sources),
      configured: Object.fromEntries(
        [...this.local].map(([path, e]) => [path, e.tok ? 'loaded' : (e.error ?? 'loading')]),
      ),
      engines: Object.fromEntries(this.announced),
      remoteCache: { entries: this.remote.size, hits: this.remote.hits, misses: this.remote.misses },
      meanMicrosPerRequest: this.count ? Number(this.nanos / BigInt(this.count)) / 1000 : 0,
    };
  }
}

const validPort = (n: number) => Number.isInteger(n) && n > 0 && n < 65536;

/** Tokens of a chat body's last message, estimated (4 characters a token) when only its prefix was tokenized. */
function estimateLast(body: Record<string, unknown>): number {
  const msgs = body.messages;
  if (!Array.isArray(msgs) || msgs.length === 0) return 0;
  const last = msgs[msgs.length - 1] as { content?: unknown };
  const text = typeof last?.content === 'string' ? last.content : JSON.stringify(last?.content ?? '');
  return Math.ceil(text.length / 4) + 8;
}
