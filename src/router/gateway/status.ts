// Pure Gateway and ModelRoute-attachment status (Gateway API conventions): what the router's Lease holder writes on
// our Gateways (Accepted, Programmed, per-listener conditions, attached routes) and what a ModelRoute with
// parentRefs says about its attachment. Upstream writes none of this; a status must not claim what is not served.
import { type Condition, cond } from '../sources/kube-status.js';
import type { ModelRoute } from '../store/resources.js';
import { type HTTPRoute, INFERENCE_GROUP } from './httproute.js';
import {
  CONTROLLER_NAME,
  GATEWAY_GROUP,
  type Gateway,
  gatewayKey,
  listenerProblem,
  refersToGateway,
  refMatchesGateway,
} from './model.js';

export interface ListenerStatus {
  name: string;
  supportedKinds: { group: string; kind: string }[];
  attachedRoutes: number;
  conditions: Condition[];
}

export interface GatewayStatus {
  conditions: Condition[];
  listeners: ListenerStatus[];
}

/** Ports the router failed to open (port → error message). */
export type PortFailures = ReadonlyMap<number, string>;

export function desiredGatewayStatus(
  g: Gateway,
  routes: readonly ModelRoute[],
  failed: PortFailures,
  /** HTTPRoutes attached per listener name (Inference Extension mode). */
  httpRoutesAttached: (listener: string) => number = () => 0,
): GatewayStatus {
  const gen = g.metadata.generation;
  const listeners = (g.spec.listeners ?? []).map((l): ListenerStatus => {
    const problem = listenerProblem(l);
    const portError = problem ? undefined : failed.get(l.port);
    const attached = problem
      ? 0
      : routes.filter((r) =>
          (r.spec.parentRefs ?? []).some(
            (ref) =>
              refMatchesGateway(ref, r.metadata.namespace ?? 'default', g) &&
              (ref.sectionName === undefined || ref.sectionName === l.name) &&
              (ref.port === undefined || ref.port === l.port),
          ),
        ).length;
    const conditions = problem
      ? [
          cond('Accepted', false, problem.reason, problem.message, gen),
          cond('Programmed', false, 'Invalid', problem.message, gen),
        ]
      : [
          cond('Accepted', true, 'Accepted', 'listener accepted', gen),
          portError
            ? cond('Programmed', false, 'PortUnavailable', portError, gen)
            : cond('Programmed', true, 'Programmed', `serving HTTP on port ${l.port}`, gen),
        ];
    conditions.push(cond('ResolvedRefs', true, 'ResolvedRefs', 'no references to resolve', gen));
    return {
      name: l.name,
      supportedKinds: [
        { group: 'networking.serving.volcano.sh', kind: 'ModelRoute' },
        { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute' },
      ],
      attachedRoutes: problem ? 0 : attached + httpRoutesAttached(l.name),
      conditions,
    };
  });
  const programmed = listeners.filter((l) => l.conditions.some((c) => c.type === 'Programmed' && c.status === 'True'));
  return {
    conditions: [
      cond('Accepted', true, 'Accepted', `accepted by ${gatewayKey(g)}'s class kthena-router`, gen),
      programmed.length === listeners.length && listeners.length > 0
        ? cond('Programmed', true, 'Programmed', 'all listeners are served', gen)
        : cond('Programmed', false, 'Invalid', `${programmed.length} of ${listeners.length} listeners are served`, gen),
    ],
    listeners,
  };
}

/**
 * Attachment of a ModelRoute with parentRefs, or undefined for a route without them (served on the plain port).
 * Not attached = the route answers no request, so its Accepted condition must say so.
 */
export function routeAttachment(
  route: ModelRoute,
  gatewayMode: boolean,
  gateways: readonly Gateway[],
): Condition | undefined {
  const refs = route.spec.parentRefs ?? [];
  if (!refs.length) return undefined;
  const gen = route.metadata.generation;
  if (!gatewayMode)
    return cond(
      'Accepted',
      false,
      'GatewayAPIDisabled',
      'the route has parentRefs but the router runs without --enable-gateway-api, so it serves no request',
      gen,
    );
  const ns = route.metadata.namespace ?? 'default';
  const bound = gateways.filter((g) => refs.some((r) => refMatchesGateway(r, ns, g)));
  if (!bound.length) {
    const names = refs.map((r) => `${r.namespace ?? ns}/${r.name}${r.sectionName ? `#${r.sectionName}` : ''}`);
    return cond(
      'Accepted',
      false,
      'NoMatchingParent',
      `no kthena-router Gateway listener matches parentRefs ${names.join(', ')}`,
      gen,
    );
  }
  return cond('Accepted', true, 'Accepted', `attached to Gateway ${bound.map(gatewayKey).join(', ')}`, gen);
}

export interface RouteParentStatus {
  parentRef: { group: string; kind: string; namespace: string; name: string; sectionName?: string; port?: number };
  controllerName: string;
  conditions: Condition[];
}

/**
 * HTTPRoute status entries for the parentRefs naming our Gateways: Accepted when some listener takes the route,
 * ResolvedRefs when every InferencePool backend exists. Entries of other controllers are kept as they are.
 */
export function desiredHttpRouteParents(
  route: HTTPRoute,
  gateways: readonly Gateway[],
  accepts: (g: Gateway, ref: NonNullable<HTTPRoute['spec']['parentRefs']>[number]) => boolean,
  poolExists: (key: string) => boolean,
  /** Whether a route in `routeNs` may use pool `ns/name` (ReferenceGrant); default: same namespace only. */
  permitted: (routeNs: string, ns: string, name: string) => boolean = (a, b) => a === b,
): RouteParentStatus[] {
  const ns = route.metadata.namespace ?? 'default';
  const gen = route.metadata.generation;
  const missing: string[] = [];
  const unsupported: string[] = [];
  const forbidden: string[] = [];
  for (const rule of route.spec.rules ?? [])
    for (const b of rule.backendRefs ?? []) {
      const key = `${b.namespace ?? ns}/${b.name}`;
      if (b.group !== INFERENCE_GROUP || b.kind !== 'InferencePool') unsupported.push(`${b.kind ?? 'Service'} ${key}`);
      // Checked before existence: without a grant the route may not learn what exists in another namespace.
      else if (!permitted(ns, b.namespace ?? ns, b.name)) forbidden.push(`InferencePool ${key}`);
      else if (!poolExists(key)) missing.push(`InferencePool ${key}`);
    }
  const refs = forbidden.length
    ? cond(
        'ResolvedRefs',
        false,
        'RefNotPermitted',
        `no ReferenceGrant permits: ${[...new Set(forbidden)].join(', ')}`,
        gen,
      )
    : missing.length
      ? cond('ResolvedRefs', false, 'BackendNotFound', `not found: ${[...new Set(missing)].join(', ')}`, gen)
      : unsupported.length
        ? cond(
            'ResolvedRefs',
            false,
            'InvalidKind',
            `only InferencePool backends are served: ${unsupported.join(', ')}`,
            gen,
          )
        : cond('ResolvedRefs', true, 'ResolvedRefs', 'all backends exist', gen);
  const out: RouteParentStatus[] = [];
  for (const ref of route.spec.parentRefs ?? []) {
    if (!refersToGateway(ref)) continue;
    const g = gateways.find((x) => gatewayKey(x) === `${ref.namespace ?? ns}/${ref.name}`);
    if (!g) continue; // not ours (or not there yet): another controller's parent, or nobody's
    const ok = accepts(g, ref);
    out.push({
      parentRef: {
        group: GATEWAY_GROUP,
        kind: 'Gateway',
        namespace: ref.namespace ?? ns,
        name: ref.name,
        ...(ref.sectionName !== undefined ? { sectionName: ref.sectionName } : {}),
        ...(ref.port !== undefined ? { port: ref.port } : {}),
      },
      controllerName: CONTROLLER_NAME,
      conditions: [
        ok
          ? cond('Accepted', true, 'Accepted', `attached to Gateway ${gatewayKey(g)}`, gen)
          : cond('Accepted', false, 'NotAllowedByListeners', 'no listener of the Gateway accepts this route', gen),
        refs,
      ],
    });
  }
  return out;
}

/** A GatewayClass whose controllerName is ours is accepted; others are left to their controllers (undefined). */
export function desiredGatewayClassStatus(gc: {
  metadata: { generation?: number };
  spec?: { controllerName?: string };
}): { conditions: Condition[] } | undefined {
  if (gc.spec?.controllerName !== CONTROLLER_NAME) return undefined;
  return {
    conditions: [
      cond('Accepted', true, 'Accepted', `handled by ${CONTROLLER_NAME}`, gc.metadata.generation),
      cond('SupportedVersion', true, 'SupportedVersion', 'gateway.networking.k8s.io/v1', gc.metadata.generation),
    ],
  };
}
