// Phase 5 of the aggregated path, schedule: filters → scores × weights → top-N over the ModelServer's endpoints, unless
// the route's fallback thresholds say every endpoint is saturated (then the provider fallback takes the request).
import { errors } from '../errors.js';
import type { ServerEndpoint } from '../store/store.js';
import type { PipelineDeps, RankingSink } from './deps.js';
import type { Exchange } from './exchange.js';

export async function schedule(
  x: Exchange,
  d: PipelineDeps,
  endpoints: readonly ServerEndpoint[],
  sink: RankingSink,
): Promise<ServerEndpoint[]> {
  const ctx = x.ctx;
  if (!ctx) throw new Error('schedule before parse');
  if (d.providers?.saturated(ctx, endpoints))
    throw errors.schedulingFailed('every endpoint is past the route fallback thresholds');
  const sched = await d.scheduler.schedule(ctx, endpoints);
  sink.noteRanking(ctx.model, sched);
  x.selected = sched.ranked[0];
  x.schedDoneAt = performance.now();
  return sched.ranked;
}
