// Prints each profile's derived capacity and single-request latencies (the figures docs/engine-sim.md compares
// with public measurements). Runs the real core on a virtual clock rather than re-deriving the formula.
//
//   npx tsx src/engine/tools/profile-table.ts
import { coefficients, stepSeconds } from '../cost-model.js';
import { kvBytesPerToken, numGpuBlocks, PROFILES, type Profile } from '../profiles.js';
import { singleRequestLatency as single } from './single-request.js';

const rows: string[] = [];
rows.push(
  '| profile | KV B/token | GPU blocks × size | KV tokens | TTFT 128 in | TTFT 1024 in | TTFT 4096 in | ITL (1 seq, 1k ctx) | ITL (64 seqs, 1k ctx) | prefill tok/s (full budget) |',
);
rows.push('|---|---|---|---|---|---|---|---|---|---|');
for (const p of Object.values(PROFILES)) {
  const k = coefficients(p);
  const blocks = numGpuBlocks(p);
  const a = single(p, 128, 64);
  const b = single(p, 1024, 128);
  const d = single(p, 4096, 16);
  const itl64 = stepSeconds(k, { prefillTokens: 0, kvTokensRead: 64 * 1024, numSeqs: 64, loraLoads: 0 }) * 1000;
  const budget = p.maxNumBatchedTokens;
  const prefillRate = budget / stepSeconds(k, { prefillTokens: budget, kvTokensRead: 0, numSeqs: 1, loraLoads: 0 });
  rows.push(
    `| ${p.name} | ${kvBytesPerToken(p.arch)} | ${blocks} × ${p.blockSize} | ${blocks * p.blockSize} | ${a.ttftMs.toFixed(1)} ms | ${b.ttftMs.toFixed(1)} ms | ${d.ttftMs.toFixed(1)} ms | ${b.itlMs.toFixed(2)} ms | ${itl64.toFixed(2)} ms | ${Math.round(prefillRate)} |`,
  );
}
// Calibration check: the same 8B coefficients on an A100-40GB (1.555 TB/s) against the public measurement of
// ~75 tok/s (13.3 ms) at concurrency 1, 1024 in / 128 out, vLLM 0.23 (johnmusgrave.com, see docs).
const a100: Profile = {
  ...PROFILES['llama-3.1-8b-h100'],
  name: 'llama-3.1-8b on A100-40GB (check)',
  gpu: { name: 'A100-40GB', memGiB: 40, hbmBytesPerSec: 1.555e12, bf16Flops: 312e12 },
};
const chk = single(a100, 1024, 128);
rows.push('');
rows.push(
  `check: ${a100.name}: TTFT 1024 in = ${chk.ttftMs.toFixed(1)} ms, ITL = ${chk.itlMs.toFixed(2)} ms (${(1000 / chk.itlMs).toFixed(1)} tok/s; measured ~75 tok/s)`,
);
process.stdout.write(`${rows.join('\n')}\n`);
