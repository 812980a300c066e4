// The arithmetic of the latency-predicting scorer, kept pure so it can be checked by hand.
//
//   predicted TTFT = base + rate × (prefill tokens queued ahead + this request's uncached tokens) + k × decoding
//
// where "uncached" = prompt tokens − tokens of its prefix the endpoint already holds (from the KV index), "queued
// ahead" = uncached tokens of requests already sent there that have not produced their first token, and
// "decoding" = sequences in decode there (each step that carries our prefill also carries their decode work).
// The three coefficients are learned online by recursive least squares from the TTFT the router observes at each
// first byte, starting from a prior; features are scaled to similar magnitudes so the solver stays well conditioned.
// Because queued work and missing cache enter the same currency (seconds), cache affinity fades smoothly as a warm
// endpoint's queue grows, instead of flipping at a threshold.
import type { TtftParts } from '../request/decision.js';

export interface LatencyInputs {
  promptTokens: number;
  cachedTokens: number;
  queuedPrefillTokens: number;
  decoding: number;
  /**
   * Seconds the endpoint is already behind what the model predicted for requests still waiting there for their
   * first token (the most overdue one). It catches queueing the token counts cannot see: waiting for KV blocks or
   * sequence slots to free up, a slow or overloaded engine, traffic of other routers. 0 when nothing is overdue.
   */
  backlogSec?: number;
}

/** A predicted TTFT and its parts (declared with the decision record it is kept in, src/router/request/decision.ts). */
export type LatencyPrediction = TtftParts;

const TOKEN_SCALE = 1000;
const SEQ_SCALE = 100;

export interface Coefficients {
  baseSec: number;
  secPerToken: number;
  secPerDecodingSeq: number;
}

/** A100-class prior for a 7–8B model: ~10k prefill tokens/s, 10 ms fixed, 0.1 ms per decoding sequence. */
export const PRIOR: Coefficients = { baseSec: 0.01, secPerToken: 1e-4, secPerDecodingSeq: 1e-4 };

export function predictTtft(c: Coefficients, x: LatencyInputs): LatencyPrediction {
  const uncached = Math.max(0, x.promptTokens - x.cachedTokens);
  const queueSec = c.secPerToken * Math.max(0, x.queuedPrefillTokens);
  const prefillSec = c.secPerToken * uncached;
  const decodeSec = c.secPerDecodingSeq * Math.max(0, x.decoding);
  const backlogSec = Math.max(0, x.backlogSec ?? 0);
  return {
    baseSec: c.baseSec,
    queueSec,
    prefillSec,
    decodeSec,
    backlogSec,
    ttftSec: c.baseSec + queueSec + prefillSec + decodeSec + backlogSec,
  };
}

/**
 * What choosing each endpoint costs everyone, in request-seconds: this request's predicted TTFT there, plus the delay
 * its avoidable prefill imposes on the sequences decoding there. "Avoidable" is the prefill beyond the least any
 * candidate needs (a cache miss where another endpoint holds the prefix): every engine step that carries that work
 * carries their decode steps too, so each of them waits as long as it takes — and the duplicated prefix costs cache
 * capacity later. A TTFT-only objective misses this: a miss on a busy engine looks cheap to the request itself. When
 * no candidate holds anything (every prefill is equal) the extra term is 0 and the choice is by TTFT alone, so a queue
 * is never preferred for having fewer streams in decode. Minimising the sum keeps affinity while the warm engine's
 * queue is short and spreads load once waiting there costs more than the miss elsewhere.
 */
export function placementCosts(preds: readonly LatencyPrediction[], inputs: readonly LatencyInputs[]): number[] {
  let least = Number.POSITIVE_INFINITY;
  for (const p of preds) if (p.prefillSec < least) least = p.prefillSec;
  return preds.map((p, i) => p.ttftSec + (p.prefillSec - least) * Math.max(0, inputs[i].decoding));
}

