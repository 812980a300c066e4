// Named calibrations: model architecture + GPU facts → KV capacity and step-time coefficients.
// Every number is derived in docs/engine-sim.md ("Profiles") from public sources; nothing here is tuned on
// the results of the routing strategies the simulator is used to compare.

export interface ModelArch {
  name: string;
  params: number; // parameters
  layers: number;
  kvHeads: number;
  headDim: number;
  bytesPerElem: number; // BF16 = 2
}

export interface GpuSpec {
  name: string;
  memGiB: number;
  hbmBytesPerSec: number;
  bf16Flops: number; // dense
}

export interface Profile {
  name: string;
  description: string;
  arch: ModelArch;
  gpu: GpuSpec;
  tensorParallel: number;
  // vLLM engine defaults for this deployment
  blockSize: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  gpuMemoryUtilization: number;
  /** Memory vLLM keeps for activations, CUDA graphs and the non-torch allocator, per GPU. */
  reservedGiB: number;
  // efficiencies (fractions of the roofline actually reached)
  bandwidthEfficiency: number;
  /** Fraction of HBM bandwidth paged attention reaches when reading KV (long contexts read less efficiently). */
  kvReadEfficiency: number;
  prefillMfu: number;
  // fixed costs
  stepOverheadSec: number; // scheduler + sampler + launch, per step
  tpCommSec: number; // all-reduces per step at this TP degree
  perSeqSec: number; // per scheduled sequence (input prep, sampling, detokenize)
  /** Frontend time per request before it reaches the engine queue (HTTP, tokenization). */
  requestOverheadSec: number;
  /** KV transfer for PD: fixed latency plus bytes / link bandwidth. */
  kvTransferLatencySec: number;
  kvTransferBytesPerSec: number;
  loraLoadSec: number;
}

export const LLAMA_31_8B: ModelArch = {
  name: 'meta-llama/Llama-3.1-8B-Instruct',
  params: 8.03e9,
  layers: 32,
  kvHeads: 8,
  headDim: 128,
  bytesPerElem: 2,
};
export const LLAMA_31_70B: ModelArch = {
  name: 'meta-llama/Llama-3.1-70B-Instruct',
  params: 70.6e9,
  layers: 80,
  kvHeads: 8,
  headDim: 128,
  bytesPerElem: 2,
};
export const DEEPSEEK_R1_DISTILL_QWEN_7B: ModelArch = {
  name: 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B',
  params: 7.62e9,
  layers: 28,
  kvHeads: 4,
  headDim: 128,
  bytesPerElem: 2,
};

export const H100_SXM_80GB: GpuSpec = { name: 'H100-SXM-80GB', memGiB: 80, hbmBytesPerSec: 3.35e12, bf16Flops: 989e12 };
export const A100_SXM_80GB: GpuSpec = {
  name: 'A100-SXM-80GB',
  memGiB: 80,
  hbmBytesPerSec: 2.039e12,
  bf16Flops: 312e12,
};
/**
 * Upstream's benchmark does not name its accelerator. A100-class compute and bandwidth with the memory that
 * reproduces upstream's Random-strategy rows (fitted, see docs/engine-sim.md "Calibration").
 */
export const UPSTREAM_BENCH_ACCELERATOR: GpuSpec = {
  name: 'A100-class, 56 GiB (fitted to upstream Random rows)',
  memGiB: 56,
  hbmBytesPerSec: 2.039e12,
  bf16Flops: 312e12,
};

const COMMON = {
  gpuMemoryUtilization: 0.9,
  bandwidthEfficiency: 0.85,
  kvReadEfficiency: 0.85,
  prefillMfu: 0.45,
  stepOverheadSec: 0.001,
  perSeqSec: 0.00002,
  requestOverheadSec: 0.002,
  kvTransferLatencySec: 0.002,
  kvTransferBytesPerSec: 25e9, // ~200 Gb/s RDMA NIC per GPU
  loraLoadSec: 0.025,
};

export const PROFILES: Readonly<Record<string, Profile>> = {
  'llama-3.1-8b-h100': {
    ...COMMON,
    name: 'llama-3.1-8b-h100',
    description: 'Llama-3.1-8B BF16 on one H100-SXM-80GB, vLLM V1 OpenAI-server defaults',
    arch: LLAMA_31_8B,
    gpu: H100_SXM_80GB,
    tensorParallel: 1,
    blockSize: 16,
    maxNumSeqs: 1024,
    maxNumBatchedTokens: 8192,
    maxModelLen: 131072,
    reservedGiB: 4,
    tpCommSec: 0,
  },
  'deepseek-r1-distill-qwen-7b': {
    ...COMMON,
    name: 'deepseek-r1-distill-qwen-7b',
    description:
      "DeepSeek-R1-Distill-Qwen-7B BF16 on one A100-class accelerator, as upstream Kthena's router benchmark ran vLLM " +
      '(block size 128, max-num-batched-tokens 65536, max-num-seqs 256, max-model-len 32768, gpu-memory-utilization 0.9)',
    arch: DEEPSEEK_R1_DISTILL_QWEN_7B,
    gpu: UPSTREAM_BENCH_ACCELERATOR,
    // Fitted on upstream's Random row with the short system prompt (prefill-bound); see the docs.
    prefillMfu: 0.64,
    tensorParallel: 1,
    blockSize: 128,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 65536,
    maxModelLen: 32768,
    reservedGiB: 6,
    tpCommSec: 0,
  },
  'llama-3.1-70b-tp4-h100': {
    ...COMMON,
    name: 'llama-3.1-70b-tp4-h100',
    description: 'Llama-3.1-70B BF16 on four H100-SXM-80GB (tensor parallel 4), vLLM V1 defaults',
    arch: LLAMA_31_70B,
    gpu: H100_SXM_80GB,
    tensorParallel: 4,
    blockSize: 16,
    maxNumSeqs: 1024,
    maxNumBatchedTokens: 8192,
    maxModelLen: 131072,
    reservedGiB: 4,
    // 2 all-reduces per layer × 80 layers × ~15 µs each on NVLink for small decode batches.
    tpCommSec: 0.0024,
  },
};

export const DEFAULT_PROFILE = 'llama-3.1-8b-h100';

export function getProfile(name: string): Profile {
  const p = PROFILES[name];
  if (!p) throw new Error(`unknown profile "${name}" (known: ${Object.keys(PROFILES).join(', ')})`);
  return p;
}

/** KV bytes per token for the whole model: 2 (K and V) × layers × kv_heads × head_dim × bytes. */
export function kvBytesPerToken(arch: ModelArch): number {
  return 2 * arch.layers * arch.kvHeads * arch.headDim * arch.bytesPerElem;
}

/**
 * GPU blocks vLLM would allocate: per GPU, memory × utilization − weights/TP − reserved, divided by the
 * per-GPU bytes of one block (KV heads are split across TP ranks).
 */
export function numGpuBlocks(
  p: Profile,
  blockSize = p.blockSize,
  gpuMemoryUtilization = p.gpuMemoryUtilization,
): number {
  const gib = 1024 ** 3;
  const perGpu =
    p.gpu.memGiB * gib * gpuMemoryUtilization -
    (p.arch.params * p.arch.bytesPerElem) / p.tensorParallel -
    p.reservedGiB * gib;
  const blockBytes = (kvBytesPerToken(p.arch) / p.tensorParallel) * blockSize;
  return Math.max(1, Math.floor(perGpu / blockBytes));
}
