// Synthetic output: tokens drawn from a fixed list of short English words, each exactly one token of the
// built-in tokenizer, so re-tokenizing the generated text gives back the reported completion_tokens.
import { tokenize } from '../tokens/index.js';

const WORDS = (
  'the of and to in is was for on that with as it by at from his an be has are this or were which but also ' +
  'not had one its their first new after two more they been who have other when into time all year can some ' +
  'there over most may only many these such city where then so while would used three both well made area ' +
  'during up out known each part state than found later since work like under her she him same team four ' +
  'near way well set end day life main five old high long home west east north south game group world model ' +
  'data token cache block queue batch step load page fast slow next last open plan rule node pod edge core'
)
  .split(' ')
  .filter((w, i, a) => w && a.indexOf(w) === i);

/** Token ids of the generation vocabulary and their text (with the leading space). */
export const GEN_TOKEN_IDS: readonly number[] = [];
const TEXT_BY_ID = new Map<number, string>();
for (const w of WORDS) {
  const piece = ` ${w}`;
  const ids = tokenize(piece);
  if (ids.length !== 1 || TEXT_BY_ID.has(ids[0])) continue;
  (GEN_TOKEN_IDS as number[]).push(ids[0]);
  TEXT_BY_ID.set(ids[0], piece);
}

/** Text of a generated token id ('' for ids outside the generation vocabulary). */
export function tokenText(id: number): string {
  return TEXT_BY_ID.get(id) ?? '';
}

/** Concatenated text of tokens[from:to]. */
export function tokensText(tokens: readonly number[], from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += TEXT_BY_ID.get(tokens[i]) ?? '';
  return s;
}

/** xorshift32: a tiny deterministic PRNG; returns the next state (never 0 for a non-zero state). */
export function xorshift32(x: number): number {
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  return x >>> 0;
}

/** Uniform float in [0, 1) from a state, and the next state. */
export function nextUniform(state: number): [number, number] {
  const s = xorshift32(state);
  return [s / 4294967296, s];
}

/** Mixes numbers into a 32-bit non-zero seed. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) {
    h ^= p >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
    h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
    h ^= h >>> 16;
  }
  return h >>> 0 || 1;
}

export type OutputLenDist =
  | { kind: 'fixed'; value: number }
  | { kind: 'uniform'; min: number; max: number }
  | { kind: 'lognormal'; median: number; sigma: number };

/** Parses "fixed:128", "uniform:16-512" or "lognormal:128,0.8" (median, sigma). */
export function parseOutputLenDist(spec: string): OutputLenDist {
  const [kind, arg = ''] = spec.split(':');
  if (kind === 'fixed' && /^\d+$/.test(arg)) return { kind, value: Number(arg) };
  const u = /^(\d+)-(\d+)$/.exec(arg);
  if (kind === 'uniform' && u && Number(u[1]) <= Number(u[2])) return { kind, min: Number(u[1]), max: Number(u[2]) };
  const l = /^(\d+(?:\.\d+)?),(\d+(?:\.\d+)?)$/.exec(arg);
  if (kind === 'lognormal' && l) return { kind, median: Number(l[1]), sigma: Number(l[2]) };
  throw new Error(`bad output length distribution "${spec}" (fixed:N, uniform:A-B, lognormal:MEDIAN,SIGMA)`);
}

/** Samples an output length (≥ 1) deterministically from `seed`. */
export function sampleOutputLen(dist: OutputLenDist, seed: number): number {
  const [u1, s1] = nextUniform(seed);
  switch (dist.kind) {
    case 'fixed':
      return Math.max(1, dist.value);
    case 'uniform':
      return Math.max(1, dist.min + Math.floor(u1 * (dist.max - dist.min + 1)));
    case 'lognormal': {
      const [u2] = nextUniform(s1);
      const z = Math.sqrt(-2 * Math.log(u1 || 1e-12)) * Math.cos(2 * Math.PI * u2);
      return Math.max(1, Math.round(dist.median * Math.exp(dist.sigma * z)));
    }
  }
}
