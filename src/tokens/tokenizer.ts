// A built-in, deterministic tokenizer. It is not any real model's vocabulary: it exists so that token counts,
// prefix-cache block hashes and KV events are stable and cheap to compute (one pass, no allocation per
// character). On English text it yields roughly 4 characters per token, like BPE tokenizers of Llama-3/GPT-4.
//
// Pieces (one token each):
//   - a word: an optional single leading space + a run of letters; words longer than 6 characters (space
//     included) are cut into 4-character pieces, so long words cost several tokens as in BPE;
//   - a number: an optional leading space + up to 3 digits;
//   - a punctuation character, with an optional leading space;
//   - a run of whitespace (up to 16 characters) that is not the leading space of the next piece;
//   - a CJK or other wide character (code point >= U+2E80): one token each;
//   - a special token written literally, such as <|eot_id|> (only the names in SPECIAL_TOKENS).
// Token id = FNV-1a hash of the piece's UTF-16 code units, folded into [FIRST_ORDINARY_ID, VOCAB_SIZE).

export const VOCAB_SIZE = 128_000;
const FIRST_ORDINARY_ID = 256;

/** Llama-3 style special tokens; ids above the ordinary vocabulary, as in Llama 3. */
export const SPECIAL_TOKENS: Readonly<Record<string, number>> = {
  '<|begin_of_text|>': 128_000,
  '<|end_of_text|>': 128_001,
  '<|start_header_id|>': 128_006,
  '<|end_header_id|>': 128_007,
  '<|eot_id|>': 128_009,
};
export const BOS_TOKEN_ID = 128_000;
export const EOS_TOKEN_ID = 128_009;

const SPECIAL_BY_ID = new Map<number, string>(Object.entries(SPECIAL_TOKENS).map(([k, v]) => [v, k]));
const SPECIAL_NAMES = Object.keys(SPECIAL_TOKENS);

enum Kind {
  Letter = 0,
  Digit = 1,
  Space = 2,
  Punct = 3,
  Wide = 4,
}

function kindOf(c: number): Kind {
  if ((c >= 97 && c <= 122) || (c >= 65 && c <= 90)) return Kind.Letter;
  if (c >= 48 && c <= 57) return Kind.Digit;
  if (c === 32 || c === 10 || c === 9 || c === 13) return Kind.Space;
  if (c < 128) return Kind.Punct;
  if (c >= 0x2e80) return Kind.Wide;
  // Latin-1 supplement, Greek, Cyrillic…: treat as letters (accented words stay words).
  return Kind.Letter;
}

function pieceId(text: string, start: number, end: number): number {
  let h = 0x811c9dc5;
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return FIRST_ORDINARY_ID + ((h >>> 0) % (VOCAB_SIZE - FIRST_ORDINARY_ID));
}

function specialAt(text: string, i: number): string | undefined {
  for (const name of SPECIAL_NAMES) if (text.startsWith(name, i)) return name;
  return undefined;
}

/**
 * Splits text into pieces and calls `emit(id, start, end)` for each. The callback form lets callers count,
 * collect ids, or collect piece strings without intermediate arrays.
 */
