// A real model's tokenizer: tokenizer.json through @huggingface/tokenizers (pure JS) and the chat template from
// tokenizer_config.json (or chat_template.jinja) through @huggingface/jinja, rendered with the variables vLLM's
// OpenAI server gives it. Library choice and costs: docs/decisions/0014-tokenizer-sources.md.
//
// Speed: encoding is ~2 µs per token (a 4,400-token system prompt ≈ 10 ms), too slow to repeat per request. A
// rendered chat is special tokens (<|im_start|>…) between runs of text, and the tokenizer encodes each run on its
// own (added tokens are split out first), so we encode run by run and keep long runs in an LRU: a repeated system
// prompt costs a Map lookup. At load a self-check compares run-by-run with whole-text encoding on a sample and turns
// the split off for tokenizers where they differ (e.g. SentencePiece "prepend first"), keeping results exact.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Template } from '@huggingface/jinja';
import { Tokenizer } from '@huggingface/tokenizers';
import type { ChatOptions, ModelTokenizer, TemplateMessage } from './model-tokenizer.js';

interface AddedTokenJson {
  id: number;
  content: string;
  special?: boolean;
  lstrip?: boolean;
  rstrip?: boolean;
  normalized?: boolean;
}

/** Runs shorter than this are encoded every time (cheap); longer ones are cached. */
const CACHE_MIN_CHARS = 256;
/** Upper bound of cached characters (the ids take about as much again: ~4 chars/token, 8 bytes/id). */
const CACHE_MAX_CHARS = 16_000_000;

export class HfTokenizer implements ModelTokenizer {
  readonly kind = 'hf' as const;
  private readonly tok: Tokenizer;
  private readonly templates: Map<string, Template>;
  private readonly specialVars: Record<string, string>;
  /** Special added tokens that split text (content → id), longest first so prefixes never shadow. */
  private readonly splitters: { content: string; id: number }[];
  private readonly splitFirstChars: Set<number>;
  private splitExact = true;
  private readonly runCache = new Map<string, number[]>();
  private cachedChars = 0;
  runCacheHits = 0;
  runCacheMisses = 0;

  constructor(
    tokenizerJson: Record<string, unknown>,
    config: Record<string, unknown>,
    readonly source: string,
    chatTemplate?: string,
  ) {
    this.tok = new Tokenizer(tokenizerJson, config);
    this.templates = parseTemplates(chatTemplate ?? config.chat_template);
    this.specialVars = {};
    for (const k of ['bos_token', 'eos_token', 'pad_token', 'unk_token']) {
      const v = tokenText(config[k]);
      if (v !== undefined) this.specialVars[k] = v;
    }
    const added = (tokenizerJson.added_tokens ?? []) as AddedTokenJson[];
    this.splitters = added
      .filter((t) => t.special && !t.lstrip && !t.rstrip && !t.normalized && t.content.length > 0)
      .map((t) => ({ content: t.content, id: t.id }))
      .sort((a, b) => b.content.length - a.content.length);
    this.splitFirstChars = new Set(this.splitters.map((s) => s.content.charCodeAt(0)));
    this.splitExact = this.selfCheck();
  }

