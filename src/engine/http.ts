// The OpenAI/vLLM-compatible HTTP surface of one simulated engine (node:http, no framework).
import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chatOptionsOf, templateMessages } from '../tokens/index.js';
import { embeddingsBody, parseEmbeddings } from './embeddings.js';
import type { Engine, FaultMode, FaultSpec, KvTransferParams } from './engine.js';
import { HttpError, sendError, sendJson } from './openai-errors.js';
import { type ParsedGeneration, parseGeneration } from './openai-request.js';
import type { EngineRequest } from './request.js';
import { parseResponses, ResponsesWriter } from './responses.js';
import { tokensText } from './text-gen.js';
import { GenerationWriter } from './writer.js';

const MAX_BODY_BYTES = 32 * 1024 * 1024;

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY_BYTES) {
        reject(new HttpError(413, `request body larger than ${MAX_BODY_BYTES} bytes`));
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const text = await readBody(req);
  if (text.trim() === '') throw new HttpError(400, 'request body is empty; expected a JSON object');
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new HttpError(400, `invalid JSON body: ${(e as Error).message}`);
  }
}

function newId(): string {
  return randomBytes(12).toString('hex');
}

const ADMIN_DISABLED = new HttpError(
  404,
  'admin endpoints (/admin/faults, /admin/stats) are disabled; start engine-sim with --enable-admin to use them',
);

/** The engine's HTTP server. */
export class EngineServer {
  readonly server: Server;
  private readonly hung = new Set<ServerResponse>();
  private nextReq = 0;

