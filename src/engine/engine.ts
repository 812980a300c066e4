// One simulated engine without its HTTP surface: configuration, core + loop on a clock, metrics, LoRA
// adapters, PD hand-offs, fault state and KV events. http.ts puts the OpenAI-compatible API on top.
import { randomBytes } from 'node:crypto';
import { extraKey, type ModelTokenizer, SIM_TOKENIZER } from '../tokens/index.js';
import { type Clock, WallClock } from './clock.js';
import { type EngineOptions, type ResolvedConfig, resolveConfig } from './config.js';
import { EngineCore } from './core.js';
import { kvTransferSeconds } from './cost-model.js';
import { EngineLoop } from './engine-loop.js';
import type { KvEvent } from './kv-cache.js';
import { EngineMetrics } from './metrics.js';
import { type BootstrapRoom, bootstrapRoom, engineRegistry } from './pd.js';
import { kvBytesPerToken } from './profiles.js';
import { type EngineRequest, newRequest, type RemotePrefill } from './request.js';
import { mixSeed, sampleOutputLen } from './text-gen.js';

export interface LoraAdapter {
  name: string;
  path: string;
  id: number;
  createdAt: number;
}

/** vLLM-style kv_transfer_params (NixlConnector). */
export interface KvTransferParams {
  do_remote_decode?: boolean;
  do_remote_prefill?: boolean;
  remote_block_ids?: number[] | null;
  remote_engine_id?: string | null;
  remote_request_id?: string | null;
  remote_host?: string | null;
  remote_port?: number | null;
  tp_size?: number;
}

export interface SubmitSpec {
  id: string;
  promptTokens: number[];
  maxTokens: number;
  minTokens: number;
  ignoreEos: boolean;
  seed?: number;
  lora: string | null;
  kvTransferParams?: KvTransferParams | null;
  /** SGLang PD pairing key. */
  bootstrapRoom?: string | null;
  onUpdate: (req: EngineRequest, now: number) => void;
}

export type FaultMode = 'error' | 'hang' | 'slow' | 'drop-mid-stream';
export interface FaultSpec {
  mode: FaultMode;
  /** HTTP status for "error" (default 500). */
  status?: number;
  /** How many requests to affect; omitted = until cleared. */
  count?: number;
  /** Step-time multiplier for "slow" (default 10). */
  factor?: number;
  /** SSE chunks sent before "drop-mid-stream" cuts the connection (default 2). */
  afterChunks?: number;
}

interface HeldTransfer {
  blockIds: number[];
  cancel: () => void;
}

export class Engine {
  readonly cfg: ResolvedConfig;
  readonly clock: Clock;
  readonly core: EngineCore;
  readonly loop: EngineLoop;
  readonly metrics: EngineMetrics;
  readonly engineId: string;
  readonly loras = new Map<string, LoraAdapter>();
  readonly log: (line: string) => void;
  /** host/port the HTTP server is reachable at (set by http.ts once listening). */
  host = '127.0.0.1';
  port = 0;
  fault: (FaultSpec & { remaining: number }) | null = null;
  /** Blocks held for remote decode, by request id (prefill side of PD). */
  readonly held = new Map<string, HeldTransfer>();
  private nextLoraId = 1;
  /** Requests still in the frontend delay (not yet in the engine queue). */
  private readonly pending = new Set<EngineRequest>();
  private kvEventSink: ((events: KvEvent[]) => void) | null = null;
  private closed = false;

  /** Bound KV-event replay endpoint, announced on /v1/models (set by startEngine). */
  kvEventsReplayEndpoint: string | null = null;
  /** How prompts become token ids: the simulator's tokenizer, or a real model's (--tokenizer). */
  readonly tokenizer: ModelTokenizer;

