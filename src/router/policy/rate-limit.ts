// Token rate limits per ModelRoute (spec.rateLimit), optionally per user, as an admission stage.
//
// Admission: the output bucket must hold ≥ 1 token (nothing consumed) and the estimated input is taken from the input
// bucket. End of the request (every terminal path, aborted streams included): the input charge is reconciled with the
// engine's prompt_tokens, and completion tokens are charged to the output bucket (for an aborted stream without a usage
// chunk, the number of relayed SSE events). A request that never reached an engine is refunded.
//
// Differences from upstream (reference §7.1/§11.7), on purpose:
// - buckets are keyed by the ModelRoute (namespace/name) and its limit, not by modelName: LoRA routes are limited,
//   two routes for one model do not overwrite each other, and changing or removing rateLimit takes effect at once;
// - per-user buckets when the route asks for them (annotation ratelimit.kthena.io/per-user: "true");
// - one Redis client per address (upstream reuses the first route's client for every route);
// - a Redis error follows the route's failure mode (annotation ratelimit.kthena.io/on-redis-error: reject | allow,
//   default reject = upstream's fail-closed), answered with 503 + Retry-After instead of a 429 that blames the client.
import type { Logger } from 'pino';
import type { AdmissionStage } from '../admission/chain.js';
import { RouterError } from '../errors.js';
import type { RequestContext, ResponseOutcome } from '../request/context.js';
import { keyOf, type ModelRoute } from '../store/resources.js';
import { type BucketStore, LocalBuckets, RedisBuckets } from './bucket-store.js';
import type { GovernanceMetrics } from './metrics.js';
import { type BucketSpec, bucketSpec, type Unit } from './token-bucket.js';

export const PER_USER_ANNOTATION = 'ratelimit.kthena.io/per-user';
export const ON_REDIS_ERROR_ANNOTATION = 'ratelimit.kthena.io/on-redis-error';

export interface RateLimitOptions {
  metrics: GovernanceMetrics;
  log: Logger;
  now?: () => number;
  /** REDIS_PASSWORD (upstream's variable) for every global limiter. */
  redisPassword?: string;
  redisCommandTimeoutMs?: number;
}

interface Limit {
  key: string;
  spec: BucketSpec;
}

interface Plan {
  input?: Limit;
  output?: Limit;
  store: BucketStore;
  failOpen: boolean;
}

interface Charged {
  plan: Plan;
  input: number;
  model: string;
}

export const rateLimitErrors = {
  exceeded: (kind: 'input' | 'output', scope: string, waitMs: number) => {
    const secs = Math.max(1, Math.ceil(waitMs / 1000));
    return new RouterError(
      429,
      'rate_limit_exceeded',
      `${kind} token rate limit exceeded for ${scope}; retry after ${secs}s`,
      { 'retry-after': String(secs) },
    );
  },
  unavailable: (scope: string) =>
    new RouterError(
      503,
      'rate_limiter_unavailable',
      `rate limiter for ${scope} is unavailable (Redis unreachable) and the route is fail-closed`,
      { 'retry-after': '1' },
    ),
};

export class RateLimitStage implements AdmissionStage {
  readonly name = 'rate-limit';
  readonly local: LocalBuckets;
  private readonly redis = new Map<string, RedisBuckets>();
  /** What each admitted request was charged, settled once in onResponseDone. */
  private readonly charged = new WeakMap<RequestContext, Charged>();

  constructor(private readonly o: RateLimitOptions) {
    this.local = new LocalBuckets(o.now ?? Date.now);
  }

  plan(route: ModelRoute, user: string | undefined): Plan | undefined {
    const rl = route.spec.rateLimit;
    if (!rl || (!rl.inputTokensPerUnit && !rl.outputTokensPerUnit)) return undefined;
    const unit = (rl.unit ?? 'second') as Unit;
    const ann = route.metadata.annotations ?? {};
    const perUser = ann[PER_USER_ANNOTATION] === 'true';
    const base = `${keyOf(route.metadata)}${perUser ? `:u:${encodeURIComponent(user ?? '')}` : ''}`;
    const limit = (kind: string, n: number | undefined): Limit | undefined =>
      n ? { key: `${base}:${kind}:${n}/${unit}`, spec: bucketSpec(n, unit) } : undefined;
    const address = rl.global?.redis?.address;
    return {
      input: limit('input', rl.inputTokensPerUnit),
      output: limit('output', rl.outputTokensPerUnit),
      store: address ? this.redisFor(address) : this.local,
      failOpen: ann[ON_REDIS_ERROR_ANNOTATION] === 'allow',
    };
  }