  /**
   * `admin`: serve /admin/faults and /admin/stats. Off unless asked for (`--enable-admin`): fault injection lets
   * anyone who can reach the port make the engine hang or fail.
   */
  constructor(
    readonly engine: Engine,
    private readonly admin = false,
  ) {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (err instanceof HttpError) sendError(res, err);
        else {
          engine.log(`engine-sim: internal error: ${(err as Error)?.stack ?? String(err)}`);
          sendError(res, new HttpError(500, 'internal error'));
        }
      });
    });
    this.server.keepAliveTimeout = 75_000;
    this.server.headersTimeout = 80_000;
  }

  listen(port: number, host: string): Promise<AddressInfo> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        const addr = this.server.address() as AddressInfo;
        this.engine.host = host;
        this.engine.port = addr.port;
        resolve(addr);
      });
    });
  }

  close(): Promise<void> {
    for (const r of this.hung) r.destroy();
    this.hung.clear();
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q >= 0 ? url.slice(0, q) : url;
    const method = req.method ?? 'GET';
    const e = this.engine;
    switch (path) {
      case '/v1/completions':
      case '/v1/chat/completions':
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        return this.generate(path === '/v1/completions' ? 'completion' : 'chat', req, res);
      case '/v1/responses':
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        return this.generate('responses', req, res);
      case '/v1/embeddings':
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        return this.embeddings(req, res);
      case '/health':
      case '/ping':
        res.writeHead(200, { 'content-length': '0' });
        res.end();
        return;
      case '/v1/models':
        return sendJson(res, 200, this.models());
      case '/version':
        return sendJson(res, 200, { version: e.cfg.engine === 'vllm' ? '0.11.0+kthena-sim' : '0.5.0+kthena-sim' });
      case '/metrics':
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        res.end(e.metrics.render());
        return;
      case '/tokenize':
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        return this.tokenize(req, res);
      case '/detokenize':
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        return this.detokenize(req, res);
      case '/v1/load_lora_adapter':
        return this.loadLora(req, res);
      case '/v1/unload_lora_adapter':
        return this.unloadLora(req, res);
      case '/reset_prefix_cache':
        if (method !== 'POST') throw new HttpError(405, 'method not allowed');
        if (!e.core.kv.reset()) throw new HttpError(409, 'cannot reset the prefix cache while requests hold blocks');
        res.writeHead(200, { 'content-length': '0' });
        res.end();
        return;
      case '/get_model_info':
        return sendJson(res, 200, { model_path: e.cfg.model, tokenizer_path: e.cfg.model, is_generation: true });
      case '/admin/faults':
        if (!this.admin) throw ADMIN_DISABLED;
        return this.faults(method, req, res);
      case '/admin/stats':
        if (!this.admin) throw ADMIN_DISABLED;
        return sendJson(res, 200, this.stats());
      default:
        throw path.startsWith('/admin/') && !this.admin
          ? ADMIN_DISABLED
          : new HttpError(404, `no route for ${method} ${path}`);
    }
  }

  /**
   * What a router needs to know about this simulator (ours; real engines have no such field): whose tokenizer it
   * uses — "simulator" means the router can compute the same ids itself, "hf" that it must use the model's
   * tokenizer or ask /tokenize — and where its KV-event replay socket listens.
   */
  private announcement(): Record<string, unknown> {
    const e = this.engine;
    return {
      tokenizer: e.tokenizer.kind,
      tokenizer_source: e.tokenizer.source,
      block_size: e.cfg.blockSize,
      kv_events_replay_port: replayPort(e.kvEventsReplayEndpoint),
    };
  }

  private models(): unknown {
    const e = this.engine;
    const created = Math.floor(Date.now() / 1000);
    const owned = e.cfg.engine === 'vllm' ? 'vllm' : 'sglang';
    const data: unknown[] = e.cfg.servedNames.map((id) => ({
      id,
      object: 'model',
      created,
      owned_by: owned,
      root: e.cfg.model,
      parent: null,
      max_model_len: e.cfg.maxModelLen,
      permission: [],
      kthena_sim: this.announcement(),
    }));
    for (const a of e.loras.values())
      data.push({
        id: a.name,
        object: 'model',
        created: a.createdAt,
        owned_by: owned,
        root: a.path,
        parent: e.cfg.servedNames[0],
        max_model_len: null,
        permission: [],
      });
    return { object: 'list', data };
  }

  private stats(): unknown {
    const e = this.engine;
    return {
      engine_id: e.engineId,
      role: e.cfg.role,
      engine: e.cfg.engine,
      profile: e.cfg.profile.name,
      sim_time: e.clock.now(),
      running: e.core.running.length,
      waiting: e.core.waiting.length,
      loading: e.core.loading.length,
      num_gpu_blocks: e.cfg.numGpuBlocks,
      free_blocks: e.core.kv.numFreeBlocks,
      cached_blocks: e.core.kv.numCachedBlocks,
      held_transfers: e.held.size,
      preemptions: e.core.numPreemptions,
      loop: e.loop.stats,
      fault: e.fault,
    };
  }

  private async faults(method: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const e = this.engine;
    if (method === 'GET') return sendJson(res, 200, { fault: e.fault });
    if (method === 'DELETE') {
      e.setFault(null);
      for (const r of this.hung) r.destroy();
      this.hung.clear();
      return sendJson(res, 200, { fault: null });
    }
    if (method !== 'POST') throw new HttpError(405, 'method not allowed');
    const body = await readJson(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpError(400, 'fault must be a JSON object');
    const b = body as Record<string, unknown>;
    const modes: FaultMode[] = ['error', 'hang', 'slow', 'drop-mid-stream'];
    if (!modes.includes(b.mode as FaultMode)) throw new HttpError(400, `mode must be one of ${modes.join(', ')}`);
    const f: FaultSpec = { mode: b.mode as FaultMode };
    const int = (k: string, min: number, max: number) => {
      const v = b[k];
      if (v === undefined) return undefined;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
        throw new HttpError(400, `${k} must be an integer in [${min}, ${max}]`);
      return v;
    };
    f.status = int('status', 400, 599);
    f.count = int('count', 1, Number.MAX_SAFE_INTEGER);
    f.afterChunks = int('afterChunks', 0, 1_000_000);
    if (b.factor !== undefined) {
      if (typeof b.factor !== 'number' || !(b.factor >= 1) || !Number.isFinite(b.factor))
        throw new HttpError(400, 'factor must be a number ≥ 1');
      f.factor = b.factor;
    }
    e.setFault(f);
    return sendJson(res, 200, { fault: e.fault });
  }

  private async tokenize(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readJson(req);
    if (typeof body !== 'object' || body === null || Array.isArray(body))
      throw new HttpError(400, 'request body must be a JSON object');
    const b = body as Record<string, unknown>;
    if (b.model !== undefined && b.model !== null && typeof b.model !== 'string')
      throw new HttpError(400, 'model must be a string');
    if (typeof b.model === 'string' && !this.engine.resolveModel(b.model))
      throw new HttpError(404, `The model \`${b.model}\` does not exist.`);
    const bool = (k: string, d: boolean) => {
      if (b[k] === undefined || b[k] === null) return d;
      if (typeof b[k] !== 'boolean') throw new HttpError(400, `${k} must be a boolean`);
      return b[k] as boolean;
    };
    // vLLM's shapes: {prompt, add_special_tokens=true} or {messages, add_generation_prompt=true,
    // continue_final_message, tools, chat_template_kwargs, add_special_tokens=false}.
    const tok = this.engine.tokenizer;
    let text: string;
    let addSpecial: boolean;
    if (b.messages !== undefined) {
      bool('add_generation_prompt', true);
      try {
        text = tok.renderChat(templateMessages(b.messages), chatOptionsOf(b));
      } catch (err) {
        throw new HttpError(400, (err as Error).message);
      }
      addSpecial = bool('add_special_tokens', false);
    } else if (typeof b.prompt === 'string') {
      text = b.prompt;
      addSpecial = bool('add_special_tokens', true);
    } else throw new HttpError(400, 'tokenize needs a string prompt or a messages array');
    const { ids, strs } = tok.encodeWithStrings(text, addSpecial);
    const out: Record<string, unknown> = { count: ids.length, max_model_len: this.engine.cfg.maxModelLen, tokens: ids };
    if (bool('return_token_strs', false)) out.token_strs = strs;
    return sendJson(res, 200, out);
  }

  private async detokenize(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const b = await readJson(req);
    const tokens = (b as { tokens?: unknown } | null)?.tokens;
    if (!Array.isArray(tokens) || !tokens.every((t) => Number.isInteger(t) && t >= 0))
      throw new HttpError(400, 'tokens must be an array of non-negative integers');
    return sendJson(res, 200, { prompt: this.engine.tokenizer.decode(tokens as number[]) });
  }

  private async loadLora(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const e = this.engine;
    const b = (await readJson(req)) as Record<string, unknown>;
    if (!e.cfg.enableLora) throw new HttpError(400, 'LoRA is not enabled on this engine (start it with --enable-lora)');
    if (
      typeof b !== 'object' ||
      b === null ||
      typeof b.lora_name !== 'string' ||
      typeof b.lora_path !== 'string' ||
      !b.lora_name
    )
      throw new HttpError(400, 'Both lora_name and lora_path must be provided.');
    if (e.loras.has(b.lora_name) || e.cfg.servedNames.includes(b.lora_name))
      throw new HttpError(400, `The lora adapter '${b.lora_name}' has already been loaded.`);
    e.loadLora(b.lora_name, b.lora_path);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Success: LoRA adapter '${b.lora_name}' added successfully.`);
  }

  private async unloadLora(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const e = this.engine;
    const b = (await readJson(req)) as Record<string, unknown>;
    if (typeof b !== 'object' || b === null || typeof b.lora_name !== 'string')
      throw new HttpError(400, 'lora_name must be provided.');
    if (!e.unloadLora(b.lora_name)) throw new HttpError(404, `The lora adapter '${b.lora_name}' cannot be found.`);
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`Success: LoRA adapter '${b.lora_name}' removed successfully.`);
  }

  /**
   * Applies the injected request-level fault, if any: "error" throws, "hang" parks the response (returns null);
   * otherwise the fault (drop-mid-stream, or none) is returned for the writer.
   */
  private takeFault(req: IncomingMessage, res: ServerResponse): { fault: FaultSpec | null } | null {
    const fault = this.engine.takeFault();
    if (fault?.mode === 'error') {
      req.resume();
      throw new HttpError(fault.status ?? 500, `injected fault (status ${fault.status ?? 500})`, 'InjectedFault');
    }
    if (fault?.mode === 'hang') {
      req.resume();
      this.hung.add(res);
      res.on('close', () => this.hung.delete(res));
      return null;
    }
    return { fault };
  }

  /** 400s for a prompt of `n` tokens (plus `maxTokens` to generate) that the model or the KV cache cannot hold. */
  private checkFits(n: number, maxTokens: number | null): void {
    const e = this.engine;
    const maxLen = e.cfg.maxModelLen;
    if (n >= maxLen)
      throw new HttpError(
        400,
        `This model's maximum context length is ${maxLen} tokens. However, your request has ${n} input tokens. ` +
          'Please reduce the length of the input messages.',
      );
    if (maxTokens !== null && n + maxTokens > maxLen)
      throw new HttpError(
        400,
        `This model's maximum context length is ${maxLen} tokens. However, you requested ${n + maxTokens} tokens ` +
          `(${n} in the messages, ${maxTokens} in the completion). Please reduce the length of the messages or completion.`,
      );
    if (Math.ceil((n + 1) / e.cfg.blockSize) > e.cfg.numGpuBlocks)
      throw new HttpError(
        400,
        `The prompt (${n} tokens) does not fit in the KV cache (${e.cfg.numGpuBlocks} blocks of ${e.cfg.blockSize} tokens).`,
      );
  }

  private resolveTarget(model: string | undefined): { lora: string | null } {
    const target = this.engine.resolveModel(model);
    if (!target) throw new HttpError(404, `The model \`${model}\` does not exist.`, 'NotFoundError', 'model');
    return target;
  }

  private requestId(req: IncomingMessage): string {
    const headerId = req.headers['x-request-id'];
    return typeof headerId === 'string' && headerId ? headerId : newId();
  }

  private async generate(
    kind: 'completion' | 'chat' | 'responses',
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<void> {
    const e = this.engine;
    const taken = this.takeFault(req, res);
    if (!taken) return;
    const { fault } = taken;
    const body = await readJson(req);
    const pr = kind === 'responses' ? parseResponses(body, e.tokenizer) : null;
    const p = pr ? pr.gen : parseGeneration(kind as 'completion' | 'chat', body, e.tokenizer);
    const target = this.resolveTarget(p.model);
    const maxLen = e.cfg.maxModelLen;
    const n = p.promptTokens.length;
    this.checkFits(n, p.maxTokens);
    const rid = this.requestId(req);
    const id = `${kind === 'chat' ? 'chatcmpl-' : kind === 'responses' ? 'resp_' : 'cmpl-'}${rid}`;
    const internalId = `${id}-${this.nextReq++}`;
    const model = p.model ?? e.cfg.servedNames[0];
    const dropAfter = fault?.mode === 'drop-mid-stream' ? (fault.afterChunks ?? 2) : -1;
    const out = pr
      ? new ResponsesWriter(this.engine, res, pr, id, model, dropAfter)
      : new ResponseWriter(this.engine, res, p, id, model, dropAfter);
    const er = e.submit({
      id: internalId,
      promptTokens: p.promptTokens,
      maxTokens: p.maxTokens ?? maxLen - n,
      minTokens: p.minTokens,
      ignoreEos: p.ignoreEos,
      seed: p.seed,
      lora: target.lora,
      kvTransferParams: p.kvTransferParams,
      bootstrapRoom: p.bootstrapRoom,
      onUpdate: (r) => out.update(r),
    });
    out.attach(er);
    res.on('close', () => {
      if (er.state !== 'finished') e.cancel(er);
    });
  }

  /**
   * Embeddings are prefill-only work: each input runs through the engine core as a request that stops at its
   * first token (which is discarded), so it queues, batches, hits the prefix cache and costs prefill time like
   * any prompt. The vectors themselves come from the tokens (embeddings.ts), not from that run.
   */
  private async embeddings(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const e = this.engine;
    const taken = this.takeFault(req, res);
    if (!taken) return;
    const p = parseEmbeddings(await readJson(req), e.tokenizer);
    const target = this.resolveTarget(p.model);
    for (const tokens of p.inputs) this.checkFits(tokens.length, 1);
    const id = `embd-${this.requestId(req)}`;
    const created = Math.floor(Date.now() / 1000);
    const model = p.model ?? e.cfg.servedNames[0];
    let left = p.inputs.length;
    let failed = false;
    const finished = (r: EngineRequest) => {
      if (r.state !== 'finished' || failed) return;
      if (r.finishReason === 'abort') failed = true;
      else if (--left > 0) return;
      if (res.destroyed) return;
      if (failed || taken.fault?.mode === 'drop-mid-stream') res.destroy();
      else sendJson(res, 200, embeddingsBody(p, id, model, created));
    };
    const reqs = p.inputs.map((tokens, i) =>
      e.submit({
        id: `${id}-${i}-${this.nextReq++}`,
        promptTokens: tokens,
        maxTokens: 1,
        minTokens: 0,
        ignoreEos: true,
        lora: target.lora,
        onUpdate: finished,
      }),
    );
    res.on('close', () => {
      for (const r of reqs) if (r.state !== 'finished') e.cancel(r);
    });
  }
}