/**
 * Scores in [0, 100]: 100 × best / predicted over the part of the prediction that differs between candidates
 * (`common`, e.g. the fixed base every candidate pays, is taken out first), so the fastest endpoint gets 100 and one
 * whose variable part is twice as long 50. Removing the common part keeps the scores discriminating when the
 * learned base is large (under bursts it absorbs the prefill of requests that join the same engine step later),
 * which matters when the scorer is combined with other plugins by weight.
 */
export function scoresFromPredictions(ttfts: readonly number[], common = 0): number[] {
  const vars = ttfts.map((t) => (Number.isFinite(t) ? Math.max(1e-9, t - common) : Number.POSITIVE_INFINITY));
  const best = Math.min(...vars);
  return vars.map((v) => (Number.isFinite(v) ? (100 * best) / v : 0));
}

/** Relative width within which two predictions count as a tie (0.1 %: below what the model can tell apart). */
export const TIE_REL = 1e-3;

/**
 * scoresFromPredictions, then ties broken by load: among candidates predicted within TIE_REL of each other, the
 * one with fewer requests in flight scores higher (by at most 0.05 points, so it never outweighs a real
 * difference in predicted latency). Without it, idle or equally loaded replicas tie and the framework's random
 * tie-break can stack a burst of distinct prompts on one of them.
 */
export function scoresWithLoadTieBreak(ttfts: readonly number[], inflight: readonly number[], common = 0): number[] {
  const s = scoresFromPredictions(ttfts, common);
  const maxLoad = Math.max(1, ...inflight);
  return s.map((v, i) => {
    const tiedWithBest = v >= 100 * (1 - TIE_REL);
    const base = tiedWithBest ? 100 : v;
    return Math.max(0, base - 0.05 * (Math.max(0, inflight[i]) / maxLoad));
  });
}

/** Recursive least squares with forgetting over features [1, tokens/1000, decoding/100]. */
export class OnlineLatencyModel {
  private theta: number[];
  private P: number[][];
  observations = 0;

  constructor(
    prior: Coefficients = PRIOR,
    private readonly forgetting = 0.995,
  ) {
    this.theta = [prior.baseSec, prior.secPerToken * TOKEN_SCALE, prior.secPerDecodingSeq * SEQ_SCALE];
    this.P = [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ];
  }

  get coefficients(): Coefficients {
    // Physical floors: time never goes down with more work.
    return {
      baseSec: Math.max(0, this.theta[0]),
      secPerToken: Math.max(1e-7, this.theta[1] / TOKEN_SCALE),
      secPerDecodingSeq: Math.max(0, this.theta[2] / SEQ_SCALE),
    };
  }

  /** One observed TTFT (seconds) for a request whose inputs were `x` at dispatch. */
  observe(x: LatencyInputs, ttftSec: number): void {
    if (!Number.isFinite(ttftSec) || ttftSec < 0) return;
    const tokens = Math.max(0, x.queuedPrefillTokens) + Math.max(0, x.promptTokens - x.cachedTokens);
    const phi = [1, tokens / TOKEN_SCALE, Math.max(0, x.decoding) / SEQ_SCALE];
    const P = this.P;
    const Pphi = P.map((row) => row[0] * phi[0] + row[1] * phi[1] + row[2] * phi[2]);
    const denom = this.forgetting + phi[0] * Pphi[0] + phi[1] * Pphi[1] + phi[2] * Pphi[2];
    const k = Pphi.map((v) => v / denom);
    const err = ttftSec - (this.theta[0] * phi[0] + this.theta[1] * phi[1] + this.theta[2] * phi[2]);
    for (let i = 0; i < 3; i++) this.theta[i] += k[i] * err;
    for (let i = 0; i < 3; i++) for (let j = 0; j < 3; j++) P[i][j] = (P[i][j] - k[i] * Pphi[j]) / this.forgetting;
    // Keep P bounded under forgetting when the input does not excite every direction.
    for (let i = 0; i < 3; i++) if (P[i][i] > 1e6) for (let j = 0; j < 3; j++) P[i][j] /= 10;
    this.observations++;
  }
}
