// The small surface the request handler calls: serve a route target that is an ExternalModelProvider, tell whether a
// route's in-cluster endpoints are all past its fallback thresholds, and spill a failed in-cluster request to the
// route's fallback provider. Everything else about providers stays in this directory.
import type { ServerResponse } from 'node:http';
import type { RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import type { ModelRoute } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';
import { allSaturated, type FallbackPolicy, type FallbackReason, parseFallback, spillReason } from './fallback.js';
import type { ProviderCall, ProviderGateway } from './gateway.js';
import type { ProviderMetrics } from './metrics.js';

export interface Spill {
  reason: FallbackReason;
  providerKey: string;
}

export class ProviderHook {
  private readonly policies = new WeakMap<ModelRoute, FallbackPolicy | undefined>();

  constructor(
    readonly gateway: ProviderGateway,
    private readonly metrics: ProviderMetrics,
  ) {}

  /** A route target naming an ExternalModelProvider (`ns/name`). */
  serveTarget(ctx: RequestContext, res: ServerResponse, providerKey: string): Promise<ProviderCall> {
    return this.gateway.serve(ctx, res, providerKey);
  }

  policyOf(route: ModelRoute): FallbackPolicy | undefined {
    if (this.policies.has(route)) return this.policies.get(route);
    const p = parseFallback(route).policy;
    this.policies.set(route, p);
    return p;
  }

  /** Every in-cluster endpoint is at or past the route's fallback thresholds. */
  saturated(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): boolean {
    const p = ctx.route && this.policyOf(ctx.route.route);
    return p ? allSaturated(p, endpoints) : false;
  }

  /** Whether this in-cluster failure spills to the route's fallback provider. */
  shouldSpill(ctx: RequestContext | undefined, err: RouterError, res: ServerResponse): Spill | undefined {
    if (!ctx?.route || res.headersSent || ctx.signal.aborted) return undefined;
    const p = this.policyOf(ctx.route.route);
    const reason = spillReason(err);
    if (!p || !reason || !p.on.has(reason)) return undefined;
    return { reason, providerKey: p.providerKey };
  }

  spill(ctx: RequestContext, res: ServerResponse, spill: Spill, routeKey: string): Promise<ProviderCall> {
    this.metrics.fallback.inc({
      model_route: routeKey,
      model_server: ctx.serverKey ?? 'none',
      provider: spill.providerKey,
      reason: spill.reason,
    });
    return this.gateway.serve(ctx, res, spill.providerKey);
  }
}
