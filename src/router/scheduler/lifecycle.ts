// The scheduler plugins' view of one request after the decision: each attempt is dispatched (the endpoint's in-flight
// count goes up, onDispatch), may commit (first byte: postSchedule), has an outcome (onAttempt) and is released
// (in-flight down, onRelease); the request ends once (onResponseDone). The HTTP handler calls these around the proxy;
// the twin (src/twin) calls them at the matching moments of virtual time, so both run the same bookkeeping.
//
// attemptHooks is that bookkeeping for a real upstream attempt, written once for every backend and every leg
// (aggregated, PD prefill, PD decode): dispatch also raises the active-upstream gauge, each outcome is counted, and
// release undoes dispatch exactly once. Backends differ only in which plugins see the leg and where the record goes.
import type { AttemptRecord, ProxyHooks } from '../proxy/forward.js';
import type { RequestContext, ResponseOutcome } from '../request/context.js';
import type { ServerEndpoint } from '../store/store.js';
import type { Destination, RouterMetrics } from '../telemetry/metrics.js';
import type { SchedulerPlugin } from './plugin.js';

export function dispatchAttempt(
  plugins: readonly SchedulerPlugin[],
  ctx: RequestContext,
  ep: ServerEndpoint,
  cancel?: () => void,
): void {
  ep.state.inflight++;
  for (const p of plugins) p.onDispatch?.(ctx, ep, cancel);
}

export function releaseAttempt(plugins: readonly SchedulerPlugin[], ctx: RequestContext, ep: ServerEndpoint): void {
  ep.state.inflight--;
  for (const p of plugins) p.onRelease?.(ctx, ep);
}

/** The attempt's first byte arrived: it is the request's response. */
export function commitAttempt(plugins: readonly SchedulerPlugin[], ctx: RequestContext, ep: ServerEndpoint): void {
  for (const p of plugins) p.postSchedule?.(ctx, ep);
}

export function reportAttempt(
  plugins: readonly SchedulerPlugin[],
  ctx: RequestContext,
  ep: ServerEndpoint,
  rec: AttemptRecord,
): void {
  for (const p of plugins) p.onAttempt?.(ctx, ep, rec);
}

/** Terminal hook of every plugin; one plugin's failure neither stops the others nor escapes (it goes to `onError`). */
export function responseDone(
  plugins: readonly SchedulerPlugin[],
  ctx: RequestContext,
  outcome: ResponseOutcome,
  onError: (plugin: string, err: unknown) => void,
): void {
  for (const plugin of plugins) {
    try {
      plugin.onResponseDone?.(ctx, outcome);
    } catch (e) {
      onError(plugin.name, e);
    }
  }
}

export interface AttemptScope {
  metrics: RouterMetrics;
  /** The plugins that see this leg's hooks (PD: load plugins for the decode leg). */
  plugins: readonly SchedulerPlugin[];
  /** The context the plugins are told about. */
  ctx: RequestContext;
  serverKey: string;
  dest: Destination;
  /** Where the backend keeps the record (PD keeps both legs' attempts); the plugins get the attempt's own record. */
  record?(ep: ServerEndpoint, rec: AttemptRecord): void;
}

export function attemptHooks(s: AttemptScope): ProxyHooks {
  const { metrics, plugins, ctx, serverKey } = s;
  const active = { model_server: serverKey, ...s.dest };
  return {
    acquire(ep, cancel) {
      metrics.activeUpstream.inc(active);
      dispatchAttempt(plugins, ctx, ep, cancel);
    },
    release(ep) {
      metrics.activeUpstream.dec(active);
      releaseAttempt(plugins, ctx, ep);
    },
    committed(ep) {
      commitAttempt(plugins, ctx, ep);
    },
    attempt(ep, rec) {
      metrics.upstreamAttempts.inc({ model_server: serverKey, outcome: rec.outcome });
      s.record?.(ep, rec);
      reportAttempt(plugins, ctx, ep, rec);
    },
  };
}
