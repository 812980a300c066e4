// Provider and fallback metrics, registered on the router's registry with upstream's kthena_router_* naming.
import { Counter } from 'prom-client';
import type { RouterMetrics } from '../telemetry/metrics.js';

export class ProviderMetrics {
  /** Requests a route spilled from its in-cluster target to its fallback provider, by reason. */
  readonly fallback: Counter<'model_route' | 'model_server' | 'provider' | 'reason'>;
  /** Calls to external providers by outcome (ok, client_error, server_error, auth_error, rate_limited, timeout, connect_error, aborted). */
  readonly attempts: Counter<'provider' | 'provider_type' | 'outcome'>;

  constructor(m: RouterMetrics) {
    this.fallback = new Counter({
      name: 'kthena_router_fallback_requests_total',
      help: 'Requests served by a fallback ExternalModelProvider instead of the in-cluster target, by reason (saturated, failing, unavailable)',
      labelNames: ['model_route', 'model_server', 'provider', 'reason'],
      registers: [m.registry],
    });
    this.attempts = new Counter({
      name: 'kthena_router_external_provider_requests_total',
      help: 'Requests sent to external model providers, by outcome',
      labelNames: ['provider', 'provider_type', 'outcome'],
      registers: [m.registry],
    });
  }
}
