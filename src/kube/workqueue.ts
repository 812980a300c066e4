// A work queue with client-go semantics, for controllers: a key is queued at most once (dedupe); a key being
// processed is never handed to a second worker — if it is re-added meanwhile it is marked dirty and queued again
// when the first worker calls done(); delayed adds (addAfter) and per-key exponential backoff (addRateLimited) run on
// an injectable clock.
import { type Clock, realClock, type TimerHandle } from './clock.js';
import { type KubeLogger, silentLogger } from './log.js';

export interface RateLimiter<K> {
  /** How long to wait before the key may be retried (and count this as one more failure). */
  when(key: K): number;
  /** The key succeeded: reset its failure count. */
  forget(key: K): void;
  numRequeues(key: K): number;
}

/** base·2^failures, capped (client-go: 5 ms → 1000 s). */
export class ItemExponentialRateLimiter<K> implements RateLimiter<K> {
  private readonly failures = new Map<K, number>();
  constructor(
    private readonly baseMs = 5,
    private readonly maxMs = 1_000_000,
  ) {}
  when(key: K): number {
    const n = this.failures.get(key) ?? 0;
    this.failures.set(key, n + 1);
    // 2^n overflows to Infinity for large n; the cap keeps the result finite.
    return Math.min(this.maxMs, this.baseMs * 2 ** n);
  }
  forget(key: K): void {
    this.failures.delete(key);
  }
  numRequeues(key: K): number {
    return this.failures.get(key) ?? 0;
  }
}

/** An overall token bucket (client-go: 10 qps, burst 100): spreads retries of many keys over time. */
export class BucketRateLimiter<K> implements RateLimiter<K> {
  private tokens: number;
  private last: number;
  constructor(
    private readonly qps = 10,
    private readonly burst = 100,
    private readonly clock: Clock = realClock,
  ) {
    this.tokens = burst;
    this.last = clock.now();
  }
  when(_key: K): number {
    const now = this.clock.now();
    this.tokens = Math.min(this.burst, this.tokens + ((now - this.last) / 1000) * this.qps);
    this.last = now;
    // Reserve a token; a negative balance is the queue of reservations ahead of us.
    this.tokens -= 1;
    return this.tokens >= 0 ? 0 : Math.ceil((-this.tokens / this.qps) * 1000);
  }
  forget(_key: K): void {}
  numRequeues(_key: K): number {
    return 0;
  }
}

/** The longest delay of several limiters. */
export class MaxOfRateLimiter<K> implements RateLimiter<K> {
  private readonly limiters: RateLimiter<K>[];
  constructor(...limiters: RateLimiter<K>[]) {
    this.limiters = limiters;
  }
  when(key: K): number {
    let d = 0;
    for (const l of this.limiters) d = Math.max(d, l.when(key));
    return d;
  }
  forget(key: K): void {
    for (const l of this.limiters) l.forget(key);
  }
  numRequeues(key: K): number {
    let n = 0;
    for (const l of this.limiters) n = Math.max(n, l.numRequeues(key));
    return n;
  }
}

/** client-go's DefaultControllerRateLimiter: per-key 5 ms → 1000 s, and 10 qps / burst 100 overall. */
export function defaultControllerRateLimiter<K>(clock: Clock = realClock): RateLimiter<K> {
  return new MaxOfRateLimiter<K>(
    new ItemExponentialRateLimiter<K>(5, 1_000_000),
    new BucketRateLimiter<K>(10, 100, clock),
  );
}

/**
 * client-go's workqueue metrics (workqueue_depth, _adds_total, _queue_duration_seconds, _work_duration_seconds,
 * _retries_total): the queue reports, the caller owns the registry. Durations are seconds on the queue's clock.
 */
export interface WorkQueueMetrics {
  added(): void;
  depth(n: number): void;
  waited(seconds: number): void;
  worked(seconds: number): void;
  retried(): void;
}

export interface WorkQueueOptions<K> {
  clock?: Clock;
  metrics?: WorkQueueMetrics;
  /** Default: per-key exponential 5 ms → 1000 s (the overall bucket is opt-in via defaultControllerRateLimiter). */
  rateLimiter?: RateLimiter<K>;
  name?: string;
}

export class WorkQueue<K = string> {
  private readonly clock: Clock;
  private readonly limiter: RateLimiter<K>;
  readonly name: string;
  private queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly waiting = new Map<K, { due: number; timer: TimerHandle }>();
  private getters: ((k: K | undefined) => void)[] = [];
  private shuttingDown = false;
  private readonly metrics: WorkQueueMetrics | undefined;
  /** Key → when it was queued, then when its processing started (kept only with metrics). */
  private readonly since = new Map<K, number>();

