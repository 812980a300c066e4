// Small builders for unit tests of the scheduler and plugins.
import type { RequestContext } from '../request/context.js';
import { EndpointState } from '../store/endpoint-state.js';
import type { ServerEndpoint } from '../store/store.js';

export function ep(
  name: string,
  over: Partial<EndpointState['metrics']> & { inflight?: number; models?: string[] } = {},
): ServerEndpoint {
  const s = new EndpointState(`default/${name}`, 'default', name, '127.0.0.1', 8000, 'vLLM', {});
  s.metrics = { kvCacheUsage: 0, waiting: 0, running: 0, ttft: 0, tpot: 0, ...over };
  s.inflight = over.inflight ?? 0;
  s.models = new Set(over.models ?? []);
  return { state: s, port: 8000, origin: s.origin };
}

export function ctxFor(model: string, promptText = '', over: Partial<RequestContext> = {}): RequestContext {
  return {
    id: 'req',
    method: 'POST',
    path: '/v1/completions',
    url: '/v1/completions',
    headers: {},
    raw: Buffer.alloc(0),
    body: {},
    model,
    prompt: { kind: 'text', text: promptText },
    promptText,
    inputTokens: 0,
    stream: false,
    upstreamModel: model,
    isLora: false,
    signal: new AbortController().signal,
    startedAt: 0,
    clientAddress: '',
    tier: 0,
    ...over,
  };
}

/** Deterministic PRNG (mulberry32) for tests that need a seeded `rand`. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
