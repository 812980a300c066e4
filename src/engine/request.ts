// The engine's view of one request, shared by the scheduler, the KV cache and the HTTP layer.

export type FinishReason = 'stop' | 'length' | 'abort';

/** Remote-prefill hand-off for a decode request (NixlConnector-style or SGLang bootstrap). */
export interface RemotePrefill {
  /** Prompt tokens whose KV arrives from elsewhere (rounded down to full blocks, never the last token). */
  numExternalTokens: number;
  /** Simulated seconds to pull those blocks. */
  transferSeconds: number;
  /** Called once the blocks are pulled, so the prefill side can free them. */
  onPulled?: () => void;
}

export interface EngineRequest {
  id: string;
  /** prompt token ids followed by generated token ids. */
  tokens: number[];
  numPromptTokens: number;
  /** Tokens whose KV is in the cache (computed, cached or transferred). */
  numComputedTokens: number;
  /** Prompt tokens found in the prefix cache on first scheduling (reported as cached_tokens). */
  numCachedTokens: number;
  numOutputTokens: number;
  /** Stop after this many output tokens (max_tokens, or the sampled "EOS" length). */
  targetOutputTokens: number;
  /** Upper bound from max_tokens: reaching it is finish_reason "length", otherwise "stop". */
  maxTokens: number;
  lora: string | null;
  /** Hash key mixed into block hashes (LoRA). */
  extraKey: number;
  /** KV block ids, in token order. */
  blockIds: number[];
  /** Chained hashes of full blocks computed so far (reused after preemption). */
  blockHashes: number[];
  /** How many of blockIds have been offered to the prefix cache. */
  numCachedBlocks: number;
  remote: RemotePrefill | null;
  /** Keep blocks after finishing (prefill side of PD) instead of freeing them. */
  holdBlocksOnFinish: boolean;
  state: 'waiting' | 'loading' | 'running' | 'finished';
  finishReason: FinishReason | null;
  /** Deterministic per-request PRNG state for sampled tokens. */
  rngState: number;
  // Timestamps in simulated seconds.
  /** When the frontend received the request (TTFT and E2E start here); -1 = same as arrivalTime. */
  receivedTime: number;
  /** When it entered the engine's waiting queue. */
  arrivalTime: number;
  firstScheduledTime: number;
  lastScheduledTime: number;
  firstTokenTime: number;
  lastTokenTime: number;
  finishTime: number;
  numPreemptions: number;
  prefixQueried: boolean;
  /** Called after each step that produced tokens for (or finished) this request. */
  onUpdate: ((req: EngineRequest, now: number) => void) | null;
}

export interface NewRequestInit {
  id: string;
  promptTokens: number[];
  maxTokens: number;
  targetOutputTokens: number;
  lora?: string | null;
  extraKey?: number;
  seed: number;
  remote?: RemotePrefill | null;
  holdBlocksOnFinish?: boolean;
  onUpdate?: ((req: EngineRequest, now: number) => void) | null;
}

export function newRequest(init: NewRequestInit): EngineRequest {
  return {
    id: init.id,
    tokens: init.promptTokens.slice(),
    numPromptTokens: init.promptTokens.length,
    numComputedTokens: 0,
    numCachedTokens: 0,
    numOutputTokens: 0,
    targetOutputTokens: Math.max(1, Math.min(init.targetOutputTokens, init.maxTokens)),
    maxTokens: init.maxTokens,
    lora: init.lora ?? null,
    extraKey: init.extraKey ?? 0,
    blockIds: [],
    blockHashes: [],
    numCachedBlocks: 0,
    remote: init.remote ?? null,
    holdBlocksOnFinish: init.holdBlocksOnFinish ?? false,
    state: 'waiting',
    finishReason: null,
    rngState: init.seed >>> 0 || 1,
    receivedTime: -1,
    arrivalTime: 0,
    firstScheduledTime: -1,
    lastScheduledTime: -1,
    firstTokenTime: -1,
    lastTokenTime: -1,
    finishTime: -1,
    numPreemptions: 0,
    prefixQueried: false,
    onUpdate: init.onUpdate ?? null,
  };
}
