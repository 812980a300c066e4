// POST /v1/responses: OpenAI's Responses API on top of the chat path. The request becomes chat messages
// (instructions → a system message, input → user/assistant/system/developer messages) and runs as a chat
// generation; this module turns the request into that and writes the Response object or its SSE events.
// Text in, text out only: tools, images, files, stored conversations and background mode are refused with a 400.
import type { ServerResponse } from 'node:http';
import type { ModelTokenizer } from '../tokens/index.js';
import type { Engine } from './engine.js';
import { HttpError, sendJson } from './openai-errors.js';
import { type ParsedGeneration, parseGeneration } from './openai-request.js';
import type { EngineRequest } from './request.js';
import { tokensText } from './text-gen.js';
import { GenerationWriter } from './writer.js';

type Obj = Record<string, unknown>;

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const ROLES = new Set(['user', 'assistant', 'system', 'developer']);
const TEXT_PARTS = new Set(['input_text', 'output_text', 'text']);

export interface ParsedResponses {
  gen: ParsedGeneration;
  /** Echoed back in the Response object, as OpenAI does. */
  instructions: string | null;
  maxOutputTokens: number | null;
  temperature: number | null;
  topP: number | null;
  metadata: Obj | null;
}

function bad(message: string, param: string): HttpError {
  return new HttpError(400, message, undefined, param);
}

function itemText(content: unknown, i: number): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) throw bad(`input[${i}].content must be a string or an array of content parts`, 'input');
  let s = '';
  for (const part of content) {
    if (!isObj(part) || typeof part.type !== 'string')
      throw bad(`input[${i}].content parts must be objects with a type`, 'input');
    if (!TEXT_PARTS.has(part.type))
      throw bad(`input[${i}] has a ${part.type} part; the simulator accepts text parts only`, 'input');
    if (typeof part.text !== 'string') throw bad(`input[${i}] text part needs a string text`, 'input');
    s += part.text;
  }
  return s;
}

/** `input` (a string or message items) and `instructions` → chat messages. */
export function responsesMessages(body: Obj): { role: string; content: string }[] {
  const out: { role: string; content: string }[] = [];
  const ins = body.instructions;
  if (ins !== undefined && ins !== null) {
    if (typeof ins !== 'string') throw bad('instructions must be a string', 'instructions');
    out.push({ role: 'system', content: ins });
  }
  const input = body.input;
  if (input === undefined || input === null) throw bad('input is required', 'input');
  if (typeof input === 'string') {
    if (input === '') throw bad('input must not be an empty string', 'input');
    out.push({ role: 'user', content: input });
    return out;
  }
  if (!Array.isArray(input) || input.length === 0)
    throw bad('input must be a non-empty string or a non-empty array of message items', 'input');
  input.forEach((item, i) => {
    if (!isObj(item)) throw bad(`input[${i}] must be an object`, 'input');
    if (item.type !== undefined && item.type !== 'message')
      throw bad(`input[${i}] is a ${String(item.type)} item; the simulator accepts message items only`, 'input');
    if (typeof item.role !== 'string' || !ROLES.has(item.role))
      throw bad(`input[${i}].role must be one of ${[...ROLES].join(', ')}`, 'input');
    out.push({ role: item.role, content: itemText(item.content, i) });
  });
  return out;
}