  constructor(readonly options: EngineOptions) {
    this.cfg = resolveConfig(options);
    if (typeof options.tokenizer === 'string')
      throw new Error('tokenizer paths are loaded by startEngine; pass a loaded tokenizer to new Engine()');
    this.tokenizer = options.tokenizer ?? SIM_TOKENIZER;
    this.clock = options.clock ?? new WallClock(this.cfg.speedup);
    this.log = options.log ?? (() => {});
    this.engineId = options.engineId ?? `sim-${randomBytes(6).toString('hex')}`;
    const c = this.cfg;
    this.core = new EngineCore({
      blockSize: c.blockSize,
      numGpuBlocks: c.numGpuBlocks,
      maxNumSeqs: c.maxNumSeqs,
      maxNumBatchedTokens: c.maxNumBatchedTokens,
      maxModelLen: c.maxModelLen,
      enablePrefixCaching: c.enablePrefixCaching,
      maxLoras: c.maxLoras,
      hashSeed: 0,
      coefficients: c.coefficients,
    });
    this.metrics = new EngineMetrics(this.core, {
      engine: c.engine,
      modelName: c.servedNames[0],
      maxModelLen: c.maxModelLen,
      maxLoras: c.maxLoras,
      cacheConfig: {
        block_size: String(c.blockSize),
        cache_dtype: 'auto',
        enable_prefix_caching: String(c.enablePrefixCaching ? 'True' : 'False'),
        gpu_memory_utilization: String(c.gpuMemoryUtilization),
        num_gpu_blocks: String(c.numGpuBlocks),
        num_cpu_blocks: '0',
        prefix_caching_hash_algo: 'kthena-sim53',
        sliding_window: 'None',
        swap_space: '4',
      },
      loraState: () => this.loraState(),
      wallSeconds: () => Date.now() / 1000,
    });
    this.core.setListener(this.metrics);
    this.loop = new EngineLoop(this.core, this.clock);
    for (const [name, path] of Object.entries(options.loraModules ?? {})) this.loadLora(name, path);
    engineRegistry.set(this.engineId, this);
  }

  /** Routes KV events of every step to `sink` (enables recording in the cache). */
  setKvEventSink(sink: (events: KvEvent[]) => void): void {
    this.kvEventSink = sink;
    this.core.kv.enableEvents();
    this.loop.afterStep = () => {
      const ev = this.core.kv.drainEvents();
      if (ev.length > 0) sink(ev);
    };
  }

  hasKvEventSink(): boolean {
    return this.kvEventSink !== null;
  }

  /** Model names the API accepts: served names and loaded adapters. */
  resolveModel(name: string | undefined): { lora: string | null } | null {
    if (name === undefined || this.cfg.servedNames.includes(name)) return { lora: null };
    if (this.loras.has(name)) return { lora: name };
    return null;
  }

  loadLora(name: string, path: string): LoraAdapter {
    const a: LoraAdapter = { name, path, id: this.nextLoraId++, createdAt: Math.floor(Date.now() / 1000) };
    this.loras.set(name, a);
    return a;
  }

  /** Unloads an adapter: new requests get 404; requests already using it run to completion. */
  unloadLora(name: string): boolean {
    if (!this.loras.delete(name)) return false;
    this.core.evictLora(name);
    return true;
  }

  loraState(): { running: string[]; waiting: string[] } {
    const running = new Set<string>();
    const waiting = new Set<string>();
    for (const r of this.core.running) if (r.lora) running.add(r.lora);
    for (const r of this.core.waiting) if (r.lora) waiting.add(r.lora);
    return { running: [...running], waiting: [...waiting] };
  }

  /** Output length the request will produce (before max_tokens), deterministic for the engine seed. */
  private targetLength(spec: SubmitSpec): number {
    if (spec.ignoreEos) return spec.maxTokens;
    let seed: number;
    if (spec.seed !== undefined) seed = mixSeed(this.cfg.seed, spec.seed);
    else {
      let h = spec.promptTokens.length;
      for (const t of spec.promptTokens) h = (Math.imul(h, 31) + t) | 0;
      seed = mixSeed(this.cfg.seed, h);
    }
    const n = sampleOutputLen(this.cfg.outputLen, seed);
    return Math.max(spec.minTokens, Math.min(n, spec.maxTokens));
  }

  /** Creates the request and queues it after the frontend overhead; returns it at once. */
  submit(spec: SubmitSpec): EngineRequest {
    const seed = mixSeed(
      this.cfg.seed,
      spec.seed ?? spec.promptTokens.length,
      spec.promptTokens[spec.promptTokens.length - 1] ?? 0,
    );
    const kvp = spec.kvTransferParams;
    const req = newRequest({
      id: spec.id,
      promptTokens: spec.promptTokens,
      maxTokens: spec.maxTokens,
      targetOutputTokens: this.targetLength(spec),
      lora: spec.lora,
      extraKey: extraKey(spec.lora),
      seed,
      holdBlocksOnFinish: kvp?.do_remote_decode === true,
      onUpdate: spec.onUpdate,
    });
    const received = this.clock.now();
    req.receivedTime = received;
    req.state = 'waiting';
    this.pending.add(req);
    const enqueue = (remote: RemotePrefill | null) => {
      if (!this.pending.delete(req) || this.closed) return;
      req.remote = remote;
      this.loop.submit(req);
    };
    const readyAt = received + this.cfg.profile.requestOverheadSec;
    if (kvp?.do_remote_prefill && Array.isArray(kvp.remote_block_ids) && kvp.remote_block_ids.length > 0) {
      const remote = this.nixlRemote(req, kvp);
      this.clock.at(readyAt, () => enqueue(remote));
    } else if (spec.bootstrapRoom && this.cfg.role === 'decode') {
      this.awaitBootstrap(req, spec.bootstrapRoom, readyAt, enqueue);
    } else {
      if (spec.bootstrapRoom && this.cfg.role === 'prefill') this.signalBootstrapOnFirstToken(req, spec.bootstrapRoom);
      this.clock.at(readyAt, () => enqueue(null));
    }
    return req;
  }

