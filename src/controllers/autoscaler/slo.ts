// The SLO-driven policy (beyond upstream; ADR 0017). A policy annotated `autoscaling.kthena.io/ttft-slo: "1s"` keeps
// the TTFT quantile (p95 by default) within that bound by learning how many requests per second one replica serves
// within it, instead of trusting a fixed per-pod target. Both signals come from the engines' TTFT histogram over the
// last half minute, merged across ready replicas: the quantile, and the count of first tokens (the request rate).
// Each cycle pairs the rate per ready replica with the quantile:
//   - first evidence (TTFT within the SLO at some rate): capacity is at least that rate;
//   - TTFT above the SLO at a rate below the believed capacity: that rate was not sustainable — capacity drops to
//     it (at most 30 % per cycle); above the belief it is expected overload, and more replicas are the answer;
//   - TTFT within the SLO at a rate above the believed capacity: that rate was sustainable — capacity rises to it;
//   - TTFT well within the SLO (≤ 35 % of it) while running near the target: capacity creeps up 5 % per cycle, but
//     never past 1.4× the highest rate actually seen within the SLO.
// Nothing is learned while the fleet is changing (replicas starting, or the ready count moved within the window):
// a backlog draining onto new replicas says nothing about what a replica sustains.
// The fleet's rate — extrapolated ahead by the time a replica takes to start when it is rising — divided by
// capacity × utilization is the replicas it asks for (an extra metric beside the
// policy's own, so upstream's metrics still guard against what the rate does not show, such as a growing queue).
// The utilization leaves headroom for load that arrives faster than replicas start. A falling rate adds no replica
// that would arrive after the load has gone; a steeply falling one (the end of a burst) lets the scaler drop the
// scale-down stabilisation it would otherwise hold the burst's replicas through. Pure: state in, time passed in.
import { parseDurationMs } from '../../api/index.js';

export const TTFT_SLO_ANNOTATION = 'autoscaling.kthena.io/ttft-slo';
export const SLO_QUANTILE_ANNOTATION = 'autoscaling.kthena.io/ttft-slo-quantile';
export const SLO_UTILIZATION_ANNOTATION = 'autoscaling.kthena.io/target-utilization-percent';
export const SLO_LOOKAHEAD_ANNOTATION = 'autoscaling.kthena.io/scale-up-lookahead';
/** The metric the SLO adds to the recommendation: the fleet's request rate against the learned per-replica target. */
export const SLO_METRIC = 'slo_request_rate';

export const DEFAULT_SLO_QUANTILE = 0.95;
export const DEFAULT_UTILIZATION = 0.7;
/** About how long a new replica takes to become ready (real models: 30–180 s). */
export const DEFAULT_LOOKAHEAD_MS = 60_000;
/** The window TTFT and rate are read over: two sync periods, short enough to follow a burst. */
export const SLO_WINDOW_MS = 30_000;
/** Fewer requests than this in the window say nothing about the TTFT quantile. */
export const SLO_MIN_REQUESTS = 20;
const BACKOFF = 0.7;
const PROBE_STEP = 1.05;
/** probing stays within this factor of the highest rate actually seen within the SLO */
const PROBE_LIMIT = 1.4;
/** a step (a burst) is not a trend: extrapolation adds at most this share of the rate */
const MAX_RISE = 0.6;
const PROBE_FRACTION = 0.35;
/**
 * A rate forecast to lose at least half of itself within the cold-start horizon is load leaving — the end of a flash
 * crowd — not the noise of a Poisson window (≈ 8 % at 70 req/s once extrapolated) nor the day's slow decline. Lower
 * thresholds also release replicas on the day's ordinary dips, and the next burst then finds the fleet without the
 * headroom it needs (docs/autoscaling.md has the sweep).
 */
export const STEEP_FALL = 0.5;

export interface SloSpec {
  ttftSec: number;
  /** 0..1, e.g. 0.95 */
  quantile: number;
  /** 0..1: share of the learned capacity each replica is kept at */
  utilization: number;
  /** a rising rate is extrapolated this far ahead: where it will be when a replica asked for now is ready */
  lookaheadMs: number;
}

/** Reads the SLO annotations; undefined when the policy has none. Throws Error with the reason when unusable. */
export function sloOf(annotations: Readonly<Record<string, string>> | undefined): SloSpec | undefined {
  const raw = annotations?.[TTFT_SLO_ANNOTATION];
  if (raw === undefined) return undefined;
  const ms = parseDurationMs(raw.trim());
  const sec = ms !== undefined ? ms / 1000 : Number(raw);
  if (!(sec > 0) || !Number.isFinite(sec))
    throw new Error(`annotation ${TTFT_SLO_ANNOTATION}: "${raw}" is not a positive duration (e.g. "800ms", "1s")`);
  const qRaw = annotations?.[SLO_QUANTILE_ANNOTATION];
  const quantile = qRaw === undefined ? DEFAULT_SLO_QUANTILE : Number(qRaw);
  if (!(quantile > 0 && quantile < 1))
    throw new Error(`annotation ${SLO_QUANTILE_ANNOTATION}: "${qRaw}" must be a number between 0 and 1 (e.g. 0.95)`);
  const uRaw = annotations?.[SLO_UTILIZATION_ANNOTATION];
  const percent = uRaw === undefined ? DEFAULT_UTILIZATION * 100 : Number(uRaw);
  if (!Number.isInteger(percent) || percent < 1 || percent > 100)
    throw new Error(`annotation ${SLO_UTILIZATION_ANNOTATION}: "${uRaw}" must be an integer percentage in 1..100`);
  const lRaw = annotations?.[SLO_LOOKAHEAD_ANNOTATION];
  const lookaheadMs = lRaw === undefined ? DEFAULT_LOOKAHEAD_MS : parseDurationMs(lRaw.trim());
  if (lookaheadMs === undefined || lookaheadMs < 0 || lookaheadMs > 30 * 60_000)
    throw new Error(`annotation ${SLO_LOOKAHEAD_ANNOTATION}: "${lRaw}" must be a duration in [0, 30m] (e.g. "90s")`);
  return { ttftSec: sec, quantile, utilization: percent / 100, lookaheadMs };
}

