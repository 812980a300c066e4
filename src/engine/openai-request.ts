// Validation of OpenAI-compatible request bodies into what the engine needs. Wrong types and impossible
// values become 400s with vLLM-like messages; unknown fields are ignored, as vLLM does (with a warning).

import {
  type ChatMessage,
  chatOptionsOf,
  encodeChat,
  type ModelTokenizer,
  SIM_TOKENIZER,
  templateMessages,
} from '../tokens/index.js';
import type { KvTransferParams } from './engine.js';
import { HttpError } from './openai-errors.js';

export interface ParsedGeneration {
  kind: 'completion' | 'chat';
  model: string | undefined;
  promptTokens: number[];
  maxTokens: number | null;
  minTokens: number;
  ignoreEos: boolean;
  stream: boolean;
  includeUsage: boolean;
  continuousUsage: boolean;
  seed: number | undefined;
  echo: boolean;
  promptText: string;
  kvTransferParams: KvTransferParams | null;
  bootstrapRoom: string | null;
}

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function optInt(body: Obj, key: string, min: number): number | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw new HttpError(400, `${key} must be an integer`, undefined, key);
  if (v < min) throw new HttpError(400, `${key} must be at least ${min}, got ${v}.`, undefined, key);
  return v;
}

function optBool(body: Obj, key: string): boolean | undefined {
  const v = body[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'boolean') throw new HttpError(400, `${key} must be a boolean`, undefined, key);
  return v;
}

function optNumber(body: Obj, key: string): void {
  const v = body[key];
  if (v !== undefined && v !== null && (typeof v !== 'number' || !Number.isFinite(v)))
    throw new HttpError(400, `${key} must be a number`, undefined, key);
}

function isTokenArray(v: unknown): v is number[] {
  return Array.isArray(v) && v.length > 0 && v.every((t) => Number.isInteger(t) && (t as number) >= 0);
}

/** Text content of a chat message: a string or an array of {type:"text", text} parts. */
export function messageText(content: unknown, index: number): string {
  if (typeof content === 'string') return content;
  if (content === null || content === undefined) return '';
  if (Array.isArray(content)) {
    let s = '';
    for (const part of content) {
      if (!isObj(part) || typeof part.type !== 'string')
        throw new HttpError(400, `messages[${index}].content parts must be objects with a type`, undefined, 'messages');
      if (part.type === 'text') {
        if (typeof part.text !== 'string')
          throw new HttpError(400, `messages[${index}].content text part needs a string text`, undefined, 'messages');
        s += part.text;
      }
    }
    return s;
  }
  throw new HttpError(400, `messages[${index}].content must be a string or an array of parts`, undefined, 'messages');
}

/** Token ids of a chat body with the engine's tokenizer and template; bad messages or a failing template → 400. */
export function chatTokens(body: Record<string, unknown>, tok: ModelTokenizer): number[] {
  if (tok.kind === 'simulator') {
    const messages = parseMessages(body.messages);
    return encodeChat(messages, optBool(body, 'add_generation_prompt') ?? true);
  }
  optBool(body, 'add_generation_prompt');
  let msgs: ReturnType<typeof templateMessages>;
  try {
    msgs = templateMessages(body.messages);
  } catch (err) {
    throw new HttpError(400, (err as Error).message, undefined, 'messages');
  }
  try {
    return tok.encodeChat(msgs, chatOptionsOf(body));
  } catch (err) {
    throw new HttpError(400, `chat template failed: ${(err as Error).message}`, undefined, 'messages');
  }
}

export function parseMessages(v: unknown): ChatMessage[] {
  if (!Array.isArray(v) || v.length === 0)
    throw new HttpError(400, 'messages must be a non-empty array', undefined, 'messages');
  return v.map((m, i) => {
    if (!isObj(m) || typeof m.role !== 'string')
      throw new HttpError(400, `messages[${i}] must be an object with a string role`, undefined, 'messages');
    return { role: m.role, content: messageText(m.content, i) };
  });
}

function parsePrompt(v: unknown, tok: ModelTokenizer, addSpecial: boolean): { tokens: number[]; text: string } {
  let p = v;
  if (Array.isArray(p) && p.length === 1 && (typeof p[0] === 'string' || Array.isArray(p[0]))) p = p[0];
  if (typeof p === 'string') {
    if (p.length === 0) throw new HttpError(400, 'prompt must not be empty', undefined, 'prompt');
    return { tokens: tok.encodePrompt(p, addSpecial), text: p };
  }
  if (isTokenArray(p)) return { tokens: p.slice(), text: '' };
  if (Array.isArray(p) && p.length > 1)
    throw new HttpError(
      400,
      'batched prompts are not supported by the simulator; send one prompt per request',
      undefined,
      'prompt',
    );
  throw new HttpError(
    400,
    'prompt must be a string, an array of one string, or an array of token ids',
    undefined,
    'prompt',
  );
}