/** Writes one generation's response: SSE chunks as tokens arrive, or one JSON body at the end. */
class ResponseWriter extends GenerationWriter {
  private readonly head: string;

  constructor(
    engine: Engine,
    res: ServerResponse,
    private readonly p: ParsedGeneration,
    id: string,
    model: string,
    dropAfter: number,
  ) {
    super(engine, res, p.stream, id, model, dropAfter);
    const object = p.kind === 'chat' ? 'chat.completion.chunk' : 'text_completion';
    this.head = `data: {"id":${JSON.stringify(id)},"object":"${object}","created":${this.created},"model":${JSON.stringify(model)},`;
    if (p.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache' });
      res.flushHeaders();
    }
  }

  protected finish(r: EngineRequest): void {
    let kvp: KvTransferParams | null = null;
    if (r.holdBlocksOnFinish) kvp = this.engine.holdForRemoteDecode(r);
    if (this.p.stream) this.finishStream(r, kvp);
    else this.finishJson(r, kvp);
  }

  protected progress(r: EngineRequest): void {
    this.writeTokens(r, null);
  }

  private usage(r: EngineRequest): string {
    return JSON.stringify({
      prompt_tokens: r.numPromptTokens,
      total_tokens: r.numPromptTokens + r.numOutputTokens,
      completion_tokens: r.numOutputTokens,
      prompt_tokens_details: { cached_tokens: r.numCachedTokens },
    });
  }

