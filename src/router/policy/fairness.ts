// The fairness admission stage (ENABLE_FAIRNESS_SCHEDULING=true): one queue per request model, ordered by fair-queue.ts,
// released either by concurrency (FAIRNESS_MAX_CONCURRENT > 0: at most N admitted requests of the model in flight) or
// by rate (FAIRNESS_MAX_QPS, one release every 1/QPS seconds). A request waiting longer than FAIRNESS_QUEUE_TIMEOUT
// gets 504; a client that goes away is removed at once and never reaches an engine. Usage feeding the order is the
// weighted tokens of each user's requests: the input estimate when admitted, corrected and completed by the engine's
// usage when the request ends.
import type { AdmissionStage, Release } from '../admission/chain.js';
import { RouterError } from '../errors.js';
import type { RequestContext, ResponseOutcome } from '../request/context.js';
import { sessionIdOf } from '../session/session-id.js';
import { SessionMap } from '../session/session-map.js';
import { parseDuration } from '../util/duration.js';
import { type FairOrder, FairQueue, type Waiter } from './fair-queue.js';
import { tierOf } from './identity.js';
import type { GovernanceMetrics } from './metrics.js';
import { UsageWindow } from './usage-window.js';

export interface FairnessConfig extends FairOrder {
  windowMs: number;
  inputWeight: number;
  outputWeight: number;
  /** 0 = QPS mode. */
  maxConcurrent: number;
  maxQps: number;
  queueTimeoutMs: number;
  maxQueuedPerUser: number;
  /** Upstream's session boost as an option of this queue (ENABLE_SESSION_BOOST=true): a request whose session
   *  completed a request recently gets `weight` off its score, so a conversation's next turn goes first. */
  sessionBoost?: { header: string; weight: number; maxSessions: number; ttlMs: number };
}

export const FAIRNESS_DEFAULTS: FairnessConfig = {
  windowMs: 5 * 60_000,
  inputWeight: 1,
  outputWeight: 2,
  tokenWeight: 1,
  requestWeight: 0,
  agingPerSecond: 100,
  tierWeight: 1_000_000,
  maxConcurrent: 0,
  maxQps: 100,
  queueTimeoutMs: 60_000,
  maxQueuedPerUser: 1000,
};

/** Reads upstream's FAIRNESS_* variables (and ours); a bad value is an error naming the variable. */
export function fairnessFromEnv(env: NodeJS.ProcessEnv): FairnessConfig | undefined {
  if (env.ENABLE_FAIRNESS_SCHEDULING !== 'true') return undefined;
  const c = { ...FAIRNESS_DEFAULTS };
  const num = (name: string, min: number, set: (v: number) => void, integer = false) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    const v = Number(raw);
    if (!Number.isFinite(v) || v < min || (integer && !Number.isInteger(v)))
      throw new Error(`${name}: must be ${integer ? 'an integer' : 'a number'} ≥ ${min}, got "${raw}"`);
    set(v);
  };
  const dur = (name: string, set: (ms: number) => void) => {
    const raw = env[name];
    if (raw === undefined || raw === '') return;
    let ms: number;
    try {
      ms = parseDuration(raw);
    } catch {
      throw new Error(`${name}: not a duration (e.g. 30s, 5m), got "${raw}"`);
    }
    set(ms);
  };
  dur('FAIRNESS_WINDOW_SIZE', (ms) => {
    // Upstream keeps the default outside [1m, 1h]; we say so instead of silently ignoring it.
    if (ms < 60_000 || ms > 3_600_000) throw new Error('FAIRNESS_WINDOW_SIZE: must be between 1m and 1h');
    c.windowMs = ms;
  });
  num('FAIRNESS_INPUT_TOKEN_WEIGHT', 0, (v) => (c.inputWeight = v));
  num('FAIRNESS_OUTPUT_TOKEN_WEIGHT', 0, (v) => (c.outputWeight = v));
  num('FAIRNESS_PRIORITY_TOKEN_WEIGHT', 0, (v) => (c.tokenWeight = v));
  num('FAIRNESS_PRIORITY_REQUEST_NUM_WEIGHT', 0, (v) => (c.requestWeight = v));
  num('FAIRNESS_AGING_PER_SECOND', 0, (v) => (c.agingPerSecond = v));
  num('FAIRNESS_TIER_WEIGHT', 0, (v) => (c.tierWeight = v));
  num('FAIRNESS_MAX_CONCURRENT', 0, (v) => (c.maxConcurrent = v), true);
  num('FAIRNESS_MAX_QPS', 0.001, (v) => (c.maxQps = v));
  num('FAIRNESS_MAX_QUEUED_PER_USER', 1, (v) => (c.maxQueuedPerUser = v), true);
  dur('FAIRNESS_QUEUE_TIMEOUT', (ms) => (c.queueTimeoutMs = ms));
  if (env.ENABLE_SESSION_BOOST === 'true') {
    const sb = { header: 'x-session-id', weight: 1_000_000, maxSessions: 4096, ttlMs: 10 * 60_000 };
    const h = env.SESSION_BOOST_HEADER;
    if (h !== undefined && h !== '') {
      if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(h))
        throw new Error(`SESSION_BOOST_HEADER: not a header name, got "${h}"`);
      sb.header = h.toLowerCase();
    }
    num('SESSION_BOOST_MAX_SESSIONS', 1, (v) => (sb.maxSessions = v), true);
    num('FAIRNESS_SESSION_BOOST_WEIGHT', 0, (v) => (sb.weight = v));
    dur('SESSION_BOOST_WINDOW', (ms) => (sb.ttlMs = ms));
    c.sessionBoost = sb;
  }
  return c;
}