  private redisFor(address: string): RedisBuckets {
    let r = this.redis.get(address);
    if (!r) {
      r = new RedisBuckets({
        address,
        password: this.o.redisPassword,
        commandTimeoutMs: this.o.redisCommandTimeoutMs,
      });
      this.redis.set(address, r);
    }
    return r;
  }

  async admit(ctx: RequestContext): Promise<undefined> {
    const route = ctx.route?.route;
    if (!route) return undefined;
    const plan = this.plan(route, ctx.user);
    if (!plan) return undefined;
    const scope = `model "${ctx.model}"${plan.input?.key.includes(':u:') || plan.output?.key.includes(':u:') ? ' and this user' : ''}`;
    const labels = { model: ctx.model, path: ctx.path };
    let input = 0;
    try {
      if (plan.output) {
        const r = await plan.store.apply(plan.output.key, plan.output.spec, 'check', 1);
        if (!r.ok) {
          this.o.metrics.rateLimitExceeded.inc({ ...labels, limit_type: 'output_tokens' });
          throw rateLimitErrors.exceeded('output', scope, r.waitMs);
        }
      }
      if (plan.input) {
        const r = await plan.store.apply(plan.input.key, plan.input.spec, 'take', ctx.inputTokens);
        if (!r.ok) {
          this.o.metrics.rateLimitExceeded.inc({ ...labels, limit_type: 'input_tokens' });
          throw rateLimitErrors.exceeded('input', scope, r.waitMs);
        }
        input = ctx.inputTokens;
      }
    } catch (e) {
      if (e instanceof RouterError) throw e;
      // Only the Redis store can fail. Never log the address' password; the message is ioredis' own.
      this.o.log.warn({ model: ctx.model, err: (e as Error).message }, 'rate limiter backend error');
      this.o.metrics.rateLimitBackendErrors.inc({ model: ctx.model, outcome: plan.failOpen ? 'allowed' : 'rejected' });
      if (!plan.failOpen) throw rateLimitErrors.unavailable(`model "${ctx.model}"`);
      return undefined;
    }
    this.charged.set(ctx, { plan, input, model: ctx.model });
    return undefined;
  }

  onResponseDone(ctx: RequestContext, outcome: ResponseOutcome): void {
    const c = this.charged.get(ctx);
    if (!c) return;
    this.charged.delete(ctx);
    const { inputDelta, output } = reconcile(c.input, outcome, ctx.stream);
    const ops: Promise<unknown>[] = [];
    if (c.plan.input && inputDelta !== 0)
      ops.push(c.plan.store.apply(c.plan.input.key, c.plan.input.spec, 'charge', inputDelta));
    if (c.plan.output && output > 0)
      ops.push(c.plan.store.apply(c.plan.output.key, c.plan.output.spec, 'charge', output));
    for (const p of ops)
      p.catch((e: unknown) =>
        this.o.log.warn({ model: c.model, err: (e as Error).message }, 'rate limiter reconciliation failed'),
      );
  }

  async close(): Promise<void> {
    await Promise.all([...this.redis.values()].map((r) => r.close()));
    this.redis.clear();
    await this.local.close();
  }
}

/**
 * What to add to the buckets once a request ends. Input: the engine's prompt_tokens replace the estimate; a request
 * that never reached an engine is refunded. Output: completion_tokens, or for a stream cut short without a usage chunk
 * the relayed SSE events minus the role chunk (vLLM streams one token per event).
 */
export function reconcile(
  chargedInput: number,
  outcome: ResponseOutcome,
  stream: boolean,
): { inputDelta: number; output: number } {
  if (!outcome.endpoint && !outcome.provider) return { inputDelta: -chargedInput, output: 0 };
  const inputDelta = outcome.promptTokens !== undefined ? outcome.promptTokens - chargedInput : 0;
  let output = outcome.completionTokens ?? 0;
  if (outcome.completionTokens === undefined && stream && outcome.streamedEvents)
    output = Math.max(0, outcome.streamedEvents - 1);
  return { inputDelta, output };
}