  /** Loads from a directory holding tokenizer.json (+ tokenizer_config.json, chat_template.jinja), or tokenizer.json. */
  static async load(path: string): Promise<HfTokenizer> {
    const isDir = (await stat(path)).isDirectory();
    const dir = isDir ? path : join(path, '..');
    const tjPath = isDir ? join(path, 'tokenizer.json') : path;
    const tj = JSON.parse(await readFile(tjPath, 'utf8')) as Record<string, unknown>;
    let config: Record<string, unknown> = {};
    try {
      config = JSON.parse(await readFile(join(dir, 'tokenizer_config.json'), 'utf8')) as Record<string, unknown>;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    let template: string | undefined;
    try {
      template = await readFile(join(dir, 'chat_template.jinja'), 'utf8');
    } catch {
      template = undefined;
    }
    return new HfTokenizer(tj, config, path, template);
  }

  get hasChatTemplate(): boolean {
    return this.templates.size > 0;
  }

  encodePrompt(text: string, addSpecialTokens = true): number[] {
    if (addSpecialTokens) return this.ids(text, true);
    return this.encodeRuns(text);
  }

  renderChat(messages: readonly TemplateMessage[], opts: ChatOptions = {}): string {
    const hasTools = Array.isArray(opts.tools) && opts.tools.length > 0;
    const tpl = (hasTools && this.templates.get('tool_use')) || this.templates.get('default');
    if (!tpl) throw new Error(`tokenizer ${this.source} has no chat template`);
    const text = tpl.render({
      ...this.specialVars,
      ...opts.kwargs,
      messages,
      tools: hasTools ? opts.tools : undefined,
      add_generation_prompt: opts.continueFinalMessage ? false : (opts.addGenerationPrompt ?? true),
      // raise_exception and strftime_now are built into @huggingface/jinja.
    });
    if (!opts.continueFinalMessage) return text;
    // vLLM's continue_final_message: cut the rendering right after the final message's content.
    const last = messages[messages.length - 1]?.content ?? '';
    const at = last ? text.lastIndexOf(last) : -1;
    return at >= 0 ? text.slice(0, at + last.length) : text;
  }

  encodeChat(messages: readonly TemplateMessage[], opts: ChatOptions = {}): number[] {
    return this.encodeRuns(this.renderChat(messages, opts));
  }

  encodeWithStrings(text: string, addSpecialTokens: boolean): { ids: number[]; strs: string[] } {
    const e = this.tok.encode(text, { add_special_tokens: addSpecialTokens });
    return { ids: e.ids, strs: e.tokens };
  }

  decode(ids: readonly number[]): string {
    return this.tok.decode(ids as number[], { skip_special_tokens: false });
  }

  private ids(text: string, addSpecialTokens: boolean): number[] {
    return this.tok.encode(text, { add_special_tokens: addSpecialTokens }).ids;
  }

  /** Text (special tokens written literally) → ids, without adding special tokens; run by run when exact. */
  private encodeRuns(text: string): number[] {
    if (!this.splitExact || this.splitters.length === 0) return this.ids(text, false);
    const out: number[] = [];
    let runStart = 0;
    for (let i = 0; i < text.length; i++) {
      if (!this.splitFirstChars.has(text.charCodeAt(i))) continue;
      const sp = this.splitters.find((s) => text.startsWith(s.content, i));
      if (!sp) continue;
      if (i > runStart) this.appendRun(text.slice(runStart, i), out);
      out.push(sp.id);
      i += sp.content.length - 1;
      runStart = i + 1;
    }
    if (runStart < text.length) this.appendRun(text.slice(runStart), out);
    return out;
  }

  private appendRun(run: string, out: number[]): void {
    if (run.length < CACHE_MIN_CHARS) {
      for (const id of this.ids(run, false)) out.push(id);
      return;
    }
    let ids: number[] | undefined = this.runCache.get(run);
    if (ids) {
      this.runCacheHits++;
      // Youngest last: the Map's insertion order is the LRU order.
      this.runCache.delete(run);
      this.runCache.set(run, ids);
    } else {
      this.runCacheMisses++;
      ids = this.ids(run, false);
      this.runCache.set(run, ids);
      this.cachedChars += run.length;
      for (const [k] of this.runCache) {
        if (this.cachedChars <= CACHE_MAX_CHARS) break;
        this.runCache.delete(k);
        this.cachedChars -= k.length;
      }
    }
    for (const id of ids) out.push(id);
  }

  /** Run-by-run encoding equals whole-text encoding on a sample with special tokens between runs. */
  private selfCheck(): boolean {
    if (this.splitters.length === 0) return false;
    const sp = this.splitters.map((s) => s.content);
    const pick = (i: number) => sp[i % sp.length];
    const sample =
      `${pick(0)}system\nYou are helpful. ${pick(1)}\n${pick(2)}user\n  Hello,  world! 123 ` +
      `naïve café ${pick(3)}${pick(4)}\n\nassistant\n${pick(0)} trailing`;
    const whole = this.ids(sample, false);
    this.splitExact = true;
    const runs = this.encodeRuns(sample);
    return whole.length === runs.length && whole.every((v, i) => v === runs[i]);
  }
}

function tokenText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (v && typeof v === 'object' && typeof (v as { content?: unknown }).content === 'string')
    return (v as { content: string }).content;
  return undefined;
}

/** chat_template is a string or a list of {name, template} (named templates such as "tool_use"). */
function parseTemplates(v: unknown): Map<string, Template> {
  const out = new Map<string, Template>();
  if (typeof v === 'string') out.set('default', new Template(v));
  else if (Array.isArray(v))
    for (const t of v as { name?: unknown; template?: unknown }[])
      if (typeof t?.name === 'string' && typeof t.template === 'string') out.set(t.name, new Template(t.template));
  return out;
}