export const fairnessErrors = {
  timeout: (model: string, ms: number) =>
    new RouterError(504, 'queue_timeout', `request waited longer than ${ms} ms in the fairness queue of "${model}"`),
  cancelled: () => new RouterError(503, 'queue_cancelled', 'request left the fairness queue: the client went away'),
  full: (model: string, n: number) =>
    new RouterError(429, 'queue_full', `too many queued requests for this user on "${model}" (limit ${n})`, {
      'retry-after': '1',
    }),
};

interface Pending extends Waiter {
  model: string;
  resolve(r: Release): void;
  reject(e: RouterError): void;
  cleanup(): void;
}

interface ModelQueue {
  queue: FairQueue<Pending>;
  inflight: number;
  /** Session-boosted requests waiting / admitted and not finished (session_boost_queue_* metrics). */
  boostedQueued: number;
  boostedInflight: number;
  lastReleaseAt: number;
  timer?: NodeJS.Timeout;
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): NodeJS.Timeout;
  clearTimeout(t: NodeJS.Timeout): void;
}

const realClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (t) => clearTimeout(t),
};

export class FairnessStage implements AdmissionStage {
  readonly name = 'fairness';
  readonly usage: UsageWindow;
  private readonly models = new Map<string, ModelQueue>();
  /** Who each admitted request was charged to and how much, settled once in onResponseDone. */
  private readonly charged = new WeakMap<RequestContext, { user: string; charged: number }>();
  /** model + session id → recently completed (session boost). */
  private readonly recentSessions: SessionMap | undefined;
  private seq = 0;

  constructor(
    readonly cfg: FairnessConfig,
    private readonly metrics: GovernanceMetrics | undefined,
    private readonly clock: Clock = realClock,
  ) {
    this.usage = new UsageWindow(cfg.windowMs);
    const sb = cfg.sessionBoost;
    this.recentSessions = sb ? new SessionMap(sb.maxSessions, sb.ttlMs, () => clock.now()) : undefined;
  }

  private sessionKey(ctx: RequestContext): string | undefined {
    const sb = this.cfg.sessionBoost;
    if (!sb) return undefined;
    const id = sessionIdOf(ctx.headers ?? {}, { header: sb.header });
    return id === undefined ? undefined : `${ctx.model}\u0000${id}`;
  }

  queued(model: string): number {
    return this.models.get(model)?.queue.length ?? 0;
  }

  inflight(model: string): number {
    return this.models.get(model)?.inflight ?? 0;
  }

  private modelQueue(model: string): ModelQueue {
    let m = this.models.get(model);
    if (!m) {
      m = {
        queue: new FairQueue<Pending>(this.cfg, (u) => this.usage.get(u, this.clock.now())),
        inflight: 0,
        boostedQueued: 0,
        boostedInflight: 0,
        lastReleaseAt: Number.NEGATIVE_INFINITY,
      };
      this.models.set(model, m);
    }
    return m;
  }

  admit(ctx: RequestContext): Promise<Release> {
    const model = ctx.model;
    const user = ctx.user ?? '';
    const m = this.modelQueue(model);
    if (m.queue.queuedFor(user) >= this.cfg.maxQueuedPerUser) {
      this.metrics?.queueCancelled.inc({ model, user_id: '_all', reason: 'full' });
      return Promise.reject(fairnessErrors.full(model, this.cfg.maxQueuedPerUser));
    }
    return new Promise<Release>((resolve, reject) => {
      const onAbort = () => {
        if (m.queue.remove(p)) {
          p.cleanup();
          this.left(model, m, p, true);
          this.metrics?.queueCancelled.inc({ model, user_id: '_all', reason: 'client_gone' });
          this.gauge(model, m);
          reject(fairnessErrors.cancelled());
        }
      };
      const timer = this.clock.setTimeout(() => {
        if (m.queue.remove(p)) {
          p.cleanup();
          this.left(model, m, p, true);
          this.metrics?.queueCancelled.inc({ model, user_id: '_all', reason: 'timeout' });
          this.gauge(model, m);
          reject(fairnessErrors.timeout(model, this.cfg.queueTimeoutMs));
        }
      }, this.cfg.queueTimeoutMs);
      const p: Pending = {
        user,
        tier: tierOf(ctx),
        enqueuedAt: this.clock.now(),
        seq: this.seq++,
        boost: this.boostFor(ctx),
        model,
        resolve: (release) => {
          p.cleanup();
          this.charged.set(ctx, { user, charged: ctx.inputTokens * this.cfg.inputWeight });
          this.usage.add(user, ctx.inputTokens * this.cfg.inputWeight, 1, this.clock.now());
          this.metrics?.queueDuration.observe({ model, user_id: '_all' }, (this.clock.now() - p.enqueuedAt) / 1000);
          this.metrics?.queueDequeued.inc({ model, user_id: '_all' });
          resolve(release);
        },
        reject,
        cleanup: () => {
          this.clock.clearTimeout(timer);
          ctx.signal.removeEventListener('abort', onAbort);
        },
      };
      if (ctx.signal.aborted) {
        this.clock.clearTimeout(timer);
        reject(fairnessErrors.cancelled());
        return;
      }
      ctx.signal.addEventListener('abort', onAbort, { once: true });
      m.queue.push(p);
      if (p.boost !== undefined) m.boostedQueued++;
      this.gauge(model, m);
      this.dispatch(model, m);
    });
  }

