// Behaviour correction (reference §4.4, KPA-like): panic mode scales up fast and never down; stable mode stabilises
// recommendations over a window and limits the rate of change per period. One ScalingHistory per scalable unit holds
// the windows; `correct` is the only thing that moves it. Pure: the caller passes the time.
import { LineChartWindow, maxBetter, minBetter, RecordWindow } from './windows.js';

export type SelectPolicy = 'Or' | 'And';

export interface StableRule {
  instances: number;
  percent: number;
  periodMs: number;
  selectPolicy: SelectPolicy;
  stabilizationWindowMs: number;
}

export interface PanicRule {
  percent: number;
  periodMs: number;
  /** Undefined: panic is never entered. */
  thresholdPercent?: number;
  holdMs: number;
}

export interface Behavior {
  scaleDown: StableRule;
  scaleUp: StableRule;
  panic: PanicRule;
}

export class ScalingHistory {
  panicEndsAt = 0;
  readonly maxRecommendation: RecordWindow;
  readonly minRecommendation: RecordWindow;
  readonly maxCorrected: LineChartWindow;
  readonly minCorrectedForStable: LineChartWindow;
  readonly minCorrectedForPanic: LineChartWindow;

  constructor(readonly behavior: Behavior) {
    this.maxRecommendation = new RecordWindow(behavior.scaleDown.stabilizationWindowMs, maxBetter);
    this.minRecommendation = new RecordWindow(behavior.scaleUp.stabilizationWindowMs, minBetter);
    this.maxCorrected = new LineChartWindow(behavior.scaleDown.periodMs, maxBetter);
    this.minCorrectedForStable = new LineChartWindow(behavior.scaleUp.periodMs, minBetter);
    this.minCorrectedForPanic = new LineChartWindow(behavior.panic.periodMs, minBetter);
  }

  inPanic(now: number): boolean {
    return this.behavior.panic.holdMs > 0 && now <= this.panicEndsAt;
  }
}

export interface CorrectInput {
  recommended: number;
  current: number;
  min: number;
  max: number;
  now: number;
  /** Upstream's heterogeneous optimizer decides panic after refreshing and records corrected values as recommendations. */
  heterogeneous?: boolean;
}

export interface Correction {
  replicas: number;
  mode: 'Panic' | 'Stable';
}

/** Applies panic/stable correction to a recommendation, records it in the history and returns the corrected count. */
export function correct(h: ScalingHistory, i: CorrectInput): Correction {
  const { recommended: r, current: c, now } = i;
  const b = h.behavior;
  const crossed = b.panic.thresholdPercent !== undefined && r * 100 >= c * b.panic.thresholdPercent;
  if (crossed) h.panicEndsAt = b.panic.holdMs > 0 ? now + b.panic.holdMs : 0;
  const panic = i.heterogeneous ? h.inPanic(now) : crossed ? b.panic.holdMs > 0 : h.inPanic(now);

  let corrected: number;
  if (panic) corrected = panicCorrect(h, r, c, now);
  else if (r < c) corrected = stableDown(h, r, c, now);
  else if (r > c) corrected = stableUp(h, r, c, now);
  else corrected = r;
  corrected = Math.min(i.max, Math.max(i.min, corrected));

  const asRecommendation = i.heterogeneous ? corrected : r;
  h.maxRecommendation.record(now, asRecommendation);
  h.minRecommendation.record(now, asRecommendation);
  h.maxCorrected.record(now, corrected);
  h.minCorrectedForStable.record(now, corrected);
  h.minCorrectedForPanic.record(now, corrected);
  return { replicas: corrected, mode: panic ? 'Panic' : 'Stable' };
}

function panicCorrect(h: ScalingHistory, r: number, c: number, now: number): number {
  let out = r;
  const p = h.minCorrectedForPanic.best(now, c);
  if (p !== undefined && p > 0) out = Math.min(out, p + Math.floor((p * h.behavior.panic.percent) / 100));
  return Math.max(out, c); // panic never scales down
}

function stableDown(h: ScalingHistory, r: number, c: number, now: number): number {
  const rule = h.behavior.scaleDown;
  let out = Math.max(r, h.maxRecommendation.best(now) ?? r);
  const p = h.maxCorrected.best(now, c);
  if (p !== undefined) {
    const abs = p - rule.instances;
    const rel = p - Math.floor((p * rule.percent) / 100);
    out = Math.max(out, rule.selectPolicy === 'And' ? Math.max(abs, rel) : Math.min(abs, rel));
  }
  return Math.min(out, c);
}

function stableUp(h: ScalingHistory, r: number, c: number, now: number): number {
  const rule = h.behavior.scaleUp;
  let out = Math.min(r, h.minRecommendation.best(now) ?? r);
  const p = h.minCorrectedForStable.best(now, c);
  if (p !== undefined) {
    const abs = p + rule.instances;
    const rel = p + Math.floor((p * rule.percent) / 100);
    out = Math.min(out, rule.selectPolicy === 'And' ? Math.min(abs, rel) : Math.max(abs, rel));
  }
  return Math.max(out, c);
}