export function parseGeneration(
  kind: 'completion' | 'chat',
  body: unknown,
  tok: ModelTokenizer = SIM_TOKENIZER,
): ParsedGeneration {
  if (!isObj(body)) throw new HttpError(400, 'request body must be a JSON object');
  const model = body.model;
  if (model !== undefined && model !== null && typeof model !== 'string')
    throw new HttpError(400, 'model must be a string', undefined, 'model');
  let promptTokens: number[];
  let promptText = '';
  if (kind === 'completion') {
    if (body.prompt === undefined || body.prompt === null)
      throw new HttpError(400, 'prompt is required', undefined, 'prompt');
    const p = parsePrompt(body.prompt, tok, optBool(body, 'add_special_tokens') ?? true);
    promptTokens = p.tokens;
    promptText = p.text;
  } else {
    promptTokens = chatTokens(body, tok);
  }
  const maxTokens = optInt(body, 'max_completion_tokens', 1) ?? optInt(body, 'max_tokens', 1) ?? null;
  if (kind === 'completion' && body.max_completion_tokens !== undefined) optInt(body, 'max_completion_tokens', 1);
  const minTokens = optInt(body, 'min_tokens', 0) ?? 0;
  if (maxTokens !== null && minTokens > maxTokens)
    throw new HttpError(
      400,
      `min_tokens must be less than or equal to max_tokens=${maxTokens}, got ${minTokens}.`,
      undefined,
      'min_tokens',
    );
  const n = optInt(body, 'n', 1) ?? 1;
  if (n !== 1) throw new HttpError(400, 'only n=1 is supported by the simulator', undefined, 'n');
  const bestOf = optInt(body, 'best_of', 1);
  if (bestOf !== undefined && bestOf !== 1)
    throw new HttpError(400, 'only best_of=1 is supported', undefined, 'best_of');
  for (const k of ['temperature', 'top_p', 'top_k', 'presence_penalty', 'frequency_penalty', 'repetition_penalty'])
    optNumber(body, k);
  const stream = optBool(body, 'stream') ?? false;
  const so = body.stream_options;
  if (so !== undefined && so !== null && !isObj(so))
    throw new HttpError(400, 'stream_options must be an object', undefined, 'stream_options');
  if (isObj(so) && !stream)
    throw new HttpError(400, 'Stream options can only be defined when `stream=True`.', undefined, 'stream_options');
  const includeUsage = isObj(so) ? (optBool(so, 'include_usage') ?? false) : false;
  const continuousUsage = isObj(so) ? (optBool(so, 'continuous_usage_stats') ?? false) : false;
  const seedV = body.seed;
  if (seedV !== undefined && seedV !== null && (typeof seedV !== 'number' || !Number.isInteger(seedV)))
    throw new HttpError(400, 'seed must be an integer', undefined, 'seed');
  const kvt = body.kv_transfer_params;
  if (kvt !== undefined && kvt !== null && !isObj(kvt))
    throw new HttpError(400, 'kv_transfer_params must be an object', undefined, 'kv_transfer_params');
  if (isObj(kvt) && kvt.remote_block_ids !== undefined && kvt.remote_block_ids !== null) {
    const ids = kvt.remote_block_ids;
    if (!Array.isArray(ids) || !ids.every((x) => Number.isInteger(x)))
      throw new HttpError(
        400,
        'kv_transfer_params.remote_block_ids must be an array of integers',
        undefined,
        'kv_transfer_params',
      );
  }
  const room = body.bootstrap_room;
  if (room !== undefined && room !== null && typeof room !== 'number' && typeof room !== 'string')
    throw new HttpError(400, 'bootstrap_room must be an integer', undefined, 'bootstrap_room');
  return {
    kind,
    model: typeof model === 'string' ? model : undefined,
    promptTokens,
    maxTokens,
    minTokens,
    ignoreEos: optBool(body, 'ignore_eos') ?? false,
    stream,
    includeUsage,
    continuousUsage,
    seed: typeof seedV === 'number' ? seedV : undefined,
    echo: kind === 'completion' ? (optBool(body, 'echo') ?? false) : false,
    promptText,
    kvTransferParams: isObj(kvt) ? (kvt as KvTransferParams) : null,
    bootstrapRoom: room === undefined || room === null ? null : String(room),
  };
}
