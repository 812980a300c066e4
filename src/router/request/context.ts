// Everything known about one request as it moves through the pipeline. Admission stages and scheduler plugins read it.
// What one stage works out for later ones is a declared field here (typed, documented, found by grep); state that only
// one stage or plugin needs between its own hooks stays inside that stage, keyed by the context (a WeakMap).
import type { IncomingHttpHeaders } from 'node:http';
import { errors } from '../errors.js';
import type { RouteMatch } from '../routing/match.js';
import type { ModelServer } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';
import type { DecisionRecord } from './decision.js';
import { estimateTokens, extractPrompt, type Prompt, promptString } from './prompt.js';

export interface RequestContext {
  readonly id: string;
  readonly method: string;
  /** URL path without query. */
  readonly path: string;
  /** Path plus query string, as forwarded upstream. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  /** Raw request body and its parsed JSON object (parsed once). */
  readonly raw: Buffer;
  readonly body: Record<string, unknown>;
  /** The `model` the client asked for. */
  readonly model: string;
  readonly prompt: Prompt | undefined;
  /** Prompt string used for hashing (text, or ChatML for chat). */
  readonly promptText: string;
  readonly inputTokens: number;
  readonly stream: boolean;
  /** Authenticated user id, when an auth stage sets one. */
  user?: string;
  route?: RouteMatch;
  serverKey?: string;
  server?: ModelServer;
  /** The model name sent to the engine (ModelServer.spec.model unless LoRA). */
  upstreamModel: string;
  isLora: boolean;
  /** Aborted when the client goes away. */
  readonly signal: AbortSignal;
  readonly startedAt: number;
  /** The client's socket address (the per-client concurrency cap); '' when unknown. */
  clientAddress: string;
  /** Priority tier set by the auth stage (src/router/policy/identity.ts): higher is served first; 0 when anonymous. */
  tier: number;
  /** The prompt's token ids as the engine will see them (kvindex/awareness.ts, memoised per request). */
  tokenIds?: number[];
  /** Prompt length when only a prefix's ids are known (remote tokenizer + estimate of the last message). */
  promptLen?: number;
  /** Chained block hashes of `tokenIds`, per block size (kvindex/awareness.ts, memoised per request). */
  blockHashes?: Map<number, number[]>;
  /** The prefix-cache plugin's chunk hashes of `promptText` (memoised per request). */
  prefixHashes?: bigint[];
  /** The kvcache-aware plugin's view of the prompt's blocks in Redis: owners per block (reset per scheduling). */
  kvOwners?: { owners: Set<string>[]; blocks: number };
  /** Session key (ModelServer + user + session id), '' when the request has no session (session/affinity.ts). */
  sessionKey?: string;
  /** The latency predictor's last decision for this request (debug view, the twin's traces). */
  latencyDecision?: DecisionRecord;
  /** Prefill/decode: the pair that answered (src/router/pd). */
  pdPair?: { prefill: ServerEndpoint; decode: ServerEndpoint; connector: string };
}

export interface ResponseOutcome {
  endpoint?: ServerEndpoint;
  /** `ns/name` of the ExternalModelProvider that answered (instead of an endpoint), src/router/providers. */
  provider?: string;
  status: number;
  ok: boolean;
  aborted: boolean;
  promptTokens?: number;
  completionTokens?: number;
  /** Engine-reported prompt tokens served from its prefix cache. */
  cachedTokens?: number;
  ttftMs?: number;
  tpotMs?: number;
  /** SSE data events relayed to the client (≈ output tokens when usage is missing, e.g. an aborted stream). */
  streamedEvents?: number;
}

/** The field a request without a usable prompt is missing: the one it sent, else the one its path expects. */
function promptParam(body: Record<string, unknown>, path: string | undefined): 'prompt' | 'messages' | 'input' {
  if ('messages' in body) return 'messages';
  if ('prompt' in body) return 'prompt';
  if ('input' in body) return 'input';
  if (path?.endsWith('/completions') && !path.endsWith('/chat/completions')) return 'prompt';
  if (path?.endsWith('/responses') || path?.endsWith('/embeddings')) return 'input';
  return 'messages';
}

/** What a request context is built from: the parsed body plus what the transport knows. */
export interface ContextInput {
  id: string;
  body: Record<string, unknown>;
  /** The client's `model` (already checked to be a non-empty string). */
  model: string;
  /** The model is a LoRA adapter name rather than a base model of some route. */
  isLora: boolean;
  /** Monotonic milliseconds at arrival. */
  startedAt: number;
  path?: string;
  method?: string;
  url?: string;
  headers?: IncomingHttpHeaders;
  /** The body's bytes; default: the body serialised again. */
  raw?: Buffer;
  signal?: AbortSignal;
  /** The client's socket address; default ''. */
  clientAddress?: string;
}

/**
 * The per-request context from a parsed OpenAI body: prompt, its hashing text and estimated tokens, stream flag. The
 * HTTP handler and the twin (src/twin) build contexts only here. Throws the router's prompt_not_found error when the
 * body carries no prompt or messages.
 */
export function buildRequestContext(i: ContextInput): RequestContext {
  const prompt = extractPrompt(i.body, i.path);
  if (!prompt) throw errors.promptNotFound(promptParam(i.body, i.path));
  const text = promptString(prompt);
  const path = i.path ?? '/v1/completions';
  return {
    id: i.id,
    method: i.method ?? 'POST',
    path,
    url: i.url ?? path,
    headers: { ...i.headers, 'x-request-id': i.id },
    raw: i.raw ?? Buffer.from(JSON.stringify(i.body)),
    body: i.body,
    model: i.model,
    prompt,
    promptText: text,
    inputTokens: estimateTokens(text),
    stream: i.body.stream === true,
    upstreamModel: i.model,
    isLora: i.isLora,
    signal: i.signal ?? new AbortController().signal,
    startedAt: i.startedAt,
    clientAddress: i.clientAddress ?? '',
    tier: 0,
  };
}
