// Golden values of the cost model and profiles, pinned to the calibration table in docs/engine-sim.md ("Profiles"):
// the figures there were compared with public measurements (decode on A100-40GB ≈ 75 tok/s, prefill ≈ 27k tok/s on
// H100, upstream's Random rows), so a change to a coefficient or a profile that moves them must change the docs too.
// Expected values are written out, not recomputed from the coefficients under test.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { coefficients, stepSeconds } from './cost-model.js';
import { kvBytesPerToken, numGpuBlocks, PROFILES, type Profile } from './profiles.js';
import { singleRequestLatency } from './tools/single-request.js';

const DOC_TABLE: Record<
  string,
  { kvB: number; blocks: number; ttft: [string, string, string]; itl1: string; itl64: string; prefill: number }
> = {
  'llama-3.1-8b-h100': {
    kvB: 131072,
    blocks: 27157,
    ttft: ['13.3', '45.6', '156.5'],
    itl1: '6.71',
    itl64: '10.94',
    prefill: 27101,
  },
  'deepseek-r1-distill-qwen-7b': {
    kvB: 57344,
    blocks: 4418,
    ttft: ['21.6', '90.0', '324.4'],
    itl1: '9.85',
    itl64: '13.24',
    prefill: 13077,
  },
  'llama-3.1-70b-tp4-h100': {
    kvB: 327680,
    blocks: 28773,
    ttft: ['28.0', '99.0', '342.7'],
    itl1: '15.85',
    itl64: '18.96',
    prefill: 12308,
  },
};

for (const [name, want] of Object.entries(DOC_TABLE)) {
  test(`profile ${name}: KV size, blocks, single-request TTFT/ITL, batch ITL and prefill rate as documented`, () => {
    const p = PROFILES[name];
    const k = coefficients(p);
    assert.equal(kvBytesPerToken(p.arch), want.kvB);
    assert.equal(numGpuBlocks(p), want.blocks);
    const ttft = [128, 1024, 4096].map((n, i) => singleRequestLatency(p, n, [64, 128, 16][i]).ttftMs.toFixed(1));
    assert.deepEqual(ttft, want.ttft);
    assert.equal(singleRequestLatency(p, 1024, 128).itlMs.toFixed(2), want.itl1);
    const itl64 = stepSeconds(k, { prefillTokens: 0, kvTokensRead: 64 * 1024, numSeqs: 64, loraLoads: 0 }) * 1000;
    assert.equal(itl64.toFixed(2), want.itl64);
    const budget = p.maxNumBatchedTokens;
    const rate = budget / stepSeconds(k, { prefillTokens: budget, kvTokensRead: 0, numSeqs: 1, loraLoads: 0 });
    assert.equal(Math.round(rate), want.prefill);
  });
}

test('decode calibration point: Llama-3.1-8B on A100-40GB, 1024 in / 128 out, one stream ≈ 75 tok/s (13.28 ms)', () => {
  const a100: Profile = {
    ...PROFILES['llama-3.1-8b-h100'],
    gpu: { name: 'A100-40GB', memGiB: 40, hbmBytesPerSec: 1.555e12, bf16Flops: 312e12 },
  };
  const r = singleRequestLatency(a100, 1024, 128);
  assert.equal(r.itlMs.toFixed(2), '13.28');
  assert.equal(r.ttftMs.toFixed(1), '132.3');
});

test('step time is linear in each work term and scaled by the slow factor', () => {
  const k = coefficients(PROFILES['llama-3.1-8b-h100']);
  const base = { prefillTokens: 100, kvTokensRead: 1000, numSeqs: 4, loraLoads: 0 };
  const t = stepSeconds(k, base);
  assert.ok(Math.abs(stepSeconds(k, { ...base, prefillTokens: 200 }) - t - 100 * k.prefillSecPerToken) < 1e-15);
  assert.ok(Math.abs(stepSeconds(k, { ...base, numSeqs: 5 }) - t - k.perSeqSec) < 1e-15);
  assert.ok(Math.abs(stepSeconds(k, { ...base, loraLoads: 1 }) - t - k.loraLoadSec) < 1e-15);
  assert.equal(stepSeconds(k, base, 10), t * 10);
});
