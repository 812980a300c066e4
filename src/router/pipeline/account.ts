// Phase 7, account: the one terminal path every request takes — served, rejected, failed, or abandoned by its client
// — whichever backend served it: request/token/latency metrics, the active-downstream gauge, the admission stages' and
// plugins' onResponseDone with the final outcome (usage), and the access-log line.
import { pdPodsOf } from '../pd/serve.js';
import type { ResponseOutcome } from '../request/context.js';
import { responseDone } from '../scheduler/lifecycle.js';
import type { AccessLogEntry } from '../telemetry/access-log.js';
import type { PipelineDeps } from './deps.js';
import type { Exchange } from './exchange.js';

export function account(x: Exchange, d: PipelineDeps, aborted: boolean): void {
  const m = d.metrics;
  const end = performance.now();
  const p = x.result;
  const status = x.error ? x.error.status : aborted && !p?.status ? 499 : (p?.status ?? x.res.statusCode);
  const errorType = x.error
    ? x.error.finishReason
    : aborted
      ? 'client_disconnected'
      : p?.brokenStream
        ? 'proxy'
        : status >= 400
          ? 'request_failed'
          : 'successful_request';
  const labels = { model: x.modelLabel, path: x.path, ...x.dest };
  m.requests.inc({ ...labels, status_code: String(status), error_type: errorType });
  m.requestDuration.observe({ ...labels, status_code: String(status) }, (end - x.startedAt) / 1000);
  if (x.downstreamCounted) m.activeDownstream.dec({ model: x.modelLabel });
  const ctx = x.ctx;
  if (ctx) m.tokens.inc({ ...labels, token_type: 'input' }, ctx.inputTokens);
  if (p?.usage) m.tokens.inc({ ...labels, token_type: 'output' }, p.usage.completionTokens);
  let tpotMs: number | undefined;
  if (p?.firstByteAt !== undefined) {
    m.ttft.observe({ model: x.modelLabel }, p.firstByteAt / 1000);
    if (p.endedAt !== undefined && p.dataEvents > 2) {
      // Events after the first, excluding the [DONE] marker.
      tpotMs = (p.endedAt - p.firstByteAt) / (p.dataEvents - 2);
      m.tpot.observe({ model: x.modelLabel }, tpotMs / 1000);
    }
  }
  if (ctx) {
    const outcome: ResponseOutcome = {
      endpoint: p?.endpoint,
      provider:
        x.dest.backend_type === 'external_provider' && p?.status !== undefined ? x.dest.backend_name : undefined,
      status,
      ok: status < 400 && !aborted && !p?.brokenStream,
      aborted,
      promptTokens: p?.usage?.promptTokens,
      completionTokens: p?.usage?.completionTokens,
      cachedTokens: p?.usage?.cachedTokens,
      ttftMs: p?.firstByteAt,
      tpotMs,
      streamedEvents: p?.dataEvents,
    };
    for (const stage of d.admission) {
      try {
        stage.onResponseDone?.(ctx, outcome);
      } catch (e) {
        d.log.error({ err: e, stage: stage.name }, 'admission stage onResponseDone failed');
      }
    }
    responseDone(d.scheduler.plugins, ctx, outcome, (plugin, err) =>
      d.log.error({ err, plugin }, 'plugin onResponseDone failed'),
    );
  }
  const upstreamStart = x.schedDoneAt ?? end;
  const upstreamEnd = p?.firstByteAt !== undefined ? x.startedAt + p.firstByteAt : end;
  const lastAttempt = p?.attempts.at(-1);
  const entry: AccessLogEntry = {
    timestamp: x.startWall.toISOString(),
    method: x.req.method ?? '',
    path: x.path,
    protocol: `HTTP/${x.req.httpVersion}`,
    status_code: status,
    error: x.error
      ? { type: x.error.finishReason, message: x.error.message }
      : aborted
        ? { type: 'client_disconnected', message: 'client closed the connection before the response ended' }
        : p?.brokenStream
          ? { type: 'proxy', message: 'upstream stream broke after the first byte' }
          : undefined,
    model_name: x.model,
    model_route: x.dest.model_route === 'none' ? undefined : x.dest.model_route,
    ...x.gateway,
    model_server: x.dest.backend_type === 'model_server' ? x.dest.backend_name : x.fallback?.from,
    fallback: x.fallback?.reason,
    // The pod that served (after failover), else the one the scheduler picked first.
    selected_pod: (p?.endpoint ?? x.selected)?.state.name,
    ...pdPodsOf(p),
    request_id: x.requestId,
    backend_type: x.dest.backend_type === 'unresolved' ? undefined : x.dest.backend_type,
    backend_name: x.dest.backend_name === 'none' ? undefined : x.dest.backend_name,
    upstream_model: x.dest.upstream_model === 'none' ? undefined : x.dest.upstream_model,
    upstream_status_code: lastAttempt?.status,
    upstream_attempts: p?.attempts.length,
    error_origin: x.error ? 'router' : status >= 400 ? 'upstream' : undefined,
    input_tokens: ctx?.inputTokens,
    output_tokens: p?.usage?.completionTokens,
    ttft_ms: p?.firstByteAt !== undefined ? Math.round(p.firstByteAt) : undefined,
    tpot_ms: tpotMs !== undefined ? Math.round(tpotMs * 100) / 100 : undefined,
    duration_total: Math.round(end - x.startedAt),
    duration_request_processing: Math.round(upstreamStart - x.startedAt),
    duration_upstream_processing: Math.max(0, Math.round(upstreamEnd - upstreamStart)),
    duration_response_processing: Math.max(0, Math.round(end - upstreamEnd)),
  };
  d.accessLog.write(entry);
}
