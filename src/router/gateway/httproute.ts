// Pure HTTPRoute matching for the Inference Extension mode (reference §8.2, with upstream's flaws fixed: method,
// header and query predicates are honoured). Which routes attach to a listener, which rule a request selects
// (Gateway API precedence), and which InferencePool backend it goes to (weighted).

import type { ParentReference } from '../store/resources.js';
import { type BoundListener, GATEWAY_GROUP, type Gateway, gatewayKey, refersToGateway, stripPort } from './model.js';
import { pickWeighted } from './weighted.js';

export const INFERENCE_GROUP = 'inference.networking.k8s.io';

interface StringMatch {
  type?: 'Exact' | 'RegularExpression';
  name: string;
  value: string;
}

export interface HTTPRouteMatch {
  path?: { type?: 'Exact' | 'PathPrefix' | 'RegularExpression'; value?: string };
  method?: string;
  headers?: StringMatch[];
  queryParams?: StringMatch[];
}

export interface BackendRef {
  group?: string;
  kind?: string;
  name: string;
  namespace?: string;
  weight?: number;
}

export interface HTTPRoute {
  metadata: { namespace?: string; name: string; creationTimestamp?: string; generation?: number };
  spec: {
    parentRefs?: ParentReference[];
    hostnames?: string[];
    rules?: { matches?: HTTPRouteMatch[]; backendRefs?: BackendRef[] }[];
  };
  status?: unknown;
}

export interface HttpRequestInfo {
  host: string;
  path: string;
  method: string;
  header: (name: string) => string | undefined;
  query: URLSearchParams;
}

export const routeKey = (r: HTTPRoute) => `${r.metadata.namespace ?? 'default'}/${r.metadata.name}`;

/** Why the listener refuses routes from `routeNs`, or undefined when it allows them (allowedRoutes). */
export function listenerAllows(
  g: Gateway,
  listenerName: string,
  routeNs: string,
  namespaceLabels: (ns: string) => Record<string, string> | undefined,
): boolean {
  const l = g.spec.listeners.find((x) => x.name === listenerName) as
    | (Gateway['spec']['listeners'][number] & { allowedRoutes?: AllowedRoutes })
    | undefined;
  if (!l) return false;
  const kinds = l.allowedRoutes?.kinds;
  if (kinds?.length && !kinds.some((k) => k.kind === 'HTTPRoute' && (k.group ?? GATEWAY_GROUP) === GATEWAY_GROUP))
    return false;
  const from = l.allowedRoutes?.namespaces?.from ?? 'Same';
  if (from === 'All') return true;
  if (from === 'Same') return routeNs === (g.metadata.namespace ?? 'default');
  if (from === 'Selector') {
    const want = l.allowedRoutes?.namespaces?.selector?.matchLabels ?? {};
    const have = namespaceLabels(routeNs);
    return have !== undefined && Object.entries(want).every(([k, v]) => have[k] === v);
  }
  return false;
}

interface AllowedRoutes {
  namespaces?: { from?: 'All' | 'Same' | 'Selector'; selector?: { matchLabels?: Record<string, string> } };
  kinds?: { group?: string; kind: string }[];
}

/** Whether `route` attaches to the listener that received the request. */
export function attachesTo(
  route: HTTPRoute,
  l: BoundListener,
  g: Gateway,
  namespaceLabels: (ns: string) => Record<string, string> | undefined,
): boolean {
  const ns = route.metadata.namespace ?? 'default';
  return (route.spec.parentRefs ?? []).some(
    (p) =>
      refersToGateway(p) &&
      `${p.namespace ?? ns}/${p.name}` === gatewayKey(g) &&
      (p.sectionName === undefined || p.sectionName === l.listener) &&
      (p.port === undefined || p.port === l.port) &&
      listenerAllows(g, l.listener, ns, namespaceLabels),
  );
}

/** 3 exact, 2 wildcard (plus its length), 1 no hostnames, 0 no match. */
function hostRank(route: HTTPRoute, host: string): number {
  const names = route.spec.hostnames ?? [];
  if (!names.length) return 1;
  let best = 0;
  for (const n of names.map((x) => x.toLowerCase())) {
    if (n === host) return 3_000;
    if (n.startsWith('*.') && host.endsWith(n.slice(1)) && host.length > n.length - 1)
      best = Math.max(best, 2_000 + n.length);
  }
  return best;
}

