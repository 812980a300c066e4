// OpenAI chat completions ⇄ Anthropic Messages: the request going out, the JSON response and the SSE stream coming
// back, and usage for both. Pure and synchronous (the stream side is a push parser), so every mapping is unit-tested.
// What is translated and what is dropped is listed in docs/external-providers.md.
import type { Usage } from '../proxy/usage.js';

/** Anthropic requires max_tokens; OpenAI clients often omit it. */
export const DEFAULT_MAX_TOKENS = 4096;
export const ANTHROPIC_VERSION = '2023-06-01';

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

export class TranslationError extends Error {}

type Block = Record<string, unknown>;

function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content))
    return content
      .map((p) => (isObj(p) && typeof p.text === 'string' ? p.text : ''))
      .filter(Boolean)
      .join('\n');
  return '';
}

function imageBlock(part: Record<string, any>, at: string): Block {
  const url = isObj(part.image_url) ? part.image_url.url : part.image_url;
  if (typeof url !== 'string') throw new TranslationError(`${at}.image_url.url: must be a string`);
  const m = /^data:([^;,]+);base64,(.*)$/s.exec(url);
  if (m) return { type: 'image', source: { type: 'base64', media_type: m[1], data: m[2] } };
  return { type: 'image', source: { type: 'url', url } };
}

function contentBlocks(content: unknown, at: string): Block[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw new TranslationError(`${at}: must be a string or a list of parts`);
  return content.map((p, i) => {
    if (!isObj(p)) throw new TranslationError(`${at}[${i}]: must be an object`);
    if (p.type === 'text') return { type: 'text', text: String(p.text ?? '') };
    if (p.type === 'image_url') return imageBlock(p, `${at}[${i}]`);
    throw new TranslationError(`${at}[${i}].type: "${String(p.type)}" cannot be sent to an Anthropic provider`);
  });
}

function parseArgs(args: unknown): unknown {
  if (typeof args !== 'string' || args.trim() === '') return {};
  try {
    return JSON.parse(args);
  } catch {
    throw new TranslationError('tool_calls[].function.arguments: not valid JSON');
  }
}

/** An OpenAI chat completions body → an Anthropic /v1/messages body. Throws TranslationError (a 400) on what cannot map. */
export function chatToMessages(body: Record<string, any>, model: string): Record<string, unknown> {
  if (!Array.isArray(body.messages)) throw new TranslationError('messages: must be a list');
  if (body.n !== undefined && body.n !== 1) throw new TranslationError('n: only 1 is supported by Anthropic providers');
  const system: string[] = [];
  const messages: { role: string; content: Block[] }[] = [];
  const push = (role: string, blocks: Block[]) => {
    const last = messages.at(-1);
    // Anthropic wants alternating turns: merge consecutive turns of one role (tool results follow tool uses as user).
    if (last && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };
  body.messages.forEach((m: unknown, i: number) => {
    const at = `messages[${i}]`;
    if (!isObj(m)) throw new TranslationError(`${at}: must be an object`);
    switch (m.role) {
      case 'system':
      case 'developer':
        system.push(textOf(m.content));
        break;
      case 'user':
        push('user', contentBlocks(m.content, `${at}.content`));
        break;
      case 'assistant': {
        const blocks = contentBlocks(m.content, `${at}.content`);
        if (Array.isArray(m.tool_calls))
          for (const tc of m.tool_calls)
            if (isObj(tc) && isObj(tc.function))
              blocks.push({
                type: 'tool_use',
                id: tc.id,
                name: tc.function.name,
                input: parseArgs(tc.function.arguments),
              });
        push('assistant', blocks);
        break;
      }
      case 'tool':
        push('user', [{ type: 'tool_result', tool_use_id: m.tool_call_id, content: textOf(m.content) }]);
        break;
      default:
        throw new TranslationError(`${at}.role: "${String(m.role)}" is not a chat role`);
    }
  });
  const out: Record<string, unknown> = {
    model,
    messages: messages.filter((m) => m.content.length > 0),
    max_tokens: Number(body.max_completion_tokens ?? body.max_tokens ?? DEFAULT_MAX_TOKENS),
  };
  if (system.length) out.system = system.join('\n\n');
  if (typeof body.temperature === 'number') out.temperature = Math.min(1, body.temperature);
  if (typeof body.top_p === 'number') out.top_p = body.top_p;
  if (typeof body.stop === 'string') out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop)) out.stop_sequences = body.stop;
  if (body.stream === true) out.stream = true;
  if (typeof body.user === 'string') out.metadata = { user_id: body.user };
  if (Array.isArray(body.tools) && body.tools.length) {
    out.tools = body.tools
      .filter((t: unknown) => isObj(t) && isObj(t.function))
      .map((t: Record<string, any>) => ({
        name: t.function.name,
        description: t.function.description,
        input_schema: t.function.parameters ?? { type: 'object', properties: {} },
      }));
  }
  const tc = body.tool_choice;
  if (tc === 'auto') out.tool_choice = { type: 'auto' };
  else if (tc === 'required') out.tool_choice = { type: 'any' };
  else if (tc === 'none') out.tool_choice = { type: 'none' };
  else if (isObj(tc) && isObj(tc.function)) out.tool_choice = { type: 'tool', name: tc.function.name };
  return out;
}

