// Engine options (the programmatic twin of the CLI flags) and their resolution against a profile.
import type { ModelTokenizer } from '../tokens/index.js';
import type { Clock } from './clock.js';
import { coefficients, type StepCoefficients } from './cost-model.js';
import { DEFAULT_PROFILE, getProfile, numGpuBlocks, type Profile } from './profiles.js';
import { type OutputLenDist, parseOutputLenDist } from './text-gen.js';

export type EngineKind = 'vllm' | 'sglang';
export type EngineRole = 'both' | 'prefill' | 'decode';

export interface EngineOptions {
  /** Port to listen on; 0 (default) = ephemeral. */
  port?: number;
  /** Listen address; default 127.0.0.1. */
  host?: string;
  /** Serve the fault-injection and stats endpoints (/admin/…); default off. */
  enableAdmin?: boolean;
  /** Model (path or HF id); also the served name unless servedModelName is given. */
  model: string;
  /** Names the API answers to (vLLM --served-model-name); the first is reported in responses. */
  servedModelName?: string | string[];
  profile?: string;
  /** Replaces profile fields (calibration experiments, custom hardware). */
  profileOverrides?: Partial<Omit<Profile, 'name'>>;
  engine?: EngineKind;
  role?: EngineRole;
  /** Simulated time runs this many times faster than wall time. */
  speedup?: number;
  seed?: number;
  blockSize?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  maxModelLen?: number;
  numGpuBlocks?: number;
  gpuMemoryUtilization?: number;
  enablePrefixCaching?: boolean;
  enableLora?: boolean;
  maxLoras?: number;
  /** Adapters loaded at start: name → path. */
  loraModules?: Record<string, string>;
  /** ZMQ endpoint for KV events, e.g. tcp://*:5557. */
  kvEventsEndpoint?: string;
  kvEventsReplayEndpoint?: string;
  kvEventsTopic?: string;
  /** KV event encoding: msgspec array_like (default, what Kthena's runtime reads) or newer vLLM's maps. */
  kvEventsFormat?: 'array' | 'map';
  /** Output length when ignore_eos is not set: "fixed:N", "uniform:A-B", "lognormal:MEDIAN,SIGMA". */
  outputLen?: string;
  /** Tokens per SSE chunk (vLLM --stream-interval); default 1 at speedup ≤ 1, else ceil(speedup). */
  streamInterval?: number;
  /** Seconds (simulated) a prefill engine holds blocks for a remote decode before freeing them. */
  kvTransferTimeoutSec?: number;
  /** Identifier reported as remote_engine_id (default: random per engine). */
  engineId?: string;
  /**
   * A real model's tokenizer (--tokenizer): a directory with tokenizer.json + tokenizer_config.json, a tokenizer.json
   * path (startEngine loads it), or a loaded one. Default: the built-in simulator tokenizer.
   */
  tokenizer?: string | ModelTokenizer;
  /** Injected clock (tests); default a wall clock with `speedup`. */
  clock?: Clock;
  /** Log lines (request errors etc.); default silent. */
  log?: (line: string) => void;
}

export interface ResolvedConfig {
  profile: Profile;
  engine: EngineKind;
  role: EngineRole;
  servedNames: string[];
  model: string;
  speedup: number;
  seed: number;
  blockSize: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  numGpuBlocks: number;
  gpuMemoryUtilization: number;
  enablePrefixCaching: boolean;
  enableLora: boolean;
  maxLoras: number;
  outputLen: OutputLenDist;
  streamInterval: number;
  kvTransferTimeoutSec: number;
  coefficients: StepCoefficients;
}

function positiveInt(name: string, v: number | undefined, dflt: number): number {
  const x = v ?? dflt;
  if (!Number.isInteger(x) || x < 1) throw new Error(`${name} must be a positive integer (got ${v})`);
  return x;
}

export function resolveConfig(o: EngineOptions): ResolvedConfig {
  if (!o.model || typeof o.model !== 'string') throw new Error('model is required');
  const profile: Profile = { ...getProfile(o.profile ?? DEFAULT_PROFILE), ...o.profileOverrides };
  const engine = o.engine ?? 'vllm';
  if (engine !== 'vllm' && engine !== 'sglang') throw new Error(`engine must be vllm or sglang (got ${engine})`);
  const role = o.role ?? 'both';
  if (!['both', 'prefill', 'decode'].includes(role))
    throw new Error(`role must be both, prefill or decode (got ${role})`);
  const speedup = o.speedup ?? 1;
  if (!(speedup > 0) || !Number.isFinite(speedup))
    throw new Error(`speedup must be a positive number (got ${speedup})`);
  const blockSize = positiveInt('block size', o.blockSize, profile.blockSize);
  const gpuMemoryUtilization = o.gpuMemoryUtilization ?? profile.gpuMemoryUtilization;
  if (!(gpuMemoryUtilization > 0 && gpuMemoryUtilization <= 1))
    throw new Error('gpu memory utilization must be in (0, 1]');
  const served = o.servedModelName === undefined ? [o.model] : [o.servedModelName].flat();
  if (served.length === 0 || served.some((s) => !s)) throw new Error('served model name must not be empty');
  return {
    profile,
    engine,
    role,
    servedNames: served,
    model: o.model,
    speedup,
    seed: Number.isInteger(o.seed) ? (o.seed as number) : 0,
    blockSize,
    maxNumSeqs: positiveInt('max num seqs', o.maxNumSeqs, profile.maxNumSeqs),
    maxNumBatchedTokens: positiveInt('max num batched tokens', o.maxNumBatchedTokens, profile.maxNumBatchedTokens),
    maxModelLen: positiveInt('max model len', o.maxModelLen, profile.maxModelLen),
    numGpuBlocks: positiveInt('num gpu blocks', o.numGpuBlocks, numGpuBlocks(profile, blockSize, gpuMemoryUtilization)),
    gpuMemoryUtilization,
    enablePrefixCaching: o.enablePrefixCaching ?? true,
    enableLora: o.enableLora ?? (o.loraModules !== undefined && Object.keys(o.loraModules).length > 0),
    maxLoras: positiveInt('max loras', o.maxLoras, 1),
    outputLen: parseOutputLenDist(o.outputLen ?? 'lognormal:128,0.8'),
    streamInterval: positiveInt('stream interval', o.streamInterval, speedup <= 1 ? 1 : Math.ceil(speedup)),
    kvTransferTimeoutSec: o.kvTransferTimeoutSec ?? 480,
    coefficients: coefficients(profile),
  };
}
