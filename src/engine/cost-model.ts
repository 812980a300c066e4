// Step time of one engine iteration, a linear roofline model in the spirit of BLIS/Vidur:
//   t = overhead + TP comm + weight read + prefill tokens × compute/token + KV tokens read × bytes/bandwidth
//       + sequences × per-sequence cost (+ LoRA loads)
// Prefill is compute-bound (2 × params FLOPs per token at MFU); decode is memory-bound (weights once per step,
// plus every KV token each sequence attends to). See docs/engine-sim.md for the derivation.
import { kvBytesPerToken, type Profile } from './profiles.js';

export interface StepCoefficients {
  fixedSec: number; // overhead + tp comm + weight read
  prefillSecPerToken: number;
  kvReadSecPerToken: number;
  perSeqSec: number;
  loraLoadSec: number;
}

export function coefficients(p: Profile): StepCoefficients {
  const tp = p.tensorParallel;
  const bw = p.gpu.hbmBytesPerSec * p.bandwidthEfficiency;
  const weightBytesPerGpu = (p.arch.params * p.arch.bytesPerElem) / tp;
  return {
    fixedSec: p.stepOverheadSec + p.tpCommSec + weightBytesPerGpu / bw,
    prefillSecPerToken: (2 * p.arch.params) / (tp * p.gpu.bf16Flops * p.prefillMfu),
    kvReadSecPerToken: kvBytesPerToken(p.arch) / tp / (p.gpu.hbmBytesPerSec * p.kvReadEfficiency),
    perSeqSec: p.perSeqSec,
    loraLoadSec: p.loraLoadSec,
  };
}

export interface StepShape {
  prefillTokens: number;
  kvTokensRead: number;
  numSeqs: number;
  loraLoads: number;
}

export function stepSeconds(c: StepCoefficients, s: StepShape, slowFactor = 1): number {
  const t =
    c.fixedSec +
    c.prefillSecPerToken * s.prefillTokens +
    c.kvReadSecPerToken * s.kvTokensRead +
    c.perSeqSec * s.numSeqs +
    c.loraLoadSec * s.loraLoads;
  return t * slowFactor;
}

/** KV transfer time for PD hand-off of `tokens` prompt tokens. */
export function kvTransferSeconds(p: Profile, tokens: number): number {
  return p.kvTransferLatencySec + (tokens * kvBytesPerToken(p.arch)) / p.tensorParallel / p.kvTransferBytesPerSec;
}
