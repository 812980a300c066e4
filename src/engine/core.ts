// The engine core: one continuous-batching scheduler step at a time, with vLLM V1 semantics.
//
// schedule(now):
//   1. running requests first, in order: each asks for all its not-yet-computed tokens (1 for a decode, the
//      rest of the prompt for a chunked prefill) within the token budget; when the KV pool is short the LAST
//      running request is preempted (blocks freed, back to the front of the waiting queue, recomputed later);
//   2. then, if nothing was preempted, waiting requests FCFS while max_num_seqs and the token budget allow:
//      longest cached prefix first, the rest chunked to the remaining budget; a request whose LoRA adapter
//      would exceed max_loras in this batch is skipped (kept in order) — vLLM does the same.
// complete(end): every scheduled request advances by its tokens; one that caught up with its known tokens
//   samples a new token (the first one ends its prefill); finished requests free their blocks (or hold them
//   for a PD hand-off). The step's duration comes from the cost model.
// Nothing here reads a clock: the caller passes times, so tests drive it step by step.
import { type StepCoefficients, type StepShape, stepSeconds } from './cost-model.js';
import { KvCache } from './kv-cache.js';
import type { EngineRequest } from './request.js';
import { GEN_TOKEN_IDS, xorshift32 } from './text-gen.js';

export interface CoreConfig {
  blockSize: number;
  numGpuBlocks: number;
  maxNumSeqs: number;
  maxNumBatchedTokens: number;
  maxModelLen: number;
  enablePrefixCaching?: boolean;
  maxLoras?: number;
  hashSeed?: number;
  coefficients: StepCoefficients;
}

/** Observers of request and step lifecycle (metrics); every method optional. */
export interface CoreListener {
  onScheduledFirst?(req: EngineRequest, now: number): void;
  onFirstToken?(req: EngineRequest, now: number): void;
  onToken?(req: EngineRequest, now: number, gapSec: number): void;
  onFinish?(req: EngineRequest, now: number): void;
  onPreempt?(req: EngineRequest): void;
  onPrefixLookup?(queried: number, hit: number): void;
  onStep?(tokens: number, seconds: number): void;
}

export interface StepStats {
  numScheduled: number;
  prefillTokens: number;
  decodeTokens: number;
  kvTokensRead: number;
  loraLoads: number;
  preempted: number;
}

export class EngineCore {
  readonly cfg: Required<Omit<CoreConfig, 'coefficients'>> & { coefficients: StepCoefficients };
  readonly kv: KvCache;
  readonly waiting: EngineRequest[] = [];
  readonly running: EngineRequest[] = [];
  readonly loading: { req: EngineRequest; readyAt: number }[] = [];
  /** Adapters resident on the GPU, least recently used first. */
  readonly residentLoras: string[] = [];
  /** Multiplies step time (fault injection "slow"). */
  slowFactor = 1;
  numPreemptions = 0;
  lastStep: StepStats = {
    numScheduled: 0,
    prefillTokens: 0,
    decodeTokens: 0,
    kvTokensRead: 0,
    loraLoads: 0,
    preempted: 0,
  };
  private listener: CoreListener;
  // The step in flight (between schedule and complete); parallel arrays avoid per-step objects.
  private schedReqs: EngineRequest[] = [];
  private schedTokens: number[] = [];
  private inFlight = false;
  private readonly shape: StepShape = { prefillTokens: 0, kvTokensRead: 0, numSeqs: 0, loraLoads: 0 };

  constructor(cfg: CoreConfig, listener: CoreListener = {}) {
    if (!(cfg.maxNumSeqs >= 1) || !(cfg.maxNumBatchedTokens >= 1)) throw new Error('bad scheduler limits');
    this.cfg = {
      enablePrefixCaching: true,
      maxLoras: 1,
      hashSeed: 0,
      ...cfg,
    };
    this.kv = new KvCache({
      numBlocks: cfg.numGpuBlocks,
      blockSize: cfg.blockSize,
      enablePrefixCaching: this.cfg.enablePrefixCaching,
      hashSeed: this.cfg.hashSeed,
    });
    this.listener = listener;
  }

