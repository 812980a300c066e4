// The fallback policy of a ModelRoute (annotations, decision 0003): serve in-cluster first, spill to an external
// provider when every in-cluster endpoint is saturated, failing or gone. Pure: parse the annotations, classify a
// failure, and decide saturation from the endpoints' state.
import type { RouterError } from '../errors.js';
import type { ModelRoute } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';

export const FALLBACK_PROVIDER_ANNOTATION = 'fallback.kthena.io/provider';
export const FALLBACK_ON_ANNOTATION = 'fallback.kthena.io/on';
export const FALLBACK_MAX_INFLIGHT_ANNOTATION = 'fallback.kthena.io/max-inflight-per-endpoint';
export const FALLBACK_MAX_WAITING_ANNOTATION = 'fallback.kthena.io/max-waiting-per-endpoint';

export const FALLBACK_REASONS = ['saturated', 'failing', 'unavailable'] as const;
export type FallbackReason = (typeof FALLBACK_REASONS)[number];

export interface FallbackPolicy {
  /** ExternalModelProvider name in the route's namespace. */
  provider: string;
  providerKey: string;
  on: ReadonlySet<FallbackReason>;
  /** An endpoint with this many router in-flight requests is saturated (0 = not used). */
  maxInflight: number;
  /** An endpoint whose engine reports this many waiting requests is saturated (0 = not used). */
  maxWaiting: number;
}

/** The route's policy, undefined when it has none; `errors` name the annotation at fault. */
export function parseFallback(route: ModelRoute): { policy?: FallbackPolicy; errors: string[] } {
  const ann = route.metadata.annotations ?? {};
  const provider = ann[FALLBACK_PROVIDER_ANNOTATION]?.trim();
  const errors: string[] = [];
  if (provider === undefined) {
    for (const k of [FALLBACK_ON_ANNOTATION, FALLBACK_MAX_INFLIGHT_ANNOTATION, FALLBACK_MAX_WAITING_ANNOTATION])
      if (ann[k] !== undefined)
        errors.push(`metadata.annotations.${k}: has no effect without ${FALLBACK_PROVIDER_ANNOTATION}`);
    return { errors };
  }
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(provider) || provider.length > 253)
    errors.push(`metadata.annotations.${FALLBACK_PROVIDER_ANNOTATION}: must name an ExternalModelProvider`);
  const on = new Set<FallbackReason>();
  for (const raw of (ann[FALLBACK_ON_ANNOTATION] ?? FALLBACK_REASONS.join(',')).split(',')) {
    const r = raw.trim().toLowerCase();
    if (!r) continue;
    if ((FALLBACK_REASONS as readonly string[]).includes(r)) on.add(r as FallbackReason);
    else
      errors.push(
        `metadata.annotations.${FALLBACK_ON_ANNOTATION}: unknown reason "${raw.trim()}" (want ${FALLBACK_REASONS.join(', ')})`,
      );
  }
  if (on.size === 0 && !errors.length) errors.push(`metadata.annotations.${FALLBACK_ON_ANNOTATION}: lists no reason`);
  const count = (k: string): number => {
    const v = ann[k];
    if (v === undefined) return 0;
    const n = Number(v);
    if (!Number.isInteger(n) || n < 1) {
      errors.push(`metadata.annotations.${k}: must be a positive integer`);
      return 0;
    }
    return n;
  };
  const maxInflight = count(FALLBACK_MAX_INFLIGHT_ANNOTATION);
  const maxWaiting = count(FALLBACK_MAX_WAITING_ANNOTATION);
  if (errors.length) return { errors };
  const ns = route.metadata.namespace ?? 'default';
  return { policy: { provider, providerKey: `${ns}/${provider}`, on, maxInflight, maxWaiting }, errors };
}

/** Every endpoint is at or past a configured threshold (false when no threshold is configured). */
export function allSaturated(policy: FallbackPolicy, endpoints: readonly ServerEndpoint[]): boolean {
  if (!policy.on.has('saturated') || (policy.maxInflight === 0 && policy.maxWaiting === 0)) return false;
  if (endpoints.length === 0) return false;
  return endpoints.every(
    (ep) =>
      (policy.maxInflight > 0 && ep.state.inflight >= policy.maxInflight) ||
      (policy.maxWaiting > 0 && ep.state.metrics.waiting >= policy.maxWaiting),
  );
}

/** Which fallback reason an in-cluster failure is, or undefined when it must not spill (e.g. a 429 of ours). */
export function spillReason(err: RouterError): FallbackReason | undefined {
  switch (err.code) {
    case 'model_server_not_found':
    case 'no_available_endpoints':
      return 'unavailable';
    case 'scheduling_failed':
      return 'saturated';
    case 'all_upstreams_failed':
    case 'upstream_timeout':
    case 'bad_prefill_response': // PD: the prefill leg answered garbage
      return 'failing';
    default:
      return undefined;
  }
}
