// The sliding windows behind stabilisation and rate limits (reference §4.4). Two kinds:
// - RecordWindow: the best (max or min) value recorded within the last `windowMs`, as a monotonic deque.
// - LineChartWindow: a value holds from when it is recorded until the next one (a line chart, not points), so the
//   best over a period also sees the value that was in force at the period's start. Pure state, time passed in.

type Better = (a: number, b: number) => boolean;
export const maxBetter: Better = (a, b) => a >= b;
export const minBetter: Better = (a, b) => a <= b;

interface Point {
  t: number;
  v: number;
}

export class RecordWindow {
  private readonly deque: Point[] = [];
  constructor(
    readonly windowMs: number,
    private readonly better: Better,
  ) {}

  record(t: number, v: number): void {
    this.expire(t);
    while (this.deque.length > 0 && this.better(v, this.deque[this.deque.length - 1]!.v)) this.deque.pop();
    this.deque.push({ t, v });
  }

  /** The best value recorded within the window; undefined when the window is empty or has length 0. */
  best(now: number): number | undefined {
    if (this.windowMs <= 0) return undefined;
    this.expire(now);
    return this.deque[0]?.v;
  }

  /** Forgets every value recorded. */
  clear(): void {
    this.deque.length = 0;
  }

  private expire(now: number): void {
    while (this.deque.length > 0 && now - this.deque[0]!.t > this.windowMs) this.deque.shift();
  }
}

export class LineChartWindow {
  private readonly window: RecordWindow;
  private drifting: Point | undefined;
  constructor(
    readonly windowMs: number,
    private readonly better: Better,
  ) {
    this.window = new RecordWindow(windowMs, better);
  }

  record(t: number, v: number): void {
    // The previous value was in force until now: it enters the window stamped with this time.
    if (this.drifting) this.window.record(t, this.drifting.v);
    this.drifting = { t, v };
  }

  /** best(current, the value in force, the window's best); undefined only when the window has length 0. */
  best(now: number, current: number): number | undefined {
    if (this.windowMs <= 0) return undefined;
    let b = current;
    if (this.drifting && now - this.drifting.t > 2 * this.windowMs) this.drifting = undefined;
    if (this.drifting && this.better(this.drifting.v, b)) b = this.drifting.v;
    const w = this.window.best(now);
    if (w !== undefined && this.better(w, b)) b = w;
    return b;
  }
}
