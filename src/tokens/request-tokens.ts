// Token ids of an OpenAI request body as the simulated engines compute them: completions prompts (text or token
// ids) through the built-in tokenizer, chat messages through its chat template. The router hashes these ids to look
// requests up in the precise KV index; the engine simulator computes the same ids for the same body.
import { encodeChat, encodePrompt } from './tokenizer.js';

/** Token ids exactly as the simulated engine computes them for this body (completions and chat). */
export function localTokens(body: Record<string, unknown>): number[] {
  if (Array.isArray(body.messages)) {
    const msgs = body.messages.map((m) => {
      const o = (m ?? {}) as Record<string, unknown>;
      return { role: String(o.role ?? ''), content: textOf(o.content) };
    });
    const addGen = typeof body.add_generation_prompt === 'boolean' ? body.add_generation_prompt : true;
    return encodeChat(msgs, addGen);
  }
  let p = body.prompt;
  if (Array.isArray(p) && p.length === 1) p = p[0];
  if (typeof p === 'string') return encodePrompt(p);
  if (Array.isArray(p) && p.every((t) => Number.isInteger(t))) return p as number[];
  return [];
}

/** The text parts of a chat message's content (string, or a list of typed parts). */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  let s = '';
  for (const part of content) {
    const o = (part ?? {}) as Record<string, unknown>;
    if (o.type === 'text' && typeof o.text === 'string') s += o.text;
  }
  return s;
}