  private gauge(model: string, m: ModelQueue): void {
    this.metrics?.queueSize.set({ model, user_id: '_all' }, m.queue.length);
    this.metrics?.queueInflight.set({ model }, m.inflight);
    if (this.cfg.sessionBoost) {
      this.metrics?.boostSize.set({ model }, m.boostedQueued);
      this.metrics?.boostInflight.set({ model }, m.boostedInflight);
    }
  }

  /** A request left the queue: admitted (with its wait) or cancelled. Only boosted requests are counted here. */
  private left(model: string, m: ModelQueue, p: Pending, cancelled: boolean): void {
    if (p.boost === undefined) return;
    m.boostedQueued--;
    if (cancelled) {
      this.metrics?.boostCancelled.inc({ model });
      return;
    }
    this.metrics?.boostDuration.observe({ model }, (this.clock.now() - p.enqueuedAt) / 1000);
    this.metrics?.boostDequeued.inc({ model });
  }

  /** Releases as many waiting requests as the mode allows now; in QPS mode arms a timer for the next slot. */
  private dispatch(model: string, m: ModelQueue): void {
    if (this.cfg.maxConcurrent > 0) {
      while (m.inflight < this.cfg.maxConcurrent && m.queue.length > 0) this.release(model, m);
    } else if (m.queue.length > 0 && !m.timer) {
      const interval = 1000 / this.cfg.maxQps;
      const wait = m.lastReleaseAt + interval - this.clock.now();
      if (wait <= 0) {
        this.release(model, m);
        m.lastReleaseAt = this.clock.now();
        if (m.queue.length > 0) this.dispatch(model, m);
      } else {
        m.timer = this.clock.setTimeout(() => {
          m.timer = undefined;
          this.dispatch(model, m);
        }, wait);
      }
    }
    this.gauge(model, m);
  }

  private release(model: string, m: ModelQueue): void {
    const p = m.queue.pop(this.clock.now());
    if (!p) return;
    this.metrics?.priorityRefresh.inc({ model });
    this.left(model, m, p, false);
    const boosted = p.boost !== undefined;
    m.inflight++;
    if (boosted) m.boostedInflight++;
    let done = false;
    p.resolve(() => {
      if (done) return;
      done = true;
      m.inflight--;
      if (boosted) m.boostedInflight--;
      this.dispatch(model, m);
    });
  }

  private boostFor(ctx: RequestContext): number | undefined {
    const key = this.recentSessions && this.sessionKey(ctx);
    return key && this.recentSessions!.get(key) !== undefined ? this.cfg.sessionBoost!.weight : undefined;
  }

  onResponseDone(ctx: RequestContext, outcome: ResponseOutcome): void {
    if (this.recentSessions && outcome.ok) {
      const key = this.sessionKey(ctx);
      if (key) this.recentSessions.set(key, '');
    }
    const a = this.charged.get(ctx);
    if (!a) return;
    this.charged.delete(ctx);
    const prompt = outcome.promptTokens ?? (outcome.endpoint ? ctx.inputTokens : 0);
    const completion = outcome.completionTokens ?? (ctx.stream ? Math.max(0, (outcome.streamedEvents ?? 0) - 1) : 0);
    const weighted = prompt * this.cfg.inputWeight + completion * this.cfg.outputWeight - a.charged;
    if (weighted !== 0) this.usage.add(a.user, weighted, 0, this.clock.now());
  }

  close(): void {
    for (const [model, m] of this.models) {
      if (m.timer) this.clock.clearTimeout(m.timer);
      for (const p of [...m.queue.all()]) {
        m.queue.remove(p);
        p.cleanup();
        p.reject(new RouterError(503, 'shutting_down', `router is shutting down (fairness queue of "${model}")`));
      }
    }
  }
}
