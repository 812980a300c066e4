// Pure Gateway and ModelRoute-attachment status (Gateway API conventions): what the router's Lease holder writes on
// our Gateways (Accepted, Programmed, per-listener conditions, attached routes) and what a ModelRoute with
// parentRefs says about its attachment. Upstream writes none of this; a status must not claim what is not served.
import type { Condition } from '../sources/kube-status.js';
import type { ModelRoute } from '../store/resources.js';
import { type Gateway, gatewayKey, listenerProblem, refMatchesGateway } from './model.js';

const cond = (type: string, ok: boolean, reason: string, message: string, gen?: number): Condition => ({
  type,
  status: ok ? 'True' : 'False',
  reason,
  message,
  observedGeneration: gen,
});

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

export function desiredGatewayStatus(g: Gateway, routes: readonly ModelRoute[], failed: PortFailures): GatewayStatus {
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
      attachedRoutes: attached,
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