  cancel(req: EngineRequest): void {
    if (req.state === 'finished') return;
    if (this.pending.delete(req)) {
      // Still in the frontend delay: the enqueue timer will drop it.
      req.finishReason = 'abort';
      req.state = 'finished';
      req.onUpdate?.(req, this.clock.now());
      return;
    }
    this.loop.abort(req);
  }

  private nixlRemote(req: EngineRequest, kvp: KvTransferParams): RemotePrefill {
    const bs = this.cfg.blockSize;
    const ext = Math.min(req.numPromptTokens - 1, (kvp.remote_block_ids?.length ?? 0) * bs);
    const remoteEngine = kvp.remote_engine_id ?? '';
    const remoteReq = kvp.remote_request_id ?? '';
    return {
      numExternalTokens: Math.max(0, ext),
      transferSeconds: kvTransferSeconds(this.cfg.profile, Math.max(0, ext)),
      onPulled: () => engineRegistry.get(remoteEngine)?.releaseHeld(remoteReq),
    };
  }

  /** Called by http.ts when a do_remote_decode request finished: keep its blocks for the decode side. */
  holdForRemoteDecode(req: EngineRequest): KvTransferParams {
    const blockIds = req.blockIds.slice();
    req.blockIds = [];
    const timer = this.clock.at(this.clock.now() + this.cfg.kvTransferTimeoutSec, () => this.releaseHeld(req.id));
    this.held.set(req.id, { blockIds, cancel: () => timer.cancel() });
    return {
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: blockIds,
      remote_engine_id: this.engineId,
      remote_request_id: req.id,
      remote_host: this.host,
      remote_port: this.port,
      tp_size: this.cfg.profile.tensorParallel,
    };
  }

  /** Frees blocks held for a remote decode (pulled, or timed out). */
  releaseHeld(requestId: string): boolean {
    const h = this.held.get(requestId);
    if (!h) return false;
    this.held.delete(requestId);
    h.cancel();
    this.core.kv.freeBlocks(h.blockIds);
    return true;
  }

  private signalBootstrapOnFirstToken(req: EngineRequest, room: string): void {
    const inner = req.onUpdate;
    let signalled = false;
    req.onUpdate = (r, now) => {
      if (!signalled && (r.firstTokenTime >= 0 || r.state === 'finished')) {
        signalled = true;
        bootstrapRoom(room).complete(r.numPromptTokens, r.finishReason === 'abort');
      }
      inner?.(r, now);
    };
  }

  private awaitBootstrap(
    req: EngineRequest,
    room: string,
    readyAt: number,
    enqueue: (remote: RemotePrefill | null) => void,
  ): void {
    const r: BootstrapRoom = bootstrapRoom(room);
    const timeout = this.clock.at(readyAt + 30, () => enqueue(null));
    r.wait((numTokens, failed) => {
      timeout.cancel();
      const at = Math.max(readyAt, this.clock.now());
      if (failed) {
        this.clock.at(at, () => enqueue(null));
        return;
      }
      const bs = this.cfg.blockSize;
      const ext = Math.min(req.numPromptTokens - 1, Math.floor(Math.min(numTokens, req.numPromptTokens) / bs) * bs);
      const remote: RemotePrefill | null =
        ext > 0 ? { numExternalTokens: ext, transferSeconds: kvTransferSeconds(this.cfg.profile, ext) } : null;
      this.clock.at(at, () => enqueue(remote));
    });
  }

  /** Sets or clears the injected fault. */
  setFault(f: FaultSpec | null): void {
    this.fault = f ? { ...f, remaining: f.count ?? Number.POSITIVE_INFINITY } : null;
    this.core.slowFactor = f?.mode === 'slow' ? (f.factor ?? 10) : 1;
  }

  /** Takes one unit of the current request-level fault, if any. */
  takeFault(): (FaultSpec & { remaining: number }) | null {
    const f = this.fault;
    if (!f || f.mode === 'slow') return null;
    if (f.remaining <= 0) return null;
    f.remaining--;
    if (f.remaining <= 0) this.fault = null;
    return f;
  }

  kvBytesPerToken(): number {
    return kvBytesPerToken(this.cfg.profile.arch);
  }

  close(): void {
    this.closed = true;
    this.loop.close();
    for (const id of [...this.held.keys()]) this.releaseHeld(id);
    engineRegistry.delete(this.engineId);
  }
}
