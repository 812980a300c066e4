// A rate-limited work queue with client-go semantics (dedupe while queued, a key is never processed by two
// workers at once, re-adds during processing are replayed on done(), per-key exponential back-off, addAfter).
// Same surface as the WorkQueue agreed for src/kube (KUBE-INTERFACES.md); the controllers switch to that one
// once it lands, this file then goes away.
import { type Clock, realClock, type TimerHandle } from '../../kube/clock.js';

export interface WorkQueueOptions {
  clock?: Clock;
  /** first retry delay of addRateLimited; doubles per failure (client-go: 5 ms) */
  baseDelayMs?: number;
  /** cap of the per-key delay (client-go: 1000 s) */
  maxDelayMs?: number;
}

export class WorkQueue<K = string> {
  private readonly queue: K[] = [];
  private readonly dirty = new Set<K>();
  private readonly processing = new Set<K>();
  private readonly failures = new Map<K, number>();
  private readonly timers = new Map<K, { at: number; handle: TimerHandle }>();
  private readonly waiters: ((k: K | undefined) => void)[] = [];
  private readonly clock: Clock;
  private shuttingDown = false;

  constructor(private readonly opts: WorkQueueOptions = {}) {
    this.clock = opts.clock ?? realClock;
  }

  add(k: K): void {
    if (this.shuttingDown || this.dirty.has(k)) return;
    this.dirty.add(k);
    if (this.processing.has(k)) return;
    const w = this.waiters.shift();
    if (w) this.hand(k, w);
    else this.queue.push(k);
  }

  private hand(k: K, w: (k: K | undefined) => void): void {
    this.dirty.delete(k);
    this.processing.add(k);
    w(k);
  }

  /** Adds after `ms`; an earlier pending addAfter of the same key wins (like client-go's delaying queue). */
  addAfter(k: K, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(k);
      return;
    }
    const at = this.clock.now() + ms;
    const cur = this.timers.get(k);
    if (cur && cur.at <= at) return;
    if (cur) this.clock.clearTimeout(cur.handle);
    const handle = this.clock.setTimeout(
      () => {
        this.timers.delete(k);
        this.add(k);
      },
      ms,
      'workqueue',
    );
    this.timers.set(k, { at, handle });
  }

  addRateLimited(k: K): void {
    const n = this.failures.get(k) ?? 0;
    this.failures.set(k, n + 1);
    const delay = Math.min((this.opts.baseDelayMs ?? 5) * 2 ** Math.min(n, 40), this.opts.maxDelayMs ?? 1_000_000);
    this.addAfter(k, delay);
  }

  numRequeues(k: K): number {
    return this.failures.get(k) ?? 0;
  }

  forget(k: K): void {
    this.failures.delete(k);
  }

  get(): Promise<K | undefined> {
    if (this.queue.length > 0) {
      const k = this.queue.shift()!;
      this.dirty.delete(k);
      this.processing.add(k);
      return Promise.resolve(k);
    }
    if (this.shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  done(k: K): void {
    this.processing.delete(k);
    if (this.dirty.has(k) && !this.shuttingDown) {
      this.dirty.delete(k);
      this.add(k);
    }
  }

  shutDown(): void {
    this.shuttingDown = true;
    for (const t of this.timers.values()) this.clock.clearTimeout(t.handle);
    this.timers.clear();
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  /** Keys waiting (not counting those being processed or delayed). */
  len(): number {
    return this.queue.length;
  }
}
