// Prompt extraction (reference §2.2 step 4): the text used for prefix hashing and token estimation.
export interface ChatMessage {
  role: string;
  content: string;
}

export type Prompt = { kind: 'text'; text: string } | { kind: 'chat'; messages: ChatMessage[] };

const TEXT_PART_TYPES = new Set(['text', 'input_text', 'output_text']);

function contentText(content: unknown): string | undefined {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return undefined;
  const parts: string[] = [];
  for (const p of content) {
    if (p === null || typeof p !== 'object') continue;
    const part = p as { type?: unknown; text?: unknown };
    if (part.type !== undefined && !TEXT_PART_TYPES.has(part.type as string)) continue;
    if (typeof part.text === 'string') parts.push(part.text);
  }
  return parts.length ? parts.join('\n') : undefined;
}

function toMessages(items: unknown[], requireMessageType: boolean): ChatMessage[] {
  const out: ChatMessage[] = [];
  for (const item of items) {
    if (item === null || typeof item !== 'object') continue;
    const m = item as { role?: unknown; content?: unknown; type?: unknown };
    if (requireMessageType && m.type !== undefined && m.type !== 'message') continue;
    if (typeof m.role !== 'string' || m.role === '') continue;
    const text = contentText(m.content);
    if (text !== undefined) out.push({ role: m.role, content: text });
  }
  return out;
}

/**
 * An embeddings `input` is plain text (a string, strings, or token ids), not a conversation: hashed as the engine
 * tokenises it, so replicas' prefix caches line up with the router's view.
 */
function embeddingsInput(input: unknown): Prompt | undefined {
  if (typeof input === 'string') return { kind: 'text', text: input };
  if (!Array.isArray(input)) return undefined;
  return { kind: 'text', text: input.filter((x) => typeof x === 'string').join('\n') };
}

/** undefined when the body carries no prompt at all (→ 400 prompt_not_found with `param`; upstream answers 404). */
export function extractPrompt(body: Record<string, unknown>, path?: string): Prompt | undefined {
  if (path === '/v1/embeddings' && 'input' in body) return embeddingsInput(body.input);
  if ('prompt' in body) {
    const p = body.prompt;
    if (typeof p === 'string') return { kind: 'text', text: p };
    // Token-id or batched prompts: keep the request routable; hash what text there is.
    if (Array.isArray(p)) return { kind: 'text', text: p.filter((x) => typeof x === 'string').join('\n') };
    return undefined;
  }
  if ('messages' in body) {
    if (!Array.isArray(body.messages)) return undefined;
    const messages: ChatMessage[] = [];
    const system = contentText(body.system);
    if (system !== undefined) messages.push({ role: 'system', content: system });
    messages.push(...toMessages(body.messages, false));
    return { kind: 'chat', messages };
  }
  if ('input' in body) {
    const messages: ChatMessage[] = [];
    if (typeof body.instructions === 'string') messages.push({ role: 'developer', content: body.instructions });
    if (typeof body.input === 'string') messages.push({ role: 'user', content: body.input });
    else if (Array.isArray(body.input)) messages.push(...toMessages(body.input, true));
    else return undefined;
    return { kind: 'chat', messages };
  }
  return undefined;
}

/** The prompt string: text as-is, chat as a ChatML rendering (what upstream hashes). */
export function promptString(p: Prompt): string {
  if (p.kind === 'text') return p.text;
  let s = '';
  for (const m of p.messages) s += `<|im_start|>${m.role}\n${m.content}<|im_end|>\n`;
  return s;
}

/** Upstream's estimate: ceil(code points / 4). */
export function estimateTokens(text: string): number {
  // Code points = UTF-16 units minus well-formed surrogate pairs (a lone surrogate counts as one, as for…of does).
  // One regex scan: the string iterator cost ≈80 µs for a 16 KB prompt on the path before dispatch, this ≈10 µs.
  const pairs = text.match(SURROGATE_PAIR);
  return Math.ceil((text.length - (pairs ? pairs.length : 0)) / 4);
}

const SURROGATE_PAIR = /[\uD800-\uDBFF][\uDC00-\uDFFF]/g;
