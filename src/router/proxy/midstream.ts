// Mid-stream failover (router flag --mid-stream-failover): when an engine dies or stalls after a stream's first
// bytes reached the client, the generation continues on another replica from the prompt plus the text already
// streamed, so the client sees one stream that ends with [DONE]. Pure parts only: reading the generated text out of
// the SSE bytes relayed so far, and the body of the continuation request. Reading the text costs a JSON.parse per
// event, so it runs only for requests that may be continued (the flag is opt-in).

import { StringDecoder } from 'node:string_decoder';

export type StreamKind = 'chat' | 'completion';

/** The text and the number of content events relayed so far, read from the SSE bytes as they pass. */
export class GeneratedText {
  text = '';
  /** Events that carried generated text: vLLM and SGLang stream one token per event by default. */
  events = 0;
  /** A choice reported finish_reason: the generation itself is complete, only [DONE] / usage may be missing. */
  finished = false;
  /** The bytes relayed so far end exactly at an event boundary (a blank line). */
  atBoundary = true;
  private carry = '';
  private lastFour = '\n\n';
  /** A chunk may end inside a multi-byte character. */
  private readonly utf8 = new StringDecoder('utf8');

  constructor(readonly kind: StreamKind) {}

  push(chunk: Buffer): void {
    const text = this.utf8.write(chunk);
    this.lastFour = (this.lastFour + text).slice(-4);
    this.atBoundary = this.lastFour.endsWith('\n\n') || this.lastFour === '\r\n\r\n';
    const s = this.carry + text;
    let start = 0;
    for (let nl = s.indexOf('\n', start); nl >= 0; nl = s.indexOf('\n', start)) {
      this.line(s.slice(start, nl).trimEnd());
      start = nl + 1;
    }
    this.carry = s.slice(start);
  }

  private line(line: string): void {
    if (!line.startsWith('data:')) return;
    const data = line.slice(5).trimStart();
    if (data === '' || data === '[DONE]' || data[0] !== '{') return;
    let ev: { choices?: { delta?: { content?: unknown }; text?: unknown; finish_reason?: unknown }[] };
    try {
      ev = JSON.parse(data);
    } catch {
      return;
    }
    const c = ev.choices?.[0];
    if (!c) return;
    const piece = this.kind === 'chat' ? c.delta?.content : c.text;
    if (typeof piece === 'string' && piece !== '') {
      this.text += piece;
      this.events++;
    }
    if (typeof c.finish_reason === 'string' && c.finish_reason !== '') this.finished = true;
  }
}

/** The kind of stream a request produces, when it is one that can be continued (one choice, text or chat). */
export function continuableKind(path: string, body: Record<string, unknown>): StreamKind | undefined {
  if (body.stream !== true) return undefined;
  if (body.n !== undefined && body.n !== 1) return undefined;
  if (path.endsWith('/chat/completions') && Array.isArray(body.messages)) return 'chat';
  if (path.endsWith('/completions') && typeof body.prompt === 'string') return 'completion';
  return undefined;
}

/**
 * The request that continues a generation after `done` was relayed: the prompt plus the text so far (chat: an
 * assistant message continued in place, vLLM's `continue_final_message`), and the token budget that is left.
 * undefined when nothing is left to generate.
 */
export function continuationBody(
  upstreamBody: Record<string, unknown>,
  kind: StreamKind,
  done: GeneratedText,
): Record<string, unknown> | undefined {
  const out: Record<string, unknown> = { ...upstreamBody };
  for (const key of ['max_tokens', 'max_completion_tokens'] as const) {
    const v = upstreamBody[key];
    if (typeof v !== 'number') continue;
    const left = v - done.events;
    if (left <= 0) return undefined;
    out[key] = left;
  }
  if (kind === 'chat') {
    out.messages = [...(upstreamBody.messages as unknown[]), { role: 'assistant', content: done.text }];
    out.add_generation_prompt = false;
    out.continue_final_message = true;
  } else {
    out.prompt = `${upstreamBody.prompt as string}${done.text}`;
  }
  return out;
}

/** An OpenAI-shaped SSE error event, then [DONE] (as vLLM ends a stream that failed mid-way). */
export function sseErrorEvent(message: string, code: string): Buffer {
  const err = { error: { message, type: 'server_error', param: null, code } };
  return Buffer.from(`data: ${JSON.stringify(err)}\n\ndata: [DONE]\n\n`);
}
