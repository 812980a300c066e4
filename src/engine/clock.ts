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

/** A clock that moves only when told: deterministic tests and offline simulation. */
export class VirtualClock implements Clock {
  private t = 0;
  private seq = 0;
  private queue: { at: number; seq: number; fn: () => void; cancelled: boolean }[] = [];
  constructor(start = 0) {
    this.t = start;
  }
  now(): number {
    return this.t;
  }
  at(at: number, fn: () => void): Timer {
    const entry = { at: Math.max(at, this.t), seq: this.seq++, fn, cancelled: false };
    this.queue.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }
  /** Number of pending (not cancelled) timers. */
  pending(): number {
    return this.queue.filter((e) => !e.cancelled).length;
  }
  /** Runs timers in time order until none is due at or before `until`; time ends at `until`. */
  advanceTo(until: number): void {
    for (;;) {
      const e = this.popNext(until);
      if (!e) break;
      this.t = e.at;
      e.fn();
    }
    if (until > this.t) this.t = until;
  }
  advanceBy(dt: number): void {
    this.advanceTo(this.t + dt);
  }
  /** Runs every timer (including ones scheduled while running) up to a safety limit of steps. */
  runAll(maxTimers = 10_000_000): void {
    for (let i = 0; i < maxTimers; i++) {
      const e = this.popNext(Number.POSITIVE_INFINITY);
      if (!e) return;
      this.t = e.at;
      e.fn();
    }
    throw new Error('VirtualClock.runAll: too many timers');
  }
  private popNext(until: number) {
    let best = -1;
    for (let i = 0; i < this.queue.length; i++) {
      const e = this.queue[i];
      if (e.cancelled || e.at > until) continue;
      const b = best < 0 ? undefined : this.queue[best];
      if (!b || e.at < b.at || (e.at === b.at && e.seq < b.seq)) best = i;
    }
    if (best < 0) {
      this.queue = this.queue.filter((e) => !e.cancelled);
      return undefined;
    }
    const found = this.queue[best];
    this.queue.splice(best, 1);
    return found;
  }
}
