// One interface over "how a model turns an OpenAI request into token ids": the simulator's built-in tokenizer and
// Llama-3-style template, or a real model's tokenizer.json + chat template (hf-tokenizer.ts). The engine simulator
// tokenizes with one; the router computes the same ids with the same one (or asks the engine's /tokenize).
import {
  applyChatTemplate,
  BOS_TOKEN_ID,
  decodeTokens,
  encodeChat,
  encodePrompt,
  tokenizeWithStrings,
} from './tokenizer.js';

/** A chat message as chat templates see it: content already flattened to a string, other fields kept. */
export interface TemplateMessage {
  role: string;
  content: string;
  [key: string]: unknown;
}

export interface ChatOptions {
  addGenerationPrompt?: boolean;
  continueFinalMessage?: boolean;
  tools?: unknown[] | null;
  /** Extra template variables (vLLM's chat_template_kwargs, e.g. enable_thinking). */
  kwargs?: Record<string, unknown>;
}

export interface ModelTokenizer {
  /** 'simulator': the built-in vocabulary; 'hf': a real model's tokenizer.json. */
  readonly kind: 'simulator' | 'hf';
  /** Where it came from (a path, or "kthena-sim"). */
  readonly source: string;
  /** Completions prompt → ids, with the model's special tokens (BOS…) when asked, as vLLM does by default. */
  encodePrompt(text: string, addSpecialTokens?: boolean): number[];
  /** The chat template's text for these messages. Throws when the template fails for them. */
  renderChat(messages: readonly TemplateMessage[], opts?: ChatOptions): string;
  /** Rendered chat → ids (the template writes the special tokens itself, so none are added). */
  encodeChat(messages: readonly TemplateMessage[], opts?: ChatOptions): number[];
  /** Ids and their token strings, for /tokenize with return_token_strs. */
  encodeWithStrings(text: string, addSpecialTokens: boolean): { ids: number[]; strs: string[] };
  decode(ids: readonly number[]): string;
}

/** The simulator's tokenizer behind the common interface. */
export const SIM_TOKENIZER: ModelTokenizer = {
  kind: 'simulator',
  source: 'kthena-sim',
  encodePrompt: (text, addSpecialTokens = true) => encodePrompt(text, addSpecialTokens),
  renderChat(messages, opts = {}) {
    return applyChatTemplate(messages, opts.addGenerationPrompt ?? true);
  },
  encodeChat(messages, opts = {}) {
    return encodeChat(messages, opts.addGenerationPrompt ?? true);
  },
  encodeWithStrings(text, addSpecialTokens) {
    const r = tokenizeWithStrings(text);
    if (addSpecialTokens && r.ids[0] !== BOS_TOKEN_ID) {
      r.ids.unshift(BOS_TOKEN_ID);
      r.strs.unshift('<|begin_of_text|>');
    }
    return r;
  },
  decode: (ids) => decodeTokens(ids),
};

/**
 * Messages of an OpenAI chat body as vLLM hands them to a chat template: text parts joined by "\n" (vLLM's
 * "string" content format), null content as "", tool-call arguments parsed from JSON strings into objects (what
 * Hermes-style templates expect). Throws on a malformed message so the caller can answer 400 or skip.
 */
export function templateMessages(raw: unknown): TemplateMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw new Error('messages must be a non-empty array');
  return raw.map((m, i) => {
    if (m === null || typeof m !== 'object' || Array.isArray(m) || typeof (m as { role?: unknown }).role !== 'string')
      throw new Error(`messages[${i}] must be an object with a string role`);
    const o = { ...(m as Record<string, unknown>) } as TemplateMessage;
    o.content = flattenContent((m as { content?: unknown }).content, i);
    if (Array.isArray(o.tool_calls)) o.tool_calls = o.tool_calls.map(parseToolCallArgs);
    return o;
  });
}

function flattenContent(c: unknown, i: number): string {
  if (typeof c === 'string') return c;
  if (c === null || c === undefined) return '';
  if (!Array.isArray(c)) throw new Error(`messages[${i}].content must be a string or an array of parts`);
  const texts: string[] = [];
  for (const p of c) {
    if (p === null || typeof p !== 'object' || typeof (p as { type?: unknown }).type !== 'string')
      throw new Error(`messages[${i}].content parts must be objects with a type`);
    const part = p as { type: string; text?: unknown };
    if (part.type === 'text') {
      if (typeof part.text !== 'string') throw new Error(`messages[${i}].content text part needs a string text`);
      texts.push(part.text);
    }
  }
  return texts.join('\n');
}

function parseToolCallArgs(tc: unknown): unknown {
  const f = (tc as { function?: { arguments?: unknown } } | null)?.function;
  if (!f || typeof f.arguments !== 'string') return tc;
  try {
    return { ...(tc as object), function: { ...f, arguments: JSON.parse(f.arguments) } };
  } catch {
    return tc;
  }
}

/** Chat options of an OpenAI body (vLLM's extra parameters included). */
export function chatOptionsOf(body: Record<string, unknown>): ChatOptions {
  return {
    addGenerationPrompt: typeof body.add_generation_prompt === 'boolean' ? body.add_generation_prompt : true,
    continueFinalMessage: body.continue_final_message === true,
    tools: Array.isArray(body.tools) && body.tool_choice !== 'none' ? body.tools : null,
    kwargs:
      body.chat_template_kwargs && typeof body.chat_template_kwargs === 'object'
        ? (body.chat_template_kwargs as Record<string, unknown>)
        : undefined,
  };
}

/** Token ids of an OpenAI body (chat or completions) with `tok`; [] when the body has no prompt it can read. */
export function bodyTokens(tok: ModelTokenizer, body: Record<string, unknown>): number[] {
  if (Array.isArray(body.messages)) return tok.encodeChat(templateMessages(body.messages), chatOptionsOf(body));
  let p = body.prompt;
  if (Array.isArray(p) && p.length === 1) p = p[0];
  if (typeof p === 'string') return tok.encodePrompt(p, body.add_special_tokens !== false);
  if (Array.isArray(p) && p.every((t) => Number.isInteger(t))) return p as number[];
  return [];
}
