// Scale to zero and back, the autoscaler's half (the router's is src/router/policy/scale-from-zero.ts). The planes
// meet only through ModelServer annotations: the autoscaler marks the ModelServers that front a target whose
// minReplicas is 0 as scalable-to-zero (so routers hold requests instead of answering 503), and reads the demand
// stamp routers write while requests wait. Pure.
import type { ModelServer, ModelServing } from '../../api/index.js';

export const SCALE_TO_ZERO_ANNOTATION = 'autoscaling.kthena.io/scale-to-zero';
export const DEMAND_ANNOTATION = 'autoscaling.kthena.io/demand';
/** Demand older than this is ignored (a router that stamped it is long gone or its requests timed out). */
export const DEMAND_FRESH_MS = 5 * 60_000;

const LABEL_NAME = 'modelserving.volcano.sh/name';

/** Labels some pod of the ModelServing carries (template labels of every role, plus the controller's name label). */
function podLabels(ms: ModelServing): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  const add = (k: string, v: string) => out.set(k, (out.get(k) ?? new Set()).add(v));
  add(LABEL_NAME, ms.metadata?.name ?? '');
  for (const r of ms.spec.template.roles) {
    for (const [k, v] of Object.entries(r.entryTemplate?.metadata?.labels ?? {})) add(k, v);
  }
  return out;
}

/** The ModelServers (same namespace) whose workload selector picks this ModelServing's pods. */
export function frontingServers<S extends Pick<ModelServer, 'metadata' | 'spec'>>(
  ms: ModelServing,
  servers: readonly S[],
): S[] {
  const labels = podLabels(ms);
  const ns = ms.metadata?.namespace ?? 'default';
  return servers.filter((s) => {
    if ((s.metadata?.namespace ?? 'default') !== ns) return false;
    const sel = Object.entries(s.spec?.workloadSelector?.matchLabels ?? {});
    return sel.length > 0 && sel.every(([k, v]) => labels.get(k)?.has(v));
  });
}

/** The newest demand stamp on these servers that is fresh and newer than `after`; undefined when there is none. */
export function pendingDemand(
  servers: readonly Pick<ModelServer, 'metadata'>[],
  now: number,
  after: number,
): number | undefined {
  let best: number | undefined;
  for (const s of servers) {
    const raw = s.metadata?.annotations?.[DEMAND_ANNOTATION];
    const t = raw ? Date.parse(raw) : Number.NaN;
    if (!Number.isFinite(t) || t <= after || now - t > DEMAND_FRESH_MS) continue;
    if (best === undefined || t > best) best = t;
  }
  return best;
}
