// Scenarios and strategies of `kthena bench scheduling`. Sizes are upstream's at --full; --quick shrinks the number
// of requests and the KV capacity by the same factor (keeping cache pressure) and runs the engines in slow motion
// (speedup < 1) so a 2-core machine can carry the offered load; results are reported in simulated time.
import { getProfile, numGpuBlocks } from '../../src/engine/index.js';
import {
  type BenchRequest,
  constantRateStages,
  gammaGaps,
  mixed,
  multiTurn,
  rng,
  sharedPrefix,
  stagedSharedPrefix,
} from './dataset.js';

export const PROFILE = 'deepseek-r1-distill-qwen-7b';
export const MODEL = 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B';
/**
 * KV blocks per replica at full size: what the profile allocates (src/engine/profiles.ts numGpuBlocks), i.e. the memory
 * docs/engine-sim.md fitted on upstream's Random rows — so the random baseline is upstream's, not a softer one.
 */
export const FULL_BLOCKS = numGpuBlocks(getProfile(PROFILE));

export interface Scenario {
  name: string;
  /** engine profile (src/engine/profiles.ts) */
  profile: string;
  replicas: number;
  requests: BenchRequest[];
  /** simulated seconds between arrivals */
  gapsSim: number[];
  maxConcurrency: number;
  numGpuBlocks: number;
  speedup: number;
  describe: string;
}

export type Size = 'tiny' | 'quick' | 'full';

/** Knobs the sweep mode turns (and the CLI's --groups / --prompts-per-group). */
export interface ScenarioOverrides {
  groups?: number;
  promptsPerGroup?: number;
  replicas?: number;
  /** shared system-prompt length in tokens (kthena-long/short) */
  systemLen?: number;
  /** offered load, requests per second */
  rate?: number;
}

export function buildScenario(name: string, size: Size, seed = 1, over: ScenarioOverrides = {}): Scenario {
  const groupsFull = 256;
  const groups = over.groups ?? (size === 'full' ? groupsFull : size === 'quick' ? 16 : 4);
  const per = over.promptsPerGroup ?? (size === 'full' ? 32 : size === 'quick' ? 8 : 6);
  const scale = (groups * per) / (groupsFull * 32);
  // KV capacity shrinks with the number of groups (same cache pressure as upstream's run), but never below what
  // the requests in flight need (else the small scale would measure KV-capacity queueing upstream never had).
  const inflightPerReplica = Math.ceil(
    (size === 'full' ? 300 : Math.max(16, Math.round(300 * Math.sqrt(((groups * per) / (groupsFull * 32)) * 8)))) / 3,
  );
  const blocks = Math.max(
    Math.round(FULL_BLOCKS * (groups / groupsFull)),
    Math.ceil(inflightPerReplica * (4352 / 128) * 1.2),
  );
  const speedup = size === 'full' ? 1 : 0.1;
  const rate = over.rate ?? 800;
  const replicas = over.replicas ?? 3;
  const gaps = (n: number, r = rate) => gammaGaps(rng(seed + 7), n, r, 1);
  const conc = size === 'full' ? 300 : Math.max(16, Math.round(300 * Math.sqrt(scale * 8)));
  // Every scenario runs 3 replicas with the same concurrency, KV capacity and speed; only the traffic differs. The
  // sweep scales replicas and the client concurrency together (the same load per replica).
  const scenario = (requests: BenchRequest[], ratePerS: number, describe: string, gapsSim?: number[]): Scenario => ({
    name,
    profile: PROFILE,
    replicas,
    requests,
    gapsSim: gapsSim ?? gaps(requests.length, ratePerS),
    maxConcurrency: Math.round((conc * replicas) / 3),
    numGpuBlocks: blocks,
    speedup,
    describe,
  });
  switch (name) {
    case 'kthena-long':
    case 'kthena-short': {
      const long = name === 'kthena-long';
      const systemLen = over.systemLen ?? (long ? 4096 : 256);
      const requests = sharedPrefix({
        groups,
        promptsPerGroup: per,
        systemLen,
        questionLen: long ? 256 : 4096,
        outputLen: 128,
        seed,
      });
      return scenario(
        requests,
        rate,
        `${groups} groups × ${per} prompts, system ${systemLen}, question ${long ? 256 : 4096}, output 128, ${rate} req/s, max concurrency ${conc}`,
      );
    }
    case 'multi-turn': {
      const sessions = size === 'full' ? 512 : size === 'quick' ? 48 : 12;
      const requests = multiTurn({
        tenants: 4,
        sessions,
        turns: 4,
        systemLen: 1024,
        userLen: 128,
        outputLen: 128,
        seed,
      });
      return scenario(
        requests,
        100,
        `${sessions} sessions × 4 turns over 4 tenants (system 1024, +128 user +128 assistant per turn), 100 req/s`,
      );
    }
    case 'mixed': {
      const n = groups * per;
      const requests = mixed({
        groups: Math.max(4, groups / 2),
        prefixRequests: Math.round(n * 0.6),
        plainRequests: Math.round(n * 0.4),
        systemLen: 4096,
        questionLen: 256,
        plainLen: 1024,
        outputLen: 128,
        seed,
      });
      return scenario(
        requests,
        400,
        `60% long-prefix (Zipf over ${Math.max(4, groups / 2)} groups, 4096+256) and 40% prefix-free (1024) prompts, 400 req/s`,
      );
    }
    case 'llm-d-precise': {
      // llm-d's precise-prefix benchmark shape (reference/peers-router.md): 4 pods, inference-perf shared_prefix with
      // 83 groups × 3 prompts, 8,000-token system prompts, 1,000-token questions and 1,000 output tokens, constant-rate
      // stages at 3 → 20 QPS. Each stage sends every (group, prompt) once; --quick shrinks groups and stages.
      const g = over.groups ?? (size === 'full' ? 83 : size === 'quick' ? 12 : 4);
      const p = over.promptsPerGroup ?? 3;
      const stages = size === 'full' ? [3, 5, 8, 10, 12, 15, 20] : size === 'quick' ? [3, 10, 20] : [5, 20];
      const sys = over.systemLen ?? 8000;
      const out = size === 'full' ? 1000 : 250;
      const requests = stagedSharedPrefix({
        groups: g,
        promptsPerGroup: p,
        stages: stages.length,
        systemLen: sys,
        questionLen: 1000,
        outputLen: out,
        seed,
      });
      // llm-d ran Llama-3.1-70B; each pod here is the 70B TP4 H100 profile with its own KV capacity.
      const profile = 'llama-3.1-70b-tp4-h100';
      const full = numGpuBlocks(getProfile(profile));
      const blockSize = getProfile(profile).blockSize;
      const llmd: Scenario = {
        name,
        profile,
        replicas: over.replicas ?? 4,
        requests,
        gapsSim: constantRateStages(stages, g * p),
        maxConcurrency: 100_000,
        numGpuBlocks: Math.max(
          Math.round(full * (size === 'full' ? 1 : g / 83)),
          Math.ceil(((sys + 1000 + out) / blockSize) * 24),
        ),
        speedup,
        describe: `llm-d precise-prefix shape: ${g} groups × ${p} prompts per stage, system ${sys}, question 1000, output ${out}, constant-rate stages ${stages.join('/')} QPS`,
      };
      return llmd;
    }
    default:
      throw new Error(`unknown scenario "${name}" (known: ${SCENARIOS.join(', ')})`);
  }
}