export function scanTokens(text: string, emit: (id: number, start: number, end: number) => void): void {
  const n = text.length;
  let i = 0;
  while (i < n) {
    const c = text.charCodeAt(i);
    if (c === 60 /* < */ && text.charCodeAt(i + 1) === 124 /* | */) {
      const sp = specialAt(text, i);
      if (sp) {
        emit(SPECIAL_TOKENS[sp], i, i + sp.length);
        i += sp.length;
        continue;
      }
    }
    let k = kindOf(c);
    let start = i;
    let j = i + 1;
    if (k === Kind.Space) {
      // A single space directly before a word/number/punctuation belongs to that piece.
      let runEnd = j;
      while (runEnd < n && kindOf(text.charCodeAt(runEnd)) === Kind.Space) runEnd++;
      const next = runEnd < n ? kindOf(text.charCodeAt(runEnd)) : Kind.Space;
      const lastIsSpace = text.charCodeAt(runEnd - 1) === 32;
      if (next !== Kind.Space && next !== Kind.Wide && lastIsSpace) {
        // Emit the whitespace before the final space (if any), then let the space lead the next piece.
        if (runEnd - 1 > start) emitWhitespace(text, start, runEnd - 1, emit);
        start = runEnd - 1;
        j = runEnd + 1;
        k = next;
      } else {
        emitWhitespace(text, start, runEnd, emit);
        i = runEnd;
        continue;
      }
    }
    if (k === Kind.Letter) {
      while (j < n && kindOf(text.charCodeAt(j)) === Kind.Letter) j++;
      const len = j - start;
      if (len <= 6) emit(pieceId(text, start, j), start, j);
      else for (let p = start; p < j; p += 4) emit(pieceId(text, p, Math.min(p + 4, j)), p, Math.min(p + 4, j));
    } else if (k === Kind.Digit) {
      const limit = start + (text.charCodeAt(start) === 32 ? 4 : 3);
      while (j < n && j < limit && kindOf(text.charCodeAt(j)) === Kind.Digit) j++;
      emit(pieceId(text, start, j), start, j);
    } else {
      // Punctuation or wide character: one code unit (a surrogate pair stays together).
      if (c >= 0xd800 && c <= 0xdbff && j < n) j++;
      emit(pieceId(text, start, j), start, j);
    }
    i = j;
  }
}

function emitWhitespace(text: string, start: number, end: number, emit: (id: number, s: number, e: number) => void) {
  for (let p = start; p < end; p += 16) {
    const e = Math.min(p + 16, end);
    emit(pieceId(text, p, e), p, e);
  }
}

/** Token ids of `text` (no special tokens added). Same text → same ids, always. */
export function tokenize(text: string, out: number[] = []): number[] {
  scanTokens(text, (id) => {
    out.push(id);
  });
  return out;
}

/** Token count without building the array. */
export function countTokens(text: string): number {
  let n = 0;
  scanTokens(text, () => {
    n++;
  });
  return n;
}

/** Token ids and their strings (for /tokenize with return_token_strs). */
export function tokenizeWithStrings(text: string): { ids: number[]; strs: string[] } {
  const ids: number[] = [];
  const strs: string[] = [];
  scanTokens(text, (id, s, e) => {
    ids.push(id);
    strs.push(text.slice(s, e));
  });
  return { ids, strs };
}

/** Encodes a completion prompt the way vLLM does for Llama-3: BOS first when add_special_tokens is true. */
export function encodePrompt(text: string, addSpecialTokens = true): number[] {
  const out: number[] = addSpecialTokens ? [BOS_TOKEN_ID] : [];
  return tokenize(text, out);
}

export interface ChatMessage {
  role: string;
  content: string;
}

/**
 * Llama-3 chat template: <|begin_of_text|> then, per message,
 * <|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>, then the assistant header when
 * add_generation_prompt is set.
 */
export function applyChatTemplate(messages: readonly ChatMessage[], addGenerationPrompt = true): string {
  let s = '<|begin_of_text|>';
  for (const m of messages) s += `<|start_header_id|>${m.role}<|end_header_id|>\n\n${m.content}<|eot_id|>`;
  if (addGenerationPrompt) s += '<|start_header_id|>assistant<|end_header_id|>\n\n';
  return s;
}

/** Token ids of a chat conversation rendered by the template. */
export function encodeChat(messages: readonly ChatMessage[], addGenerationPrompt = true): number[] {
  return tokenize(applyChatTemplate(messages, addGenerationPrompt));
}

/** Name of a special token id, if it is one. */
export function specialTokenName(id: number): string | undefined {
  return SPECIAL_BY_ID.get(id);
}

/**
 * Text of token ids. The built-in vocabulary is a hash, so ordinary ids cannot be turned back into their piece:
 * special tokens come back by name and every other id as a placeholder `<id>` (enough for /detokenize to answer).
 */
export function decodeTokens(ids: readonly number[]): string {
  let s = '';
  for (const id of ids) s += specialTokenName(id) ?? `<${id}>`;
  return s;
}
