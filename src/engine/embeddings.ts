// POST /v1/embeddings: request validation and the simulator's deterministic vectors.
//
// A vector is the normalised sum of one pseudo-random unit-scale vector per input token (a bag of tokens), so the
// same input gets the same vector on every replica and inputs sharing tokens come out closer (cosine) than
// unrelated ones — enough for clients to exercise retrieval code paths; it carries no meaning beyond that.
// `dimensions` truncates the native vector and renormalises it (Matryoshka-style, as text-embedding-3 does).
import type { ModelTokenizer } from '../tokens/index.js';
import { HttpError } from './openai-errors.js';
import { mixSeed, xorshift32 } from './text-gen.js';

/** Native embedding width of every simulated model (a common size for small embedding models). */
export const EMBEDDING_DIM = 1024;
/** OpenAI's limit on inputs per request. */
export const MAX_EMBEDDING_INPUTS = 2048;

export interface ParsedEmbeddings {
  model: string | undefined;
  /** Token ids of each input, in order. */
  inputs: number[][];
  encoding: 'float' | 'base64';
  dimensions: number;
}

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const isTokenId = (t: unknown): t is number => Number.isInteger(t) && (t as number) >= 0;

function bad(message: string, param: string): HttpError {
  return new HttpError(400, message, undefined, param);
}

/** `input` in any of OpenAI's four shapes → token ids per input; empty or mixed shapes → 400 naming `input`. */
function parseInputs(v: unknown, tok: ModelTokenizer): number[][] {
  if (typeof v === 'string') {
    if (v === '') throw bad('input must not be an empty string', 'input');
    return [tok.encodePrompt(v, true)];
  }
  if (!Array.isArray(v) || v.length === 0)
    throw bad('input must be a string, an array of strings, an array of token ids or an array of such arrays', 'input');
  if (v.length > MAX_EMBEDDING_INPUTS) throw bad(`input has more than ${MAX_EMBEDDING_INPUTS} items`, 'input');
  if (v.every(isTokenId)) return [v.slice()];
  return v.map((item, i) => {
    if (typeof item === 'string') {
      if (item === '') throw bad(`input[${i}] must not be an empty string`, 'input');
      return tok.encodePrompt(item, true);
    }
    if (Array.isArray(item) && item.length > 0 && item.every(isTokenId)) return item.slice();
    throw bad(`input[${i}] must be a non-empty string or a non-empty array of non-negative integer token ids`, 'input');
  });
}

export function parseEmbeddings(body: unknown, tok: ModelTokenizer): ParsedEmbeddings {
  if (!isObj(body)) throw new HttpError(400, 'request body must be a JSON object');
  const model = body.model;
  if (model !== undefined && model !== null && typeof model !== 'string') throw bad('model must be a string', 'model');
  if (body.input === undefined || body.input === null) throw bad('input is required', 'input');
  const inputs = parseInputs(body.input, tok);
  const enc = body.encoding_format ?? 'float';
  if (enc !== 'float' && enc !== 'base64')
    throw bad(`encoding_format must be "float" or "base64", got ${JSON.stringify(enc)}`, 'encoding_format');
  const dims = body.dimensions ?? EMBEDDING_DIM;
  if (typeof dims !== 'number' || !Number.isInteger(dims) || dims < 1 || dims > EMBEDDING_DIM)
    throw bad(`dimensions must be an integer in [1, ${EMBEDDING_DIM}]`, 'dimensions');
  if (body.user !== undefined && body.user !== null && typeof body.user !== 'string')
    throw bad('user must be a string', 'user');
  return { model: typeof model === 'string' ? model : undefined, inputs, encoding: enc, dimensions: dims };
}

/** The deterministic unit vector of `tokens`, `dims` wide (independent of engine seed, so replicas agree). */
export function embedTokens(tokens: readonly number[], dims: number): Float32Array {
  // Only the first `dims` components are drawn: truncating then renormalising needs nothing beyond them.
  const acc = new Float64Array(dims);
  for (const t of tokens) {
    let s = mixSeed(0x656d62, t);
    for (let i = 0; i < dims; i++) {
      s = xorshift32(s);
      acc[i] += s / 2147483648 - 1; // uniform in [-1, 1)
    }
  }
  let norm = 0;
  for (let i = 0; i < dims; i++) norm += acc[i] * acc[i];
  norm = Math.sqrt(norm) || 1;
  const out = new Float32Array(dims);
  for (let i = 0; i < dims; i++) out[i] = acc[i] / norm;
  return out;
}

/** OpenAI's base64 encoding: the little-endian float32 bytes. */
export function base64Floats(v: Float32Array): string {
  const buf = Buffer.allocUnsafe(v.length * 4);
  for (let i = 0; i < v.length; i++) buf.writeFloatLE(v[i], i * 4);
  return buf.toString('base64');
}

/** The response body in OpenAI's shape (vLLM adds id and created; so do we). */
export function embeddingsBody(
  p: ParsedEmbeddings,
  id: string,
  model: string,
  created: number,
): Record<string, unknown> {
  let promptTokens = 0;
  const data = p.inputs.map((tokens, index) => {
    promptTokens += tokens.length;
    const v = embedTokens(tokens, p.dimensions);
    return { object: 'embedding', index, embedding: p.encoding === 'base64' ? base64Floats(v) : Array.from(v) };
  });
  return {
    id,
    object: 'list',
    created,
    model,
    data,
    usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
  };
}
