// Request sets for the scheduling benchmark. Text is built from 5-letter words with a leading space, which the
// simulated engines' tokenizer counts as exactly one token each, so lengths in tokens are what the scenario says.
import { seededRandom } from '../../src/twin/index.js';

export interface BenchRequest {
  /** completions prompt */
  prompt: string;
  maxTokens: number;
  /** label for per-class reporting (e.g. "prefix" vs "plain" in the mixed scenario) */
  cls: string;
  /** multi-turn: index of the session this turn belongs to, and the turn number */
  session?: number;
  turn?: number;
}

/** mulberry32 (the twin's seeded source), with seed 0 mapped to 1 as this generator always did. */
export function rng(seed: number): () => number {
  return seededRandom(seed >>> 0 || 1);
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

export function words(r: () => number, n: number): string {
  // Built as one flat string: appending character by character would leave a rope of one node per character
  // (~30 bytes each), which for upstream's full 8,192 long prompts exhausts the heap before they are sent.
  const parts: string[] = new Array(n);
  for (let i = 0; i < n; i++) {
    let w = ' ';
    for (let j = 0; j < 5; j++) w += LETTERS[Math.floor(r() * 26)];
    parts[i] = w;
  }
  return parts.join('');
}

export function shuffle<T>(r: () => number, a: T[]): T[] {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [a[i], a[j]] = [a[j], a[i]];
  }
  return a;
}

/** Upstream's generated-shared-prefix set: groups × prompts, a shared system prompt per group, shuffled. */
export function sharedPrefix(o: {
  groups: number;
  promptsPerGroup: number;
  systemLen: number;
  questionLen: number;
  outputLen: number;
  seed: number;
}): BenchRequest[] {
  const r = rng(o.seed);
  const out: BenchRequest[] = [];
  for (let g = 0; g < o.groups; g++) {
    const sys = words(r, o.systemLen);
    for (let p = 0; p < o.promptsPerGroup; p++)
      out.push({ prompt: sys + words(r, o.questionLen), maxTokens: o.outputLen, cls: 'shared' });
  }
  return shuffle(r, out);
}

/**
 * Multi-turn chat: `sessions` conversations (spread over `tenants`, each tenant with its own system prompt), each
 * turn = the whole history so far + a new user message; turn k+1 of a session is only sent after turn k finished
 * (the loader enforces it), so prefixes grow turn by turn.
 */
export function multiTurn(o: {
  tenants: number;
  sessions: number;
  turns: number;
  systemLen: number;
  userLen: number;
  outputLen: number;
  seed: number;
}): BenchRequest[] {
  const r = rng(o.seed);
  const systems = Array.from({ length: o.tenants }, () => words(r, o.systemLen));
  const out: BenchRequest[] = [];
  for (let s = 0; s < o.sessions; s++) {
    let history = systems[s % o.tenants];
    for (let t = 0; t < o.turns; t++) {
      history += words(r, o.userLen);
      out.push({ prompt: history, maxTokens: o.outputLen, cls: `turn${t}`, session: s, turn: t });
      // The assistant's answer becomes part of the next turn's prompt; its exact text does not matter for the
      // prefix (the engine caches prompt tokens only), so a stand-in of the same length is used.
      history += words(r, o.outputLen);
    }
  }
  return out;
}

/** Long-prefix groups and prefix-free prompts together; a few hot groups carry most of the prefix traffic. */
export function mixed(o: {
  groups: number;
  prefixRequests: number;
  plainRequests: number;
  systemLen: number;
  questionLen: number;
  plainLen: number;
  outputLen: number;
  seed: number;
}): BenchRequest[] {
  const r = rng(o.seed);
  const systems = Array.from({ length: o.groups }, () => words(r, o.systemLen));
  const out: BenchRequest[] = [];
  for (let i = 0; i < o.prefixRequests; i++) {
    // Zipf-like skew: group g chosen with weight 1/(g+1).
    const w = systems.map((_, g) => 1 / (g + 1));
    let x = r() * w.reduce((a, b) => a + b, 0);
    let g = 0;
    while (x > w[g] && g < w.length - 1) x -= w[g++];
    out.push({ prompt: systems[g] + words(r, o.questionLen), maxTokens: o.outputLen, cls: 'prefix' });
  }
  for (let i = 0; i < o.plainRequests; i++)
    out.push({ prompt: words(r, o.plainLen), maxTokens: o.outputLen, cls: 'plain' });
  return shuffle(r, out);
}

/** Gamma-distributed inter-arrival gaps with mean 1/rate (shape = burstiness; 1 = Poisson), as vllm bench serve. */
export function gammaGaps(r: () => number, n: number, rate: number, burstiness: number): number[] {
  const gauss = () => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const gamma = (k: number): number => {
    if (k < 1) return gamma(k + 1) * r() ** (1 / k);
    const d = k - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      let x: number;
      let v: number;
      do {
        x = gauss();
        v = 1 + c * x;
      } while (v <= 0);
      v = v * v * v;
      const u = r();
      if (Math.log(u) < 0.5 * x * x + d - d * v + d * Math.log(v)) return d * v;
    }
  };
  const theta = 1 / (rate * burstiness);
  return Array.from({ length: n }, () => (Number.isFinite(rate) ? gamma(burstiness) * theta : 0));
}

/** Constant-rate stages (inference-perf): `perStage` arrivals at each rate in turn, evenly spaced. */
export function constantRateStages(rates: readonly number[], perStage: number): number[] {
  const out: number[] = [];
  for (const r of rates) for (let i = 0; i < perStage; i++) out.push(1 / r);
  return out;
}

/**
 * inference-perf's shared_prefix over constant-rate stages: one system prompt per group, drawn once; each stage sends
 * every (group, prompt) once with a fresh question, shuffled within the stage.
 */
export function stagedSharedPrefix(o: {
  groups: number;
  promptsPerGroup: number;
  stages: number;
  systemLen: number;
  questionLen: number;
  outputLen: number;
  seed: number;
}): BenchRequest[] {
  const r = rng(o.seed);
  const systems = Array.from({ length: o.groups }, () => words(r, o.systemLen));
  const out: BenchRequest[] = [];
  for (let k = 0; k < o.stages; k++) {
    const stage: BenchRequest[] = [];
    for (let g = 0; g < o.groups; g++)
      for (let p = 0; p < o.promptsPerGroup; p++)
        stage.push({ prompt: systems[g] + words(r, o.questionLen), maxTokens: o.outputLen, cls: `stage${k}` });
    out.push(...shuffle(r, stage));
  }
  return out;
}