const FINISH: Record<string, string> = {
  end_turn: 'stop',
  stop_sequence: 'stop',
  pause_turn: 'stop',
  max_tokens: 'length',
  tool_use: 'tool_calls',
  refusal: 'content_filter',
};
export const finishReason = (stop: unknown): string | null =>
  typeof stop === 'string' ? (FINISH[stop] ?? 'stop') : null;

/** Anthropic usage → ours: prompt = input + cache creation + cache read (reference §2.9), cached = cache read. */
export function anthropicUsage(u: unknown): Usage | undefined {
  if (!isObj(u)) return undefined;
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const cached = n(u.cache_read_input_tokens);
  const prompt = n(u.input_tokens) + n(u.cache_creation_input_tokens) + cached;
  const completion = n(u.output_tokens);
  if (prompt + completion <= 0) return undefined;
  return { promptTokens: prompt, completionTokens: completion, cachedTokens: cached };
}

export function openaiUsageObject(u: Usage): Record<string, unknown> {
  return {
    prompt_tokens: u.promptTokens,
    completion_tokens: u.completionTokens,
    total_tokens: u.promptTokens + u.completionTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens ?? 0 },
  };
}

/** A complete Anthropic message → an OpenAI chat.completion object. */
export function messageToChat(
  msg: Record<string, any>,
  created: number,
): { body: Record<string, unknown>; usage?: Usage } {
  const texts: string[] = [];
  const toolCalls: unknown[] = [];
  for (const b of Array.isArray(msg.content) ? msg.content : []) {
    if (!isObj(b)) continue;
    if (b.type === 'text') texts.push(String(b.text ?? ''));
    else if (b.type === 'tool_use')
      toolCalls.push({
        id: b.id,
        type: 'function',
        function: { name: b.name, arguments: JSON.stringify(b.input ?? {}) },
      });
  }
  const usage = anthropicUsage(msg.usage);
  const message: Record<string, unknown> = { role: 'assistant', content: texts.length ? texts.join('') : null };
  if (toolCalls.length) message.tool_calls = toolCalls;
  const body: Record<string, unknown> = {
    id: String(msg.id ?? 'msg'),
    object: 'chat.completion',
    created,
    model: String(msg.model ?? ''),
    choices: [{ index: 0, message, finish_reason: finishReason(msg.stop_reason) ?? 'stop', logprobs: null }],
  };
  if (usage) body.usage = openaiUsageObject(usage);
  return { body, usage };
}

/**
 * Anthropic SSE → OpenAI chat.completion.chunk SSE, one push at a time. Emits `data: …\n\n` events, the usage-only
 * chunk when the client asked for usage, and `data: [DONE]` after message_stop. Also works as a pure usage observer
 * for native /v1/messages streams (`observe`).
 */
export class AnthropicStreamTranslator {
  private carry = '';
  private id = 'msg';
  private model = '';
  private input: Record<string, unknown> = {};
  private outputTokens = 0;
  private finish: string | null = null;
  /** Anthropic content-block index → OpenAI tool_calls index. */
  private readonly tools = new Map<number, number>();
  private stopped = false;
  /** Chunks emitted that carry content (for TPOT: ~ one per token). */
  contentEvents = 0;
  /** An `error` event from the provider, if one arrived. */
  error: { type: string; message: string } | undefined;