  private writeTokens(r: EngineRequest, finish: string | null, kvp: KvTransferParams | null = null): void {
    const from = r.numPromptTokens + this.sent;
    const to = r.numPromptTokens + r.numOutputTokens;
    if (this.p.kind === 'chat' && this.writes === 0) {
      this.send(
        `${this.head}"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]}\n\n`,
      );
    }
    const text = JSON.stringify(tokensText(r.tokens, from, to));
    this.sent = r.numOutputTokens;
    const fr = finish === null ? 'null' : `"${finish}"`;
    const usage = this.p.continuousUsage ? `,"usage":${this.usage(r)}` : '';
    const kv = kvp ? `,"kv_transfer_params":${JSON.stringify(kvp)}` : '';
    const choice =
      this.p.kind === 'chat'
        ? `{"index":0,"delta":{"content":${text}},"logprobs":null,"finish_reason":${fr},"stop_reason":null}`
        : `{"index":0,"text":${text},"logprobs":null,"finish_reason":${fr},"stop_reason":null}`;
    this.send(`${this.head}"choices":[${choice}]${usage}${kv}}\n\n`);
  }

  private finishStream(r: EngineRequest, kvp: KvTransferParams | null): void {
    this.writeTokens(r, r.finishReason ?? 'stop', kvp);
    if (this.res.destroyed) return;
    if (this.p.includeUsage) this.send(`${this.head}"choices":[],"usage":${this.usage(r)}}\n\n`);
    if (this.res.destroyed) return;
    this.res.end('data: [DONE]\n\n');
  }