const regexes = new Map<string, RegExp | null>();
function fullMatch(pattern: string, value: string): boolean {
  let re = regexes.get(pattern);
  if (re === undefined) {
    try {
      re = new RegExp(`^(?:${pattern})$`);
    } catch {
      re = null; // an invalid pattern never matches
    }
    if (regexes.size > 1024) regexes.clear();
    regexes.set(pattern, re);
  }
  return re?.test(value) === true;
}

const valueMatches = (m: StringMatch, v: string | undefined) =>
  v !== undefined && (m.type === 'RegularExpression' ? fullMatch(m.value, v) : v === m.value);

/** Segment-aware prefix: "/foo" matches "/foo" and "/foo/bar", not "/foobar". */
function prefixMatches(prefix: string, path: string): boolean {
  const p = prefix.length > 1 && prefix.endsWith('/') ? prefix.slice(0, -1) : prefix;
  return p === '/' || path === p || path.startsWith(`${p}/`);
}

/** Specificity of a match that matched, or -1. Larger wins: path type, path length, method, headers, query. */
export function matchScore(m: HTTPRouteMatch, r: HttpRequestInfo): number[] | undefined {
  const type = m.path?.type ?? 'PathPrefix';
  const value = m.path?.value ?? '/';
  const pathOk =
    type === 'Exact'
      ? r.path === value
      : type === 'PathPrefix'
        ? prefixMatches(value, r.path)
        : fullMatch(value, r.path);
  if (!pathOk) return undefined;
  if (m.method && m.method.toUpperCase() !== r.method.toUpperCase()) return undefined;
  for (const h of m.headers ?? []) if (!valueMatches(h, r.header(h.name.toLowerCase()))) return undefined;
  for (const q of m.queryParams ?? []) if (!valueMatches(q, r.query.get(q.name) ?? undefined)) return undefined;
  const typeRank = type === 'Exact' ? 3 : type === 'PathPrefix' ? 2 : 1;
  return [typeRank, value.length, m.method ? 1 : 0, m.headers?.length ?? 0, m.queryParams?.length ?? 0];
}

export interface HttpRouteSelection {
  route: HTTPRoute;
  ruleIndex: number;
  backends: BackendRef[];
}

/**
 * The best rule across the attached routes: hostname precedence, then match specificity, then the older route,
 * then namespace/name, then rule and match order. A rule without matches matches as PathPrefix "/".
 */
export function selectHttpRoute(routes: readonly HTTPRoute[], r: HttpRequestInfo): HttpRouteSelection | undefined {
  const host = stripPort(r.host).toLowerCase();
  let best: { key: (number | string)[]; sel: HttpRouteSelection } | undefined;
  for (const route of routes) {
    const hr = hostRank(route, host);
    if (hr === 0) continue;
    (route.spec.rules ?? []).forEach((rule, ruleIndex) => {
      const matches = rule.matches?.length ? rule.matches : [{}];
      matches.forEach((m, matchIndex) => {
        const score = matchScore(m, r);
        if (!score) return;
        const key = [
          hr,
          ...score,
          -Date.parse(route.metadata.creationTimestamp ?? '') || 0,
          routeKey(route),
          -ruleIndex,
          -matchIndex,
        ];
        if (!best || better(key, best.key)) best = { key, sel: { route, ruleIndex, backends: rule.backendRefs ?? [] } };
      });
    });
  }
  return best?.sel;
}

/** Lexicographic "greater", except namespace/name which prefers the smaller (alphabetical first). */
function better(a: (number | string)[], b: (number | string)[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] === b[i]) continue;
    if (typeof a[i] === 'string') return a[i] < b[i];
    return a[i] > b[i];
  }
  return false;
}

/** InferencePool backends with weight > 0 (default 1), picked weighted-random; undefined when there are none. */
export function pickPool(backends: readonly BackendRef[], rand: () => number): BackendRef | undefined {
  const pools = backends.filter(
    (b) => b.group === INFERENCE_GROUP && b.kind === 'InferencePool' && (b.weight ?? 1) > 0,
  );
  return pickWeighted(pools, (b) => b.weight ?? 1, rand);
}
