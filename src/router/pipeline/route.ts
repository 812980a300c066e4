// Phase 2, route: the ModelRoute (then LoRA) that serves the model, a weighted target of its matching rule; in
// Inference Extension mode an HTTPRoute → InferencePool when no ModelRoute does. Fills match/pool and the metric labels.
import { errors } from '../errors.js';
import { matchModel } from '../routing/match.js';
import { keyOf, type ModelRoute } from '../store/resources.js';
import { UNRESOLVED } from '../telemetry/metrics.js';
import type { PipelineDeps } from './deps.js';
import { type Exchange, headerValue } from './exchange.js';

/** On the router's plain port, routes attached to a Gateway (parentRefs) are not served. */
const plainPortRoute = (r: ModelRoute) => !r.spec.parentRefs?.length;

export function route(x: Exchange, d: PipelineDeps): void {
  const ctx = x.ctx;
  if (!ctx) throw new Error('route before parse');
  const match = matchModel(
    d.store.view,
    ctx.model,
    { path: x.path, header: (n) => headerValue(x.req.headers[n]) },
    d.rand,
    x.scope?.binds ?? plainPortRoute,
  );
  // Inference Extension mode: ModelRoutes first, then HTTPRoute → InferencePool (reference §2.3).
  const pool = match ? undefined : x.scope?.inferencePool?.();
  if (!match && !pool) throw errors.routeNotFound(ctx.model);
  if (pool) {
    x.pool = pool;
    x.gateway = {
      ...x.gateway,
      gateway: x.gateway?.gateway ?? '',
      http_route: pool.httpRoute,
      inference_pool: pool.inferencePool,
    };
  }
  if (match) {
    x.match = match;
    ctx.route = match;
  }
  x.dest = { ...UNRESOLVED, model_route: match ? keyOf(match.route.metadata) : 'none' };
}
