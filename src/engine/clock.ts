// Time sources for the engine loop. Simulated seconds everywhere; the wall clock maps them to real time
// divided by a speedup, the virtual clock advances only when a test (or a batch simulation) asks it to.

export interface Timer {
  cancel(): void;
}

export interface Clock {
  /** Current simulated time in seconds. */
  now(): number;
  /** Calls `fn` once simulated time reaches `at` (immediately-ish if already past). */
  at(at: number, fn: () => void): Timer;
}

/** Real time × speedup. Timers aim at absolute targets, so rounding never accumulates into drift. */
export class WallClock implements Clock {
  private readonly origin = performance.now();
  constructor(readonly speedup = 1) {
    if (!(speedup > 0)) throw new Error('speedup must be > 0');
  }
  now(): number {
    return ((performance.now() - this.origin) / 1000) * this.speedup;
  }
  at(at: number, fn: () => void): Timer {
    const delayMs = ((at - this.now()) / this.speedup) * 1000;
    if (delayMs < 1) {
      // setImmediate lets pending I/O run first, so a saturated loop still serves sockets.
      const h = setImmediate(fn);
      return { cancel: () => clearImmediate(h) };
    }
    const h = setTimeout(fn, delayMs);
    return { cancel: () => clearTimeout(h) };
  }
}

interface VirtualTimer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told: deterministic tests and offline simulation (src/twin). Timers due at the same
 * time run in the order they were set. A binary heap keeps each timer O(log n), which matters for a whole benchmark
 * of engines and requests on one clock.
 */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private live = 0;
  private readonly heap: VirtualTimer[] = [];
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  at(at: number, fn: () => void): Timer {
    const entry: VirtualTimer = { at: Math.max(at, this.t), seq: this.seq++, fn, cancelled: false };
    this.push(entry);
    this.live++;
    return {
      cancel: () => {
        if (entry.cancelled) return;
        entry.cancelled = true;
        this.live--;
      },
    };
  }
  /** Number of pending (not cancelled) timers. */
  pending(): number {
    return this.live;
  }
  /** Time of the next pending timer, or Infinity. */
  nextAt(): number {
    this.dropCancelled();
    return this.heap.length ? this.heap[0].at : Number.POSITIVE_INFINITY;
  }
  /** Runs the next pending timer at or before `until` (time moves to it); false when there is none. */
  runNext(until = Number.POSITIVE_INFINITY): boolean {
    this.dropCancelled();
    const e = this.heap[0];
    if (!e || e.at > until) return false;
    this.pop();
    this.live--;
    e.cancelled = true;
    this.t = e.at;
    e.fn();
    return true;
  }
  /** Runs timers in time order until none is due at or before `until`; time ends at `until`. */
  advanceTo(until: number): void {
    while (this.runNext(until));
    if (until > this.t) this.t = until;
  }
  advanceBy(dt: number): void {
    this.advanceTo(this.t + dt);
  }
  /** Runs every timer (including ones scheduled while running) up to a safety limit of steps. */
  runAll(maxTimers = 10_000_000): void {
    for (let i = 0; i < maxTimers; i++) if (!this.runNext()) return;
    throw new Error('VirtualClock.runAll: too many timers');
  }
  private dropCancelled(): void {
    while (this.heap.length && this.heap[0].cancelled) this.pop();
  }
  private static before(a: VirtualTimer, b: VirtualTimer): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq);
  }
  private push(e: VirtualTimer): void {
    const h = this.heap;
    let i = h.push(e) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!VirtualClock.before(h[i], h[p])) break;
      [h[i], h[p]] = [h[p], h[i]];
      i = p;
    }
  }
  private pop(): void {
    const h = this.heap;
    const last = h.pop()!;
    if (h.length === 0) return;
    h[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < h.length && VirtualClock.before(h[l], h[m])) m = l;
      if (r < h.length && VirtualClock.before(h[r], h[m])) m = r;
      if (m === i) return;
      [h[i], h[m]] = [h[m], h[i]];
      i = m;
    }
  }
}
