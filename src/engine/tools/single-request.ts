// One request alone on a fresh engine core, on a virtual clock: the single-request latencies docs/engine-sim.md
// compares with public measurements (profile-table.ts prints them; cost-model.test.ts pins them).
import { EngineCore } from '../core.js';
import { coefficients } from '../cost-model.js';
import { numGpuBlocks, type Profile } from '../profiles.js';
import { newRequest } from '../request.js';

/** TTFT (with the frontend overhead) and mean ITL, milliseconds. */
export function singleRequestLatency(p: Profile, promptLen: number, outLen: number): { ttftMs: number; itlMs: number } {
  const c = new EngineCore({
    blockSize: p.blockSize,
    numGpuBlocks: numGpuBlocks(p),
    maxNumSeqs: p.maxNumSeqs,
    maxNumBatchedTokens: p.maxNumBatchedTokens,
    maxModelLen: p.maxModelLen,
    coefficients: coefficients(p),
  });
  const r = newRequest({
    id: 'x',
    promptTokens: Array.from({ length: promptLen }, (_, i) => i + 1000),
    maxTokens: outLen,
    targetOutputTokens: outLen,
    seed: 1,
  });
  c.add(r, 0);
  let t = 0;
  while (!c.isIdle()) t = c.runStep(t);
  return {
    ttftMs: (r.firstTokenTime + p.requestOverheadSec) * 1000,
    itlMs: ((r.finishTime - r.firstTokenTime) / (outLen - 1)) * 1000,
  };
}