export interface SloObservation {
  /** requests per second over the window, all ready replicas together */
  rate: number;
  /** replicas the window was read from */
  ready: number;
  /** replicas starting (not ready) */
  unready: number;
  /** now, milliseconds */
  now: number;
  /** TTFT quantile over the window; undefined when unreadable */
  ttftSec?: number;
  /** requests observed in the window */
  requests: number;
}

export type SloVerdict = 'first-evidence' | 'violated' | 'sustained' | 'probe' | 'hold' | 'no-evidence' | 'settling';

export class CapacityEstimator {
  /** requests per second one replica serves within the SLO (the belief); undefined until the first evidence */
  capacity: number | undefined;
  lastVerdict: SloVerdict = 'no-evidence';
  private ready = -1;
  private readySince = 0;
  private rates: { t: number; rate: number }[] = [];
  /**
   * Set by demand: the rate is falling steeply (STEEP_FALL) — load is leaving, and a replica removed now will not be
   * needed again within a cold start, so holding it through the scale-down stabilisation window only costs.
   */
  falling = false;
  /** the highest rate per replica seen within the SLO (lowered on a violation below it) */
  private confirmed = 0;

  constructor(readonly spec: SloSpec) {}

  /** Per-replica target for the fleet's rate; undefined while nothing is known. */
  target(): number | undefined {
    return this.capacity === undefined ? undefined : this.capacity * this.spec.utilization;
  }

  /** Learns from one cycle's observation; returns what it concluded. */
  observe(o: SloObservation): SloVerdict {
    if (o.ready !== this.ready) {
      this.ready = o.ready;
      this.readySince = o.now;
    }
    const settled = o.unready === 0 && o.now - this.readySince >= SLO_WINDOW_MS;
    this.lastVerdict = settled ? this.learn(o) : 'settling';
    return this.lastVerdict;
  }

  /**
   * The rate to provision for. A replica asked for now serves from `lookahead` on, one removed now cannot be back
   * sooner, so the rate is extrapolated that far along its trend over the last one to two windows:
   *   - rising: the measured rate plus the rise (a step — a burst — is not a trend: at most MAX_RISE of the rate);
   *   - falling: no replica is added for load that will be gone by the time it is ready (the forecast, but never
   *     below what `provisioned` — the fleet as it is — already covers of the measured rate, so nothing needed now
   *     is removed either; the scale-down windows decide how fast replicas follow the fall).
   */
  demand(now: number, rate: number, requests: number, provisioned = Infinity): number {
    this.rates = this.rates.filter((r) => now - r.t <= 2 * SLO_WINDOW_MS);
    // The slope over the last one to two windows: long enough not to chase noise.
    const past = this.rates.find((r) => now - r.t >= SLO_WINDOW_MS);
    // A window with too few requests (a fleet just started) is no baseline for a trend.
    if (requests >= SLO_MIN_REQUESTS) this.rates.push({ t: now, rate });
    this.falling = false;
    if (!past) return rate;
    const slope = (rate - past.rate) / (now - past.t);
    // The measured rate is the window's average, centred half a window back: extrapolate from there.
    const change = slope * (this.spec.lookaheadMs + SLO_WINDOW_MS / 2);
    this.falling = change <= -STEEP_FALL * rate;
    if (change >= 0) return rate + Math.min(change, rate * MAX_RISE);
    return Math.max(rate + change, Math.min(rate, provisioned));
  }

  private learn(o: SloObservation): SloVerdict {
    if (o.ttftSec === undefined || o.requests < SLO_MIN_REQUESTS || o.ready <= 0) return 'no-evidence';
    const x = o.rate / o.ready;
    const slo = this.spec.ttftSec;
    const c = this.capacity;
    if (c === undefined) {
      if (o.ttftSec > slo) return 'no-evidence'; // overloaded from the start: the policy's own metrics must act
      this.capacity = x;
      this.confirmed = x;
      return 'first-evidence';
    }
    if (o.ttftSec > slo) {
      if (x >= c) return 'hold'; // beyond the belief: expected; replicas are the answer
      this.capacity = Math.max(x, c * BACKOFF);
      this.confirmed = Math.min(this.confirmed, this.capacity);
      return 'violated';
    }
    this.confirmed = Math.max(this.confirmed, x);
    if (x > c) {
      this.capacity = x;
      return 'sustained';
    }
    // TTFT says little about how far the cliff is (engines keep it low until they saturate), so probing never
    // goes more than PROBE_LIMIT beyond the highest rate actually seen within the SLO.
    const probe = Math.min(c * PROBE_STEP, this.confirmed * PROBE_LIMIT);
    if (o.ttftSec <= slo * PROBE_FRACTION && x >= 0.9 * c * this.spec.utilization && probe > c) {
      this.capacity = probe;
      return 'probe';
    }
    return 'hold';
  }
}