  setListener(listener: CoreListener): void {
    this.listener = listener;
  }

  /** Adds a request at time `now` (its arrival). */
  add(req: EngineRequest, now: number): void {
    if (req.tokens.length >= this.cfg.maxModelLen) throw new Error('prompt does not fit max_model_len');
    req.arrivalTime = now;
    req.state = 'waiting';
    this.waiting.push(req);
  }

  hasWork(): boolean {
    return this.waiting.length > 0 || this.running.length > 0;
  }

  isIdle(): boolean {
    return !this.hasWork() && this.loading.length === 0;
  }

  /**
   * When an idle step at `now` should be retried: the earliest remote-KV arrival or the arrival of a waiting
   * request that is still in the future of a catching-up loop. Infinity if nothing is pending.
   */
  nextReadyTime(now = Number.NEGATIVE_INFINITY): number {
    let t = Number.POSITIVE_INFINITY;
    for (const l of this.loading) if (l.readyAt < t) t = l.readyAt;
    if (this.waiting.length > 0 && this.waiting[0].arrivalTime > now && this.waiting[0].arrivalTime < t)
      t = this.waiting[0].arrivalTime;
    return t;
  }

  /**
   * Aborts a request (client went away). Safe at any time; a request in the step in flight is finished
   * when that step completes.
   */
  abort(req: EngineRequest, now: number): void {
    if (req.state === 'finished') return;
    req.finishReason = 'abort';
    if (req.state === 'waiting') {
      const i = this.waiting.indexOf(req);
      if (i >= 0) this.waiting.splice(i, 1);
      this.finish(req, now);
    } else if (req.state === 'loading') {
      const i = this.loading.findIndex((l) => l.req === req);
      if (i >= 0) this.loading.splice(i, 1);
      req.remote?.onPulled?.();
      this.finish(req, now);
    } else if (!this.inFlight || !this.schedReqs.includes(req)) {
      const i = this.running.indexOf(req);
      if (i >= 0) this.running.splice(i, 1);
      this.finish(req, now);
    }
    // else: complete() sees finishReason and finishes it.
  }

