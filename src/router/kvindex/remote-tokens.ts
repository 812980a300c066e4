// Token ids from the engine's own `POST /tokenize` (vLLM's request and response shapes), for models whose tokenizer
// the router does not have. A round trip per request would put the engine's tokenizer on every request's path, so
// for chat we tokenize the conversation *before its last message* (add_generation_prompt false) and cache that by its
// content: a shared system prompt, or the earlier turns of a conversation, cost one round trip for all the requests
// that repeat them. Those prefix tokens are what the KV index can match; the last message is new by construction (a
// request whose last message repeats too is rare), so its tokens are only estimated. Completions prompts and
// one-message chats are tokenized whole and cached whole.
import { createHash } from 'node:crypto';
import { request } from 'undici';

export interface RemoteTokens {
  /** Token ids of the request (complete) or of its conversation prefix (complete: false). */
  tokens: number[];
  complete: boolean;
}

export interface RemoteTokenizerOptions {
  /** Cached token ids at most (sum over entries). */
  maxCachedTokens?: number;
  timeoutMs?: number;
}

export class RemoteTokenizer {
  private readonly cache = new Map<string, number[]>();
  private readonly inflight = new Map<string, Promise<number[]>>();
  private cachedTokens = 0;
  hits = 0;
  misses = 0;

  constructor(private readonly opts: RemoteTokenizerOptions = {}) {}

  /** What to ask /tokenize for this body, and the cache key; undefined when the body has no prompt to tokenize. */
  static plan(
    model: string,
    body: Record<string, unknown>,
  ): { key: string; payload: Record<string, unknown>; complete: boolean } | undefined {
    if (Array.isArray(body.messages) && body.messages.length > 0) {
      const msgs = body.messages as unknown[];
      const prefix = msgs.length > 1 ? msgs.slice(0, -1) : msgs;
      const complete = msgs.length === 1;
      const payload: Record<string, unknown> = {
        model,
        messages: prefix,
        add_generation_prompt: complete ? body.add_generation_prompt !== false : false,
      };
      if (Array.isArray(body.tools) && body.tool_choice !== 'none') payload.tools = body.tools;
      if (body.chat_template_kwargs && typeof body.chat_template_kwargs === 'object')
        payload.chat_template_kwargs = body.chat_template_kwargs;
      return { key: digest(payload), payload, complete };
    }
    let p = body.prompt;
    if (Array.isArray(p) && p.length === 1) p = p[0];
    if (typeof p !== 'string') return undefined;
    const payload = { model, prompt: p, add_special_tokens: body.add_special_tokens !== false };
    return { key: digest(payload), payload, complete: true };
  }

  /** The request's ids from `origin`'s /tokenize (a shared round trip is not cancelled by one client leaving). */
  async tokens(origin: string, model: string, body: Record<string, unknown>) {
    const plan = RemoteTokenizer.plan(model, body);
    if (!plan) return undefined;
    const cached = this.cache.get(plan.key);
    if (cached) {
      this.hits++;
      this.cache.delete(plan.key);
      this.cache.set(plan.key, cached);
      return { tokens: cached, complete: plan.complete } satisfies RemoteTokens;
    }
    // Concurrent requests with the same prefix share one round trip.
    let p = this.inflight.get(plan.key);
    if (!p) {
      this.misses++;
      p = this.fetch(origin, plan.payload).finally(() => this.inflight.delete(plan.key));
      this.inflight.set(plan.key, p);
      p.then((t) => this.remember(plan.key, t)).catch(() => {});
    }
    return { tokens: await p, complete: plan.complete } satisfies RemoteTokens;
  }

  get size(): number {
    return this.cache.size;
  }

  private remember(key: string, tokens: number[]): void {
    if (this.cache.has(key)) return;
    this.cache.set(key, tokens);
    this.cachedTokens += tokens.length;
    const max = this.opts.maxCachedTokens ?? 20_000_000;
    for (const [k, v] of this.cache) {
      if (this.cachedTokens <= max) break;
      this.cache.delete(k);
      this.cachedTokens -= v.length;
    }
  }

  private async fetch(origin: string, payload: Record<string, unknown>): Promise<number[]> {
    const res = await request(`${origin}/tokenize`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(payload),
      signal: AbortSignal.timeout(this.opts.timeoutMs ?? 2_000),
    });
    const json = (await res.body.json().catch(() => ({}))) as { tokens?: unknown };
    if (res.statusCode !== 200 || !Array.isArray(json.tokens))
      throw new Error(`${origin}/tokenize answered ${res.statusCode}`);
    return json.tokens as number[];
  }
}

function digest(v: unknown): string {
  return createHash('sha1').update(JSON.stringify(v)).digest('base64');
}
