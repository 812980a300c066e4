// Gateway API objects as the router reads them (gateway.networking.k8s.io/v1), and the pure decisions over them:
// which listeners a port serves, which listener a Host selects (reference §8.1), and whether a ModelRoute binds to
// the Gateway that received a request (§2.3). No I/O here; gateway-mode.ts does the watching and the listening.
import type { ModelRoute, ParentReference } from '../store/resources.js';

export const GATEWAY_GROUP = 'gateway.networking.k8s.io';
/** Upstream's GatewayClass name and controller; only Gateways of this class are ours. */
export const GATEWAY_CLASS = 'kthena-router';
export const CONTROLLER_NAME = 'volcano.sh/kthena-router';

export interface GatewayListener {
  name: string;
  port: number;
  protocol: string;
  hostname?: string;
}

export interface Gateway {
  metadata: { namespace?: string; name: string; generation?: number; creationTimestamp?: string };
  spec: { gatewayClassName: string; listeners: GatewayListener[] };
  status?: unknown;
}

/** A listener of one of our Gateways, as bound to a port. */
export interface BoundListener {
  gateway: string; // namespace/name
  listener: string;
  port: number;
  hostname?: string;
}

export const gatewayKey = (g: Gateway) => `${g.metadata.namespace ?? 'default'}/${g.metadata.name}`;

/** Why a listener is not served, or undefined when it is. Only HTTP is served (TLS termination is not built). */
export function listenerProblem(l: GatewayListener): { reason: string; message: string } | undefined {
  if (l.protocol !== 'HTTP')
    return { reason: 'UnsupportedProtocol', message: `protocol ${l.protocol} is not supported; only HTTP is` };
  if (!Number.isInteger(l.port) || l.port < 1 || l.port > 65535)
    return { reason: 'PortUnavailable', message: `port ${String(l.port)} is not a valid port` };
  return undefined;
}

/** Served listeners of our Gateways, grouped by port (one HTTP server per distinct port). */
export function listenersByPort(gateways: readonly Gateway[]): Map<number, BoundListener[]> {
  const out = new Map<number, BoundListener[]>();
  for (const g of gateways) {
    if (g.spec.gatewayClassName !== GATEWAY_CLASS) continue;
    for (const l of g.spec.listeners ?? []) {
      if (listenerProblem(l)) continue;
      const list = out.get(l.port) ?? [];
      list.push({ gateway: gatewayKey(g), listener: l.name, port: l.port, hostname: l.hostname });
      out.set(l.port, list);
    }
  }
  return out;
}

/**
 * The listener a request's Host selects on one port: exact hostname (case-insensitive), then the longest matching
 * `*.suffix` wildcard (a non-empty label before the suffix), then a listener without hostname.
 */
export function selectListener(listeners: readonly BoundListener[], hostHeader: string): BoundListener | undefined {
  const host = stripPort(hostHeader).toLowerCase();
  let wildcard: BoundListener | undefined;
  let any: BoundListener | undefined;
  for (const l of listeners) {
    const h = l.hostname?.toLowerCase();
    if (!h) {
      any ??= l;
      continue;
    }
    if (h === host) return l;
    if (h.startsWith('*.') && host.endsWith(h.slice(1)) && host.length > h.length - 1) {
      if (!wildcard || h.length > (wildcard.hostname?.length ?? 0)) wildcard = l;
    }
  }
  return wildcard ?? any;
}

export function stripPort(host: string): string {
  if (host.startsWith('[')) return host.slice(0, host.indexOf(']') + 1);
  const colon = host.lastIndexOf(':');
  return colon >= 0 ? host.slice(0, colon) : host;
}

/** A parentRef names a Gateway (group and kind default to the Gateway API's). */
export function refersToGateway(ref: ParentReference): boolean {
  return (ref.group === undefined || ref.group === GATEWAY_GROUP) && (ref.kind === undefined || ref.kind === 'Gateway');
}

/**
 * Whether a ModelRoute serves a request received by `gateway` (namespace/name; undefined = the router's plain port):
 * routes with parentRefs only on a Gateway they name (and whose sectionName/port, when set, names a listener of it);
 * routes without parentRefs on the plain port, and on Gateways of their own namespace.
 */
export function routeBindsTo(
  route: ModelRoute,
  gateway: string | undefined,
  gatewayOf: (key: string) => Gateway | undefined,
): boolean {
  const refs = route.spec.parentRefs ?? [];
  const ns = route.metadata.namespace ?? 'default';
  if (!refs.length) return gateway === undefined || gateway.slice(0, gateway.indexOf('/')) === ns;
  if (gateway === undefined) return false;
  const g = gatewayOf(gateway);
  return g !== undefined && refs.some((r) => refMatchesGateway(r, ns, g));
}

export function refMatchesGateway(ref: ParentReference, routeNs: string, g: Gateway): boolean {
  if (!refersToGateway(ref)) return false;
  if (`${ref.namespace ?? routeNs}/${ref.name}` !== gatewayKey(g)) return false;
  if (g.spec.gatewayClassName !== GATEWAY_CLASS) return false;
  return (g.spec.listeners ?? []).some(
    (l) =>
      !listenerProblem(l) &&
      (ref.sectionName === undefined || ref.sectionName === l.name) &&
      (ref.port === undefined || ref.port === l.port),
  );
}