  /**
   * Schedules one step at `now`. Returns its duration in simulated seconds, or -1 when nothing can run
   * (idle, or only remote KV loads pending — see nextReadyTime()).
   */
  schedule(now: number): number {
    if (this.inFlight) throw new Error('a step is already in flight');
    this.promoteLoaded(now);
    const cfg = this.cfg;
    const kv = this.kv;
    const reqs = this.schedReqs;
    const toks = this.schedTokens;
    reqs.length = 0;
    toks.length = 0;
    let budget = cfg.maxNumBatchedTokens;
    let prefillTokens = 0;
    let decodeTokens = 0;
    let kvRead = 0;
    let preempted = 0;
    const batchLoras: string[] = [];

    // 1. Running requests.
    for (let i = 0; i < this.running.length && budget > 0; i++) {
      const req = this.running[i];
      let n = Math.min(req.tokens.length - req.numComputedTokens, budget);
      if (n <= 0) continue;
      let scheduled = true;
      while (!kv.allocate(req, n)) {
        const victim = this.running.pop()!;
        this.preempt(victim);
        preempted++;
        if (victim === req) {
          scheduled = false;
          break;
        }
      }
      if (!scheduled) break;
      n = Math.min(n, req.tokens.length - req.numComputedTokens);
      // vLLM V1 (kv_cache_manager.allocate_slots) caches the blocks this step will fill at scheduling time.
      kv.cacheFullBlocks(req, req.numComputedTokens + n);
      reqs.push(req);
      toks.push(n);
      budget -= n;
      if (req.numComputedTokens < req.numPromptTokens || n > 1) prefillTokens += n;
      else decodeTokens += n;
      kvRead += req.numComputedTokens;
      if (req.lora && !batchLoras.includes(req.lora)) batchLoras.push(req.lora);
      req.lastScheduledTime = now;
    }

    // 2. Waiting requests, unless this step preempted (vLLM V1 skips admission then).
    if (preempted === 0) {
      let skipped: EngineRequest[] | null = null;
      while (this.waiting.length > 0 && budget > 0 && this.running.length < cfg.maxNumSeqs) {
        const req = this.waiting[0];
        // A loop catching up after host lag may start a step "in the past": never admit a request before it arrived.
        if (req.arrivalTime > now) break;
        if (req.lora && !batchLoras.includes(req.lora) && batchLoras.length >= cfg.maxLoras) {
          skipped ??= [];
          skipped.push(this.waiting.shift()!);
          continue;
        }
        const first = req.numComputedTokens === 0;
        const hits = first && req.blockIds.length === 0 ? kv.findCachedPrefix(req) : [];
        const hitTokens = hits.length * kv.blockSize;
        if (req.remote && req.state === 'waiting' && req.numComputedTokens === 0) {
          // Remote prefill: hold blocks for the transferred prefix and wait for the pull.
          const ext = Math.max(0, req.remote.numExternalTokens - hitTokens);
          if (!kv.allocate(req, ext, hits)) break;
          this.waiting.shift();
          this.recordPrefix(req, hitTokens);
          req.numCachedTokens = hitTokens;
          req.state = 'loading';
          if (req.firstScheduledTime < 0) {
            req.firstScheduledTime = now;
            this.listener.onScheduledFirst?.(req, now);
          }
          this.loading.push({ req, readyAt: now + (ext > 0 ? req.remote.transferSeconds : 0) });
          continue;
        }
        const n = Math.min(req.tokens.length - req.numComputedTokens - hitTokens, budget);
        if (!kv.allocate(req, n, hits)) break;
        this.waiting.shift();
        if (!req.prefixQueried) {
          req.prefixQueried = true;
          req.numCachedTokens = hitTokens;
          this.recordPrefix(req, hitTokens);
        }
        req.numComputedTokens += hitTokens;
        // As above: blocks this step fills are cached now, so a same-prefix request later in this very step hits them.
        kv.cacheFullBlocks(req, req.numComputedTokens + n);
        req.state = 'running';
        this.running.push(req);
        if (req.firstScheduledTime < 0) {
          req.firstScheduledTime = now;
          this.listener.onScheduledFirst?.(req, now);
        }
        req.lastScheduledTime = now;
        reqs.push(req);
        toks.push(n);
        budget -= n;
        prefillTokens += n;
        kvRead += req.numComputedTokens;
        if (req.lora && !batchLoras.includes(req.lora)) batchLoras.push(req.lora);
      }
      if (skipped) this.waiting.unshift(...skipped);
    }

    if (reqs.length === 0) return -1;
    const loraLoads = this.touchLoras(batchLoras);
    const st = this.lastStep;
    st.numScheduled = reqs.length;
    st.prefillTokens = prefillTokens;
    st.decodeTokens = decodeTokens;
    st.kvTokensRead = kvRead;
    st.loraLoads = loraLoads;
    st.preempted = preempted;
    this.inFlight = true;
    const st2 = this.shape;
    st2.prefillTokens = prefillTokens;
    st2.kvTokensRead = kvRead;
    st2.numSeqs = reqs.length;
    st2.loraLoads = loraLoads;
    const dur = stepSeconds(cfg.coefficients, st2, this.slowFactor);
    this.listener.onStep?.(prefillTokens + decodeTokens, dur);
    return dur;
  }

