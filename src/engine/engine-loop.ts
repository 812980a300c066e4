// Drives an EngineCore on a Clock: schedule a step, wait its simulated duration, apply it, repeat while
// there is work. Steps follow each other back to back in simulated time; when the host runs late, results
// are delivered late (counted as lag — the measure of how faithfully a machine runs the model, see
// docs/engine-sim.md) but the simulated timeline itself stays exact.
import type { Clock, Timer } from './clock.js';
import type { EngineCore } from './core.js';
import type { EngineRequest } from './request.js';

/** Steps completed inline (without yielding to I/O) when they are already due; bounds the time between yields. */
const MAX_INLINE_STEPS = 32;

export interface LoopStats {
  steps: number;
  /** Simulated seconds spent inside steps. */
  busySeconds: number;
  /** Sum over steps of how late (simulated seconds) the host delivered each step's results. */
  lagSeconds: number;
  maxLagSeconds: number;
}

export class EngineLoop {
  readonly stats: LoopStats = { steps: 0, busySeconds: 0, lagSeconds: 0, maxLagSeconds: 0 };
  private stepEnd = 0;
  private timer: Timer | null = null;
  private stepping = false;
  private closed = false;
  /** Called after each step's results are applied (KV-event publishing). */
  afterStep: (() => void) | null = null;

  constructor(
    readonly core: EngineCore,
    readonly clock: Clock,
  ) {}

  now(): number {
    return this.clock.now();
  }

  submit(req: EngineRequest): void {
    this.core.add(req, this.clock.now());
    this.kick();
  }

  abort(req: EngineRequest): void {
    this.core.abort(req, this.clock.now());
  }

  /** Wakes the loop if it is idle or only waiting for a remote KV load. */
  kick(): void {
    if (this.closed || this.stepping) return;
    this.timer?.cancel();
    this.stepping = true;
    this.timer = this.clock.at(this.clock.now(), () => this.tick(false));
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
  }

  private tick(continuing: boolean): void {
    this.timer = null;
    if (this.closed) return;
    // Back-to-back steps keep simulated time exact even when the host runs late (the timer fired after the
    // step's end): the next step starts at the previous end and the loop catches up. Only an idle loop
    // re-synchronises with the clock.
    let start = continuing ? this.stepEnd : Math.max(this.stepEnd, this.clock.now());
    for (let inline = 0; ; inline++) {
      const d = this.core.schedule(start);
      if (d < 0) {
        this.stepping = false;
        const ready = this.core.nextReadyTime(start);
        if (Number.isFinite(ready)) this.timer = this.clock.at(ready, () => this.kick());
        return;
      }
      const end = start + d;
      if (inline < MAX_INLINE_STEPS && end <= this.clock.now()) {
        // Already due (catching up, or high speedup): complete it now instead of a timer round trip per step.
        this.finishStep(end, d);
        start = end;
        continue;
      }
      this.timer = this.clock.at(end, () => {
        this.finishStep(end, d);
        this.tick(true);
      });
      return;
    }
  }

  private finishStep(end: number, d: number): void {
    const lag = this.clock.now() - end;
    if (lag > 0) {
      this.stats.lagSeconds += lag;
      if (lag > this.stats.maxLagSeconds) this.stats.maxLagSeconds = lag;
    }
    this.core.complete(end);
    this.afterStep?.();
    this.stepEnd = end;
    this.stats.steps++;
    this.stats.busySeconds += d;
  }
}