function optNumber(body: Obj, key: string): number | null {
  const v = body[key];
  if (v === undefined || v === null) return null;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${key} must be a number`, key);
  return v;
}

export function parseResponses(body: unknown, tok: ModelTokenizer): ParsedResponses {
  if (!isObj(body)) throw new HttpError(400, 'request body must be a JSON object');
  for (const k of ['previous_response_id', 'conversation', 'prompt'])
    if (body[k] !== undefined && body[k] !== null)
      throw bad(`${k} is not supported by the simulator (it stores no responses)`, k);
  if (body.background === true) throw bad('background responses are not supported by the simulator', 'background');
  if (Array.isArray(body.tools) && body.tools.length > 0)
    throw bad('tools are not supported by the simulator', 'tools');
  const metadata = body.metadata;
  if (metadata !== undefined && metadata !== null && !isObj(metadata))
    throw bad('metadata must be an object', 'metadata');
  const messages = responsesMessages(body);
  const mot = body.max_output_tokens;
  if (mot !== undefined && mot !== null && (typeof mot !== 'number' || !Number.isInteger(mot) || mot < 1))
    throw bad('max_output_tokens must be an integer ≥ 1', 'max_output_tokens');
  const so = body.stream_options;
  if (so !== undefined && so !== null && !isObj(so)) throw bad('stream_options must be an object', 'stream_options');
  // The chat path validates the rest (model, stream, sampling numbers) and tokenises with the engine's template.
  const chatBody: Obj = {
    model: body.model,
    messages,
    stream: body.stream,
    max_tokens: mot,
    temperature: body.temperature,
    top_p: body.top_p,
  };
  let gen: ParsedGeneration;
  try {
    gen = parseGeneration('chat', chatBody, tok);
  } catch (err) {
    // Name the Responses API's fields, not the chat fields they were mapped to.
    if (err instanceof HttpError && (err.param === 'messages' || err.param === 'max_tokens'))
      throw bad(err.message, err.param === 'messages' ? 'input' : 'max_output_tokens');
    throw err;
  }
  return {
    gen,
    instructions: typeof body.instructions === 'string' ? body.instructions : null,
    maxOutputTokens: typeof mot === 'number' ? mot : null,
    temperature: optNumber(body, 'temperature'),
    topP: optNumber(body, 'top_p'),
    metadata: isObj(metadata) ? metadata : null,
  };
}

/** Writes one Responses API answer: the Response object at the end, or its SSE event sequence as tokens arrive. */
export class ResponsesWriter extends GenerationWriter {
  private seq = 0;
  private readonly msgId: string;

  constructor(
    engine: Engine,
    res: ServerResponse,
    private readonly p: ParsedResponses,
    id: string,
    model: string,
    dropAfter: number,
  ) {
    super(engine, res, p.gen.stream, id, model, dropAfter);
    this.msgId = `msg_${id.slice('resp_'.length)}`;
    if (!p.gen.stream) return;
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
    const r = this.response('in_progress', null, null);
    this.event('response.created', { response: r });
    this.event('response.in_progress', { response: r });
    this.event('response.output_item.added', { output_index: 0, item: this.message('in_progress', '') });
    this.event('response.content_part.added', { ...this.at(), part: this.part('') });
  }

  protected finish(r: EngineRequest): void {
    if (this.stream) this.finishStream(r);
    else if (this.dropAfter >= 0) this.res.destroy();
    else if (!this.res.destroyed) sendJson(this.res, 200, this.final(r));
  }

  protected progress(r: EngineRequest): void {
    this.delta(r);
  }

  private at(): Obj {
    return { item_id: this.msgId, output_index: 0, content_index: 0 };
  }

  private part(text: string): Obj {
    return { type: 'output_text', text, annotations: [], logprobs: [] };
  }

  private message(status: string, text: string): Obj {
    return { type: 'message', id: this.msgId, status, role: 'assistant', content: text ? [this.part(text)] : [] };
  }

  private usage(r: EngineRequest): Obj {
    return {
      input_tokens: r.numPromptTokens,
      input_tokens_details: { cached_tokens: r.numCachedTokens },
      output_tokens: r.numOutputTokens,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: r.numPromptTokens + r.numOutputTokens,
    };
  }

  /** The Response object; `output` and `usage` are filled in once the generation ended. */
  private response(status: string, output: Obj[] | null, r: EngineRequest | null): Obj {
    const p = this.p;
    return {
      id: this.id,
      object: 'response',
      created_at: this.created,
      status,
      background: false,
      completed_at: r && status !== 'in_progress' ? Math.floor(Date.now() / 1000) : null,
      error: null,
      incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
      instructions: p.instructions,
      max_output_tokens: p.maxOutputTokens,
      metadata: p.metadata ?? {},
      model: this.model,
      output: output ?? [],
      parallel_tool_calls: true,
      previous_response_id: null,
      reasoning: null,
      store: false,
      temperature: p.temperature ?? 1,
      text: { format: { type: 'text' } },
      tool_choice: 'auto',
      tools: [],
      top_p: p.topP ?? 1,
      truncation: 'disabled',
      usage: r ? this.usage(r) : null,
    };
  }

  private final(r: EngineRequest): Obj {
    const text = tokensText(r.tokens, r.numPromptTokens, r.numPromptTokens + r.numOutputTokens);
    // A generation cut by max_output_tokens is "incomplete" in the Responses API, not "completed".
    const status = r.finishReason === 'length' ? 'incomplete' : 'completed';
    const msg = this.message(status, text);
    msg.content = [this.part(text)];
    return this.response(status, [msg], r);
  }

  private delta(r: EngineRequest): void {
    const from = r.numPromptTokens + this.sent;
    this.sent = r.numOutputTokens;
    const delta = tokensText(r.tokens, from, r.numPromptTokens + r.numOutputTokens);
    this.event('response.output_text.delta', { ...this.at(), delta, logprobs: [] });
  }

  private finishStream(r: EngineRequest): void {
    if (r.numOutputTokens > this.sent) this.delta(r);
    const final = this.final(r);
    const item = (final.output as Obj[])[0];
    const text = ((item.content as Obj[])[0].text as string) ?? '';
    this.event('response.output_text.done', { ...this.at(), text, logprobs: [] });
    this.event('response.content_part.done', { ...this.at(), part: this.part(text) });
    this.event('response.output_item.done', { output_index: 0, item });
    this.event(final.status === 'incomplete' ? 'response.incomplete' : 'response.completed', { response: final });
    if (!this.res.destroyed) this.res.end();
  }

  private event(type: string, fields: Obj): void {
    this.send(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: this.seq++, ...fields })}\n\n`);
  }
}
