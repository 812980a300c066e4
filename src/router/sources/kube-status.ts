// Pure status computation for the Kubernetes source: what ModelRoute and ModelServer status *should* be, given the
// store's view and the validation outcome, and whether it differs from what the API server already holds. Kept
// apart from I/O so "no write when nothing changed" is decided by one comparable function.
import type { ModelRoute, ModelServer } from '../store/resources.js';
import type { StoreView } from '../store/store.js';

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  observedGeneration?: number;
  lastTransitionTime?: string;
}

/** A condition as the Kubernetes conventions write it (transition time added when it is written). */
export const cond = (type: string, ok: boolean, reason: string, message: string, gen?: number): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
  observedGeneration: gen,
});

export interface RouteStatus {
  observedGeneration?: number;
  conditions: Condition[];
}

export interface ServerStatus {
  observedGeneration?: number;
  /** Ready pods this ModelServer selects (the router's endpoints). */
  readyEndpoints: number;
  conditions: Condition[];
}

/**
 * ModelRoute: Accepted (valid, and not shadowed by an older route for the same modelName) and ResolvedRefs (every
 * target names a ModelServer / ExternalModelProvider that exists in the route's namespace).
 */
export function desiredRouteStatus(
  route: ModelRoute,
  invalid: string[] | undefined,
  view: StoreView,
  /** Gateway attachment of a route with parentRefs (src/router/gateway/status.ts); a refusal wins over Accepted. */
  attachment?: Condition,
): RouteStatus {
  const gen = route.metadata.generation;
  const ns = route.metadata.namespace ?? 'default';
  if (invalid?.length) {
    const msg = invalid.join('; ');
    return {
      observedGeneration: gen,
      conditions: [
        cond('Accepted', false, 'Invalid', msg, gen),
        cond('ResolvedRefs', false, 'Invalid', 'the route is invalid; references were not checked', gen),
      ],
    };
  }
  let accepted = cond('Accepted', true, 'Accepted', 'the route is valid and in use', gen);
  const name = route.spec.modelName;
  if (name) {
    const first = view.routesByModel.get(name)?.[0];
    if (first && keyOfMeta(first) !== keyOfMeta(route)) {
      accepted = cond(
        'Accepted',
        false,
        'Conflicted',
        `modelName ${JSON.stringify(name)} is already served by the older ModelRoute ${keyOfMeta(first)}`,
        gen,
      );
    }
  }
  if (attachment && (attachment.status === 'False' || accepted.status === 'True')) accepted = attachment;
  const missing: string[] = [];
  for (const rule of route.spec.rules ?? [])
    for (const t of rule.targetModels ?? []) {
      if (t.modelServerName && !view.servers.has(`${ns}/${t.modelServerName}`))
        missing.push(`ModelServer ${ns}/${t.modelServerName}`);
      if (t.externalModelProviderName && !view.providers.has(`${ns}/${t.externalModelProviderName}`))
        missing.push(`ExternalModelProvider ${ns}/${t.externalModelProviderName}`);
    }
  const uniq = [...new Set(missing)].sort();
  const refs = uniq.length
    ? cond('ResolvedRefs', false, 'BackendNotFound', `not found: ${uniq.join(', ')}`, gen)
    : cond('ResolvedRefs', true, 'ResolvedRefs', 'all targets exist', gen);
  return { observedGeneration: gen, conditions: [accepted, refs] };
}

/** ModelServer: the number of ready endpoints it selects and Ready = at least one. */
export function desiredServerStatus(server: ModelServer, invalid: string[] | undefined, view: StoreView): ServerStatus {
  const gen = server.metadata.generation;
  if (invalid?.length)
    return {
      observedGeneration: gen,
      readyEndpoints: 0,
      conditions: [cond('Ready', false, 'Invalid', invalid.join('; '), gen)],
    };
  const n = view.endpointsByServer.get(keyOfMeta(server))?.length ?? 0;
  return {
    observedGeneration: gen,
    readyEndpoints: n,
    conditions: [
      n > 0
        ? cond('Ready', true, 'EndpointsReady', `${n} ready endpoint${n === 1 ? '' : 's'}`, gen)
        : cond('Ready', false, 'NoReadyEndpoints', 'no ready pod matches spec.workloadSelector', gen),
    ],
  };
}

const keyOfMeta = (o: { metadata: { namespace?: string; name: string } }) =>
  `${o.metadata.namespace ?? 'default'}/${o.metadata.name}`;

/** Canonical form for comparison: lastTransitionTime is bookkeeping, not content. */
export function statusFingerprint(status: unknown): string {
  if (status === null || typeof status !== 'object') return 'null';
  const s = status as Record<string, unknown>;
  const conds = Array.isArray(s.conditions)
    ? (s.conditions as Condition[])
        .map(({ lastTransitionTime: _ltt, ...rest }) => sortKeys(rest))
        .sort((a, b) => (String(a.type) < String(b.type) ? -1 : 1))
    : [];
  return JSON.stringify(sortKeys({ ...s, conditions: conds }));
}

function sortKeys<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(o).sort()) if (o[k] !== undefined) out[k] = o[k];
  return out as T;
}

/** Carries lastTransitionTime over from the current conditions when a condition's status did not change. */
export function withTransitionTimes<S extends { conditions: Condition[] }>(
  desired: S,
  current: unknown,
  now: string,
): S {
  const prev = new Map<string, Condition>();
  const cur = (current as { conditions?: unknown } | undefined)?.conditions;
  if (Array.isArray(cur)) for (const c of cur as Condition[]) if (c && typeof c.type === 'string') prev.set(c.type, c);
  return {
    ...desired,
    conditions: desired.conditions.map((c) => {
      const p = prev.get(c.type);
      return {
        ...c,
        lastTransitionTime: p && p.status === c.status && p.lastTransitionTime ? p.lastTransitionTime : now,
      };
    }),
  };
}