  /** Applies the in-flight step's results at time `end`. Returns the requests that were updated. */
  complete(end: number): readonly EngineRequest[] {
    if (!this.inFlight) return [];
    this.inFlight = false;
    const reqs = this.schedReqs;
    const toks = this.schedTokens;
    const kv = this.kv;
    let anyFinished = false;
    for (let i = 0; i < reqs.length; i++) {
      const req = reqs[i];
      if (req.state !== 'running') continue; // preempted or aborted meanwhile
      if (req.finishReason === 'abort') {
        anyFinished = true;
        continue;
      }
      req.numComputedTokens += toks[i];
      if (req.numComputedTokens >= req.tokens.length) {
        // Caught up: sample one token.
        req.rngState = xorshift32(req.rngState);
        req.tokens.push(GEN_TOKEN_IDS[req.rngState % GEN_TOKEN_IDS.length]);
        req.numOutputTokens++;
        if (req.firstTokenTime < 0) {
          req.firstTokenTime = end;
          this.listener.onFirstToken?.(req, end);
        } else {
          this.listener.onToken?.(req, end, end - req.lastTokenTime);
        }
        req.lastTokenTime = end;
        if (req.numOutputTokens >= req.targetOutputTokens) {
          req.finishReason = req.numOutputTokens >= req.maxTokens ? 'length' : 'stop';
          anyFinished = true;
        } else if (req.tokens.length >= this.cfg.maxModelLen) {
          req.finishReason = 'length';
          anyFinished = true;
        }
      }
      kv.cacheFullBlocks(req);
    }
    if (anyFinished) {
      let w = 0;
      for (let r = 0; r < this.running.length; r++) {
        const req = this.running[r];
        if (req.finishReason !== null) this.finish(req, end);
        else this.running[w++] = req;
      }
      this.running.length = w;
    }
    for (let i = 0; i < reqs.length; i++) reqs[i].onUpdate?.(reqs[i], end);
    return reqs;
  }

  /** Schedules and completes one step starting at `now`; returns its end time, or -1 if idle. For tests. */
  runStep(now: number): number {
    const d = this.schedule(now);
    if (d < 0) return -1;
    this.complete(now + d);
    return now + d;
  }

  private finish(req: EngineRequest, now: number): void {
    req.state = 'finished';
    req.finishTime = now;
    if (!req.holdBlocksOnFinish || req.finishReason === 'abort') this.kv.freeRequest(req);
    this.listener.onFinish?.(req, now);
    if (req.finishReason === 'abort') req.onUpdate?.(req, now);
  }

  private preempt(req: EngineRequest): void {
    this.kv.freeRequest(req);
    req.numComputedTokens = 0;
    req.state = 'waiting';
    req.numPreemptions++;
    this.numPreemptions++;
    this.waiting.unshift(req);
    this.listener.onPreempt?.(req);
  }

  private recordPrefix(req: EngineRequest, hitTokens: number): void {
    this.listener.onPrefixLookup?.(req.tokens.length, hitTokens);
  }

  /** Moves remote-prefill requests whose KV has arrived to the front of the waiting queue. */
  private promoteLoaded(now: number): void {
    if (this.loading.length === 0) return;
    for (let i = this.loading.length - 1; i >= 0; i--) {
      const { req, readyAt } = this.loading[i];
      if (readyAt > now) continue;
      this.loading.splice(i, 1);
      const ext = Math.max(req.remote?.numExternalTokens ?? 0, req.numCachedTokens);
      req.numComputedTokens = Math.min(ext, req.tokens.length - 1);
      req.prefixQueried = true;
      req.remote?.onPulled?.();
      req.remote = null;
      req.state = 'waiting';
      this.waiting.unshift(req);
    }
  }

  /** Makes the batch's adapters resident; returns how many had to be loaded. */
  private touchLoras(batch: readonly string[]): number {
    let loads = 0;
    for (const name of batch) {
      const i = this.residentLoras.indexOf(name);
      if (i >= 0) this.residentLoras.splice(i, 1);
      else loads++;
      this.residentLoras.push(name);
    }
    while (this.residentLoras.length > this.cfg.maxLoras) this.residentLoras.shift();
    return loads;
  }

  /** Forgets an adapter's GPU residency (after unload). */
  evictLora(name: string): void {
    const i = this.residentLoras.indexOf(name);
    if (i >= 0) this.residentLoras.splice(i, 1);
  }
}
