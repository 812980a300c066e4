// Token usage from the tail of a response (SSE or JSON), and the filter that hides the usage-only SSE chunk from
// clients that did not ask for usage. Everything else is forwarded byte for byte.

export interface Usage {
  promptTokens: number;
  completionTokens: number;
  /** usage.prompt_tokens_details.cached_tokens, when the engine reports it. */
  cachedTokens?: number;
}

const USAGE_KEY = /"usage"\s*:\s*\{/g;

/** The object text starting at text[start] === '{', by brace matching that skips JSON strings. */
function objectAt(text: string, start: number): string | undefined {
  let depth = 0;
  let inStr = false;
  for (let i = start; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inStr) {
      if (c === 92)
        i++; // backslash
      else if (c === 34) inStr = false;
      continue;
    }
    if (c === 34) inStr = true;
    else if (c === 123) depth++;
    else if (c === 125 && --depth === 0) return text.slice(start, i + 1);
  }
  return undefined;
}

/** Reads the last `"usage": {...}` in the text (chat/completions or Responses API shapes). */
export function usageFromTail(tail: string): Usage | undefined {
  let last = -1;
  USAGE_KEY.lastIndex = 0;
  for (let m = USAGE_KEY.exec(tail); m; m = USAGE_KEY.exec(tail)) last = m.index + m[0].length - 1;
  if (last < 0) return undefined;
  const obj = objectAt(tail, last);
  if (!obj) return undefined;
  try {
    const u = JSON.parse(obj) as Record<string, unknown>;
    const prompt = Number(u.prompt_tokens ?? u.input_tokens ?? 0);
    const completion = Number(u.completion_tokens ?? u.output_tokens ?? 0);
    if (!Number.isFinite(prompt) || !Number.isFinite(completion)) return undefined;
    if (prompt + completion <= 0) return undefined;
    const details = (u.prompt_tokens_details ?? u.input_tokens_details) as Record<string, unknown> | null | undefined;
    const cached = Number(details?.cached_tokens);
    return Number.isFinite(cached) && cached >= 0
      ? { promptTokens: prompt, completionTokens: completion, cachedTokens: cached }
      : { promptTokens: prompt, completionTokens: completion };
  } catch {
    return undefined;
  }
}

/** Keeps the last `max` bytes of a stream for usage parsing at the end. */
export class TailBuffer {
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(private readonly max: number) {}

  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
    while (this.chunks.length > 1 && this.size - this.chunks[0].length >= this.max) {
      this.size -= this.chunks[0].length;
      this.chunks.shift();
    }
  }

  toString(): string {
    const buf = Buffer.concat(this.chunks, this.size);
    return buf.subarray(Math.max(0, buf.length - this.max)).toString('utf8');
  }
}

const NL = 0x0a;
const USAGE_BYTES = Buffer.from('"usage"');

function isUsageOnlyEvent(line: string): boolean {
  if (!line.startsWith('data:')) return false;
  const payload = line.slice(5).trim();
  if (payload === '' || payload === '[DONE]') return false;
  try {
    const ev = JSON.parse(payload) as { choices?: unknown; usage?: unknown };
    return Array.isArray(ev.choices) && ev.choices.length === 0 && ev.usage !== null && typeof ev.usage === 'object';
  } catch {
    return false;
  }
}

/**
 * Filters the usage-only chunk (`choices: []` with a usage object) out of an SSE stream. Complete lines are released as
 * soon as they arrive; only a trailing partial line is held back. Lines are inspected only when the bytes contain
 * `"usage"`, so ordinary chunks pass through untouched.
 */
export class UsageChunkFilter {
  private carry: Buffer | undefined;
  private dropNextBlank = false;

  push(chunk: Buffer): Buffer | undefined {
    const buf = this.carry ? Buffer.concat([this.carry, chunk]) : chunk;
    const lastNl = buf.lastIndexOf(NL);
    if (lastNl < 0) {
      this.carry = buf;
      return undefined;
    }
    this.carry = lastNl + 1 < buf.length ? buf.subarray(lastNl + 1) : undefined;
    const complete = lastNl + 1 === buf.length ? buf : buf.subarray(0, lastNl + 1);
    if (!this.dropNextBlank && complete.indexOf(USAGE_BYTES) < 0) return complete;
    return this.filterLines(complete);
  }

  /** Whatever partial line is left at end of stream. */
  flush(): Buffer | undefined {
    const rest = this.carry;
    this.carry = undefined;
    if (rest && isUsageOnlyEvent(rest.toString('utf8').trimEnd())) return undefined;
    return rest;
  }

  private filterLines(complete: Buffer): Buffer | undefined {
    const lines = complete.toString('utf8').split('\n');
    lines.pop(); // after the final '\n'
    const kept: string[] = [];
    for (const line of lines) {
      const bare = line.endsWith('\r') ? line.slice(0, -1) : line;
      if (this.dropNextBlank) {
        this.dropNextBlank = false;
        if (bare === '') continue;
      }
      if (isUsageOnlyEvent(bare)) {
        this.dropNextBlank = true;
        continue;
      }
      kept.push(line);
    }
    if (kept.length === 0) return undefined;
    return Buffer.from(`${kept.join('\n')}\n`, 'utf8');
  }
}

/** Counts SSE data events in a chunk without decoding it (memchr-speed indexOf). */
const DATA_PREFIX = Buffer.from('data:');
export function countDataEvents(chunk: Buffer): number {
  let n = 0;
  for (let i = chunk.indexOf(DATA_PREFIX); i >= 0; i = chunk.indexOf(DATA_PREFIX, i + 5)) n++;
  return n;
}
