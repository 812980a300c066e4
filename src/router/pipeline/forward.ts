// Phase 6 of the aggregated path, forward: the ModelServer's traffic policy (timeout, retries) as a proxy plan, the
// upstream body (usage requested for streams), then the proxy with failover before the first byte and streaming with
// backpressure after it; every attempt is accounted by the one attempt bookkeeping (attemptHooks,
// src/router/scheduler/lifecycle.ts).

import { buildUpstreamBody, type ProxyResult, proxyWithFailover, upstreamHeaders } from '../proxy/forward.js';
import { attemptHooks } from '../scheduler/lifecycle.js';
import type { ModelServer } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';
import { parseDuration } from '../util/duration.js';
import type { PipelineDeps } from './deps.js';
import type { Exchange } from './exchange.js';

export function forward(
  x: Exchange,
  d: PipelineDeps,
  server: ModelServer,
  serverKey: string,
  ranked: ServerEndpoint[],
): Promise<ProxyResult> {
  const ctx = x.ctx;
  if (!ctx) throw new Error('forward before parse');
  const tp = server.spec.trafficPolicy;
  const retry = tp?.retry;
  const plan = {
    candidates: ranked,
    maxAttempts: retry ? 1 + Math.max(0, retry.attempts ?? 0) : ranked.length,
    retryIntervalMs: retry ? parseDuration(retry.retryInterval ?? '100ms') : 0,
    attemptTimeoutMs: tp?.timeout ? parseDuration(tp.timeout) : 0,
    stallTimeoutMs: d.streams?.stallTimeoutMs ?? 0,
    midStreamFailover: d.streams?.midStreamFailover ?? false,
  };
  const up = buildUpstreamBody(ctx);
  const headers = upstreamHeaders(x.req.headers, x.requestId, up.body.length);
  const hooks = attemptHooks({ metrics: d.metrics, plugins: d.scheduler.plugins, ctx, serverKey, dest: x.dest });
  return proxyWithFailover(
    ctx,
    x.res,
    { body: up.body, headers, hideUsageChunk: up.hideUsageChunk },
    plan,
    d.pools,
    hooks,
  );
}
