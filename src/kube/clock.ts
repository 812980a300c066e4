// An injectable clock. Every timer in src/kube goes through one, so tests drive time with ManualClock instead of
// sleeping, and no test depends on how fast the machine is.

/** Opaque handle returned by Clock.setTimeout. */
export interface TimerHandle {
  readonly __timer: true;
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now(): number;
  /** `label` names the timer so tests can find it (ManualClock.waitForTimer); real clocks ignore it. */
  setTimeout(fn: () => void, ms: number, label?: string): TimerHandle;
  clearTimeout(handle: TimerHandle | undefined): void;
}

/** Resolves after `ms` on `clock`; rejects with the signal's reason if aborted first. */
export function sleep(clock: Clock, ms: number, signal?: AbortSignal, label = 'sleep'): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortReason(signal));
      return;
    }
    const onAbort = () => {
      clock.clearTimeout(h);
      reject(abortReason(signal!));
    };
    const h = clock.setTimeout(
      () => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      },
      ms,
      label,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export function abortReason(signal: AbortSignal): Error {
  const r: unknown = signal.reason;
  if (r instanceof Error) return r;
  const e = new Error(typeof r === 'string' ? r : 'aborted');
  e.name = 'AbortError';
  return e;
}

class RealTimer implements TimerHandle {
  declare readonly __timer: true;
  constructor(readonly t: NodeJS.Timeout) {}
}

export class RealClock implements Clock {
  now(): number {
    return Date.now();
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    return new RealTimer(setTimeout(fn, Math.max(0, ms)));
  }
  clearTimeout(handle: TimerHandle | undefined): void {
    if (handle instanceof RealTimer) clearTimeout(handle.t);
  }
}

export const realClock: Clock = new RealClock();

interface ManualTimer extends TimerHandle {
  due: number;
  seq: number;
  label: string;
  fn: () => void;
  cancelled: boolean;
}

export interface PendingTimer {
  due: number;
  label: string;
}

/**
 * A clock that only moves when told to. `advance(ms)` fires every timer that falls due, in due-time order (ties in
 * creation order), with `now()` set to each timer's due time while it runs; timers created by a callback that fall
 * inside the window fire too.
 */
export class ManualClock implements Clock {
  private t: number;
  private seq = 0;
  private timers: ManualTimer[] = [];
  private waiters: { label: string; resolve: (t: PendingTimer) => void }[] = [];

  constructor(start = Date.UTC(2026, 0, 1, 0, 0, 0)) {
    this.t = start;
  }

  now(): number {
    return this.t;
  }

  setTimeout(fn: () => void, ms: number, label = 'timer'): TimerHandle {
    const timer = {
      due: this.t + Math.max(0, ms),
      seq: this.seq++,
      label,
      fn,
      cancelled: false,
    } as ManualTimer;
    this.timers.push(timer);
    const ready = this.waiters.filter((w) => w.label === label);
    if (ready.length > 0) {
      this.waiters = this.waiters.filter((w) => w.label !== label);
      for (const w of ready) w.resolve({ due: timer.due, label });
    }
    return timer;
  }

  clearTimeout(handle: TimerHandle | undefined): void {
    if (!handle) return;
    const timer = handle as ManualTimer;
    timer.cancelled = true;
    this.timers = this.timers.filter((x) => x !== timer);
  }

  /** Moves time forward by `ms`, firing due timers in order. */
  advance(ms: number): void {
    this.advanceTo(this.t + ms);
  }

  advanceTo(target: number): void {
    for (;;) {
      const next = this.nextTimer();
      if (!next || next.due > target) break;
      this.timers = this.timers.filter((x) => x !== next);
      this.t = Math.max(this.t, next.due);
      next.fn();
    }
    this.t = Math.max(this.t, target);
  }

  /** Timers not yet fired, soonest first. */
  pending(label?: string): PendingTimer[] {
    return this.sorted()
      .filter((x) => label === undefined || x.label === label)
      .map((x) => ({ due: x.due, label: x.label }));
  }

  /** Resolves once a timer with this label is pending (immediately if one already is). */
  waitForTimer(label: string): Promise<PendingTimer> {
    const existing = this.pending(label)[0];
    if (existing) return Promise.resolve(existing);
    return new Promise((resolve) => this.waiters.push({ label, resolve }));
  }

  /** Waits for a timer with this label and advances the clock exactly to its due time. */
  async fireNext(label: string): Promise<PendingTimer> {
    const t = await this.waitForTimer(label);
    this.advanceTo(t.due);
    return t;
  }

  private nextTimer(): ManualTimer | undefined {
    return this.sorted()[0];
  }

  private sorted(): ManualTimer[] {
    return [...this.timers].sort((a, b) => a.due - b.due || a.seq - b.seq);
  }
}
