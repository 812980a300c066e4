// The scheduler plugins' view of one request after the decision: each attempt is dispatched (the endpoint's in-flight
// count goes up, onDispatch), may commit (first byte: postSchedule), has an outcome (onAttempt) and is released
// (in-flight down, onRelease); the request ends once (onResponseDone). The HTTP handler calls these around the proxy;
// the twin (src/twin) calls them at the matching moments of virtual time, so both run the same bookkeeping.
import type { AttemptRecord } from '../proxy/forward.js';
import type { RequestContext, ResponseOutcome } from '../request/context.js';
import type { ServerEndpoint } from '../store/store.js';
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