  constructor(opts: WorkQueueOptions<K> = {}) {
    this.clock = opts.clock ?? realClock;
    this.metrics = opts.metrics;
    this.limiter = opts.rateLimiter ?? new ItemExponentialRateLimiter<K>();
    this.name = opts.name ?? 'workqueue';
  }

  /** Queues the key unless it is already queued; a key being processed is queued again after done(). */
  add(key: K): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    this.metrics?.added();
    if (this.processing.has(key)) return;
    this.push(key);
  }

  /** Adds the key after `ms`. If it is already waiting, the earlier time wins (client-go's delaying queue). */
  addAfter(key: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const due = this.clock.now() + ms;
    const cur = this.waiting.get(key);
    if (cur && cur.due <= due) return;
    if (cur) this.clock.clearTimeout(cur.timer);
    const timer = this.clock.setTimeout(
      () => {
        this.waiting.delete(key);
        this.add(key);
      },
      ms,
      `${this.name}-delay`,
    );
    this.waiting.set(key, { due, timer });
  }

  /** Adds the key after its rate limiter's delay (one more failure for that key). */
  addRateLimited(key: K): void {
    this.metrics?.retried();
    this.addAfter(key, this.limiter.when(key));
  }

  /** The key was processed successfully: its backoff starts again from the base. */
  forget(key: K): void {
    this.limiter.forget(key);
  }

  numRequeues(key: K): number {
    return this.limiter.numRequeues(key);
  }

  /**
   * The next key to process, waiting if the queue is empty. After shutDown() the keys still queued are handed out,
   * then `undefined`. Call done(key) when finished with it.
   */
  get(): Promise<K | undefined> {
    const k = this.take();
    if (k !== undefined || this.shuttingDown) return Promise.resolve(k);
    return new Promise((resolve) => this.getters.push(resolve));
  }

  done(key: K): void {
    this.processing.delete(key);
    if (this.metrics) {
      const started = this.since.get(key);
      if (started !== undefined) this.metrics.worked((this.clock.now() - started) / 1000);
      this.since.delete(key);
    }
    if (this.dirty.has(key)) this.push(key);
  }

  /** Stops accepting keys, cancels delayed adds, and wakes every waiting get() (they resolve to undefined). */
  shutDown(): void {
    this.shuttingDown = true;
    for (const w of this.waiting.values()) this.clock.clearTimeout(w.timer);
    this.waiting.clear();
    const getters = this.getters;
    this.getters = [];
    for (const g of getters) g(this.take());
  }

  isShuttingDown(): boolean {
    return this.shuttingDown;
  }

  /** Keys queued and ready (not counting keys being processed or waiting for a delay). */
  len(): number {
    return this.queue.length;
  }

  private push(key: K): void {
    this.queue.push(key);
    if (this.metrics) {
      this.since.set(key, this.clock.now());
      this.metrics.depth(this.queue.length);
    }
    this.wakeOne();
  }

  private take(): K | undefined {
    if (this.queue.length === 0) return undefined;
    const k = this.queue.shift()!;
    this.processing.add(k);
    this.dirty.delete(k);
    if (this.metrics) {
      const now = this.clock.now();
      const queued = this.since.get(k);
      if (queued !== undefined) this.metrics.waited((now - queued) / 1000);
      this.since.set(k, now);
      this.metrics.depth(this.queue.length);
    }
    return k;
  }

  private wakeOne(): void {
    while (this.getters.length > 0 && this.queue.length > 0) {
      const g = this.getters.shift()!;
      g(this.take());
    }
  }
}

/**
 * Runs `workers` loops that take keys from the queue and call `handle`. Success forgets the key's backoff; a throw
 * requeues it rate-limited (unless `maxRetries` is reached). Resolves when the queue is shut down and drained.
 */
export async function runWorkers<K>(
  queue: WorkQueue<K>,
  workers: number,
  handle: (key: K) => Promise<void> | void,
  opts: { log?: KubeLogger; maxRetries?: number } = {},
): Promise<void> {
  const log = opts.log ?? silentLogger;
  const loop = async () => {
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      try {
        await handle(key);
        queue.forget(key);
      } catch (e) {
        const retries = queue.numRequeues(key);
        if (opts.maxRetries !== undefined && retries >= opts.maxRetries) {
          log.error({ queue: queue.name, key: String(key), err: (e as Error)?.message, retries }, 'giving up on key');
          queue.forget(key);
        } else {
          log.warn({ queue: queue.name, key: String(key), err: (e as Error)?.message, retries }, 'requeue after error');
          queue.addRateLimited(key);
        }
      } finally {
        queue.done(key);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, workers) }, loop));
}