  constructor(
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {}

  get usage(): Usage | undefined {
    return anthropicUsage({ ...this.input, output_tokens: this.outputTokens });
  }

  get done(): boolean {
    return this.stopped;
  }

  /** Feeds provider bytes; returns translated SSE text to write (may be empty). */
  push(chunk: string): string {
    this.carry += chunk;
    let out = '';
    for (;;) {
      const end = this.carry.search(/\r?\n\r?\n/);
      if (end < 0) break;
      const block = this.carry.slice(0, end);
      this.carry = this.carry.slice(end).replace(/^\r?\n\r?\n/, '');
      out += this.event(block);
    }
    return out;
  }

  /** Feeds bytes only to learn usage and completion (native /v1/messages passthrough). */
  observe(chunk: string): void {
    this.push(chunk);
  }

  private event(block: string): string {
    const data = block
      .split(/\r?\n/)
      .filter((l) => l.startsWith('data:'))
      .map((l) => l.slice(5).trimStart())
      .join('\n');
    if (!data) return '';
    let ev: Record<string, any>;
    try {
      ev = JSON.parse(data);
    } catch {
      return '';
    }
    switch (ev.type) {
      case 'message_start': {
        const m = isObj(ev.message) ? ev.message : {};
        this.id = String(m.id ?? this.id);
        this.model = String(m.model ?? '');
        if (isObj(m.usage)) {
          this.input = m.usage;
          if (typeof m.usage.output_tokens === 'number') this.outputTokens = m.usage.output_tokens;
        }
        return this.chunk({ role: 'assistant', content: '' });
      }
      case 'content_block_start': {
        const b = isObj(ev.content_block) ? ev.content_block : {};
        if (b.type === 'tool_use') {
          const idx = this.tools.size;
          this.tools.set(Number(ev.index), idx);
          this.contentEvents++;
          return this.chunk({
            tool_calls: [{ index: idx, id: b.id, type: 'function', function: { name: b.name, arguments: '' } }],
          });
        }
        if (b.type === 'text' && typeof b.text === 'string' && b.text !== '') {
          this.contentEvents++;
          return this.chunk({ content: b.text });
        }
        return '';
      }
      case 'content_block_delta': {
        const d = isObj(ev.delta) ? ev.delta : {};
        if (d.type === 'text_delta') {
          this.contentEvents++;
          return this.chunk({ content: String(d.text ?? '') });
        }
        if (d.type === 'input_json_delta') {
          const idx = this.tools.get(Number(ev.index));
          if (idx === undefined) return '';
          this.contentEvents++;
          return this.chunk({ tool_calls: [{ index: idx, function: { arguments: String(d.partial_json ?? '') } }] });
        }
        return '';
      }
      case 'message_delta': {
        if (isObj(ev.usage)) {
          if (typeof ev.usage.output_tokens === 'number') this.outputTokens = ev.usage.output_tokens;
          // Newer API versions repeat the input counts here; keep the richest view.
          for (const k of ['input_tokens', 'cache_creation_input_tokens', 'cache_read_input_tokens'])
            if (typeof ev.usage[k] === 'number') this.input = { ...this.input, [k]: ev.usage[k] };
        }
        this.finish = finishReason(ev.delta?.stop_reason) ?? this.finish;
        return this.chunk({}, this.finish ?? 'stop');
      }
      case 'message_stop': {
        this.stopped = true;
        let out = '';
        const u = this.usage;
        if (this.includeUsage && u) out += this.sse({ ...this.base(), choices: [], usage: openaiUsageObject(u) });
        return `${out}data: [DONE]\n\n`;
      }
      case 'error': {
        const e = isObj(ev.error) ? ev.error : {};
        this.error = { type: String(e.type ?? 'api_error'), message: String(e.message ?? 'provider stream error') };
        return this.sse({
          error: { message: this.error.message, type: this.error.type, code: 'provider_stream_error' },
        });
      }
      default:
        return ''; // ping, content_block_stop, unknown future events
    }
  }

  private base() {
    return { id: this.id, object: 'chat.completion.chunk', created: this.created, model: this.model };
  }

  private chunk(delta: Record<string, unknown>, finish: string | null = null): string {
    return this.sse({ ...this.base(), choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] });
  }

  private sse(obj: unknown): string {
    return `data: ${JSON.stringify(obj)}\n\n`;
  }
}

/** The provider's error message from an Anthropic or OpenAI error body (both nest it under `error.message`). */
export function providerErrorMessage(text: string): string | undefined {
  try {
    const o = JSON.parse(text) as Record<string, any>;
    const m = isObj(o.error) ? o.error.message : typeof o.message === 'string' ? o.message : undefined;
    return typeof m === 'string' ? m : undefined;
  } catch {
    return undefined;
  }
}
