// The reference trace of `kthena bench autoscaling`: one day of traffic compressed into DAY_SEC of virtual time, a
// daily shape (night trough, morning rise, afternoon peak, evening shoulder) plus seeded bursts (flash crowds that
// lift the rate by 30–60 % within seconds for one to three minutes). Arrivals are a non-homogeneous Poisson process
// (thinning), request sizes uniform. The same seed gives the same trace, byte for byte.
import { type FleetArrival, seededRandom } from '../../src/twin/index.js';

export interface TraceSpec {
  name: string;
  /** virtual seconds for the whole day */
  daySec: number;
  troughRps: number;
  peakRps: number;
  bursts: number;
  burstLift: [number, number];
  burstSec: [number, number];
  promptTokens: [number, number];
  outputTokens: [number, number];
}

export const REFERENCE_TRACE: TraceSpec = {
  name: 'diurnal-bursty',
  daySec: 1440, // 24 h in 24 min: one virtual minute per hour (60× compression)
  troughRps: 6,
  peakRps: 72,
  // Two flash crowds a day. Bursts keep their real length while the day is compressed 60×, so each one weighs
  // 60× more than it would in a real day; `--bursts` asks for more.
  bursts: 2,
  burstLift: [0.3, 0.6],
  burstSec: [60, 180],
  promptTokens: [256, 768],
  outputTokens: [64, 192],
};

export interface Burst {
  start: number;
  end: number;
  lift: number;
}

export interface Trace {
  spec: TraceSpec;
  seed: number;
  bursts: Burst[];
  /** requests per second at time t (the expectation the arrivals are drawn from) */
  rate: (t: number) => number;
  arrivals: FleetArrival[];
}

/** 0..1: the day's shape at hour h (minimum ≈ 04:00, peak ≈ 15:00, a morning bump and an evening shoulder). */
export function dayShape(h: number): number {
  const base = (1 - Math.cos((2 * Math.PI * (h - 4)) / 24)) / 2;
  const morning = 0.18 * Math.exp(-(((h - 10) / 1.5) ** 2));
  const evening = 0.12 * Math.exp(-(((h - 20.5) / 1.5) ** 2));
  return Math.min(1, base ** 1.3 + morning + evening);
}

const RAMP_SEC = 5;

export function buildTrace(spec: TraceSpec, seed: number): Trace {
  const rand = seededRandom(seed);
  const between = ([a, b]: [number, number]) => a + (b - a) * rand();
  const hourSec = spec.daySec / 24;
  // Bursts in the working day (08:00–21:00), not overlapping.
  const bursts: Burst[] = [];
  for (let tries = 0; bursts.length < spec.bursts && tries < 1000; tries++) {
    const start = (8 + 13 * rand()) * hourSec;
    const len = between(spec.burstSec);
    const b = { start, end: start + len, lift: between(spec.burstLift) };
    if (b.end <= 21 * hourSec && bursts.every((x) => b.end + 60 < x.start || b.start > x.end + 60)) bursts.push(b);
  }
  bursts.sort((a, b) => a.start - b.start);
  const rate = (t: number) => {
    let r = spec.troughRps + (spec.peakRps - spec.troughRps) * dayShape(t / hourSec);
    for (const b of bursts) {
      if (t < b.start || t > b.end) continue;
      const edge = Math.min(1, (t - b.start) / RAMP_SEC, (b.end - t) / RAMP_SEC);
      r *= 1 + b.lift * edge;
    }
    return r;
  };
  const max = (spec.peakRps + 1) * (1 + spec.burstLift[1]);
  const arrivals: FleetArrival[] = [];
  for (let t = 0; ; ) {
    t += -Math.log(1 - rand()) / max;
    if (t >= spec.daySec) break;
    if (rand() * max > rate(t)) continue;
    arrivals.push({
      at: t,
      promptTokens: Math.round(between(spec.promptTokens)),
      outputTokens: Math.round(between(spec.outputTokens)),
    });
  }
  return { spec, seed, bursts, rate, arrivals };
}

/** The highest rate over [from, to] (sampled each second): what the oracle provisions for. */
export function peakRate(trace: Trace, from: number, to: number): number {
  let m = 0;
  for (let t = Math.max(0, from); t <= to; t += 1) m = Math.max(m, trace.rate(t));
  return Math.max(m, trace.rate(Math.max(0, to)));
}