export const SCENARIOS = ['kthena-long', 'kthena-short', 'multi-turn', 'mixed', 'llm-d-precise'];

const kvArgs = (blockSize: number) => `{tokenizer: local, blockSize: ${blockSize}, maxIndexEntries: 2000000}`;

/** name → router configuration (upstream's format). */
export function strategyConfigs(blockSize: number): Record<string, string> {
  const scores = (list: [string, number][], pluginConfig = '') =>
    `scheduler:\n  pluginConfig:\n  - {name: least-request, args: {maxWaitingRequests: 1000000}}\n${pluginConfig}  plugins:\n    Score:\n      enabled:\n${list
      .map(([n, w]) => `      - {name: ${n}, weight: ${w}}\n`)
      .join('')}`;
  const kv = `  - {name: latency-predictor, args: ${kvArgs(blockSize)}}\n  - {name: precise-prefix-cache, args: ${kvArgs(blockSize)}}\n`;
  return {
    random: scores([['random', 1]]),
    'least-request': scores([['least-request', 1]]),
    'least-latency': scores([['least-latency', 1]]),
    'gpu-usage': scores([['gpu-usage', 1]]),
    'least-request+prefix-cache': scores([
      ['least-request', 1],
      ['prefix-cache', 1],
    ]),
    // Upstream's combination uses kvcache-aware (Redis + sidecar); its scoring shape (matched-prefix ratio from the
    // engines' real cache, × weight, plus least-request) is run here with our precise, event-fed index instead.
    'least-request+precise-prefix-cache': scores(
      [
        ['least-request', 1],
        ['precise-prefix-cache', 1],
      ],
      kv,
    ),
    default: scores([['latency-predictor', 1]], kv),
    oracle: scores([['oracle', 1]]),
  };
}

export const DEFAULT_STRATEGIES = Object.keys(strategyConfigs(16));