  private finishJson(r: EngineRequest, kvp: KvTransferParams | null): void {
    if (this.dropAfter >= 0) {
      this.res.destroy();
      return;
    }
    const gen = tokensText(r.tokens, r.numPromptTokens, r.numPromptTokens + r.numOutputTokens);
    const usage = JSON.parse(this.usage(r)) as unknown;
    const finish = r.finishReason ?? 'stop';
    const body =
      this.p.kind === 'chat'
        ? {
            id: this.id,
            object: 'chat.completion',
            created: this.created,
            model: this.model,
            choices: [
              {
                index: 0,
                message: { role: 'assistant', content: gen, tool_calls: [], reasoning_content: null },
                logprobs: null,
                finish_reason: finish,
                stop_reason: null,
              },
            ],
            usage,
            prompt_logprobs: null,
            kv_transfer_params: kvp,
          }
        : {
            id: this.id,
            object: 'text_completion',
            created: this.created,
            model: this.model,
            choices: [
              {
                index: 0,
                text: this.p.echo ? this.p.promptText + gen : gen,
                logprobs: null,
                finish_reason: finish,
                stop_reason: null,
                prompt_logprobs: null,
              },
            ],
            usage,
            kv_transfer_params: kvp,
          };
    if (!this.res.destroyed) sendJson(this.res, 200, body);
  }
}

/** The port of a tcp:// replay endpoint (bound with a wildcard host), or null. */
function replayPort(ep: string | null): number | null {
  const m = ep ? /^tcp:\/\/.*:(\d+)$/.exec(ep) : null;
  return m ? Number(m[1]) : null;
}
