// Pure ModelRoute matching (reference §2.3): header / URI / body matchers and weighted target selection.
import type { ModelMatch, ModelRoute, Rule, StringMatch, TargetModel } from '../store/resources.js';

// Compiled regexes, cached by pattern. An invalid pattern is cached as null and never matches (upstream behaviour).
const regexCache = new Map<string, RegExp | null>();
const REGEX_CACHE_MAX = 1024;

function compiled(pattern: string): RegExp | null {
  let re = regexCache.get(pattern);
  if (re !== undefined) return re;
  try {
    re = new RegExp(pattern);
  } catch {
    re = null;
  }
  if (regexCache.size >= REGEX_CACHE_MAX) regexCache.clear();
  regexCache.set(pattern, re);
  return re;
}

/** exact, then prefix, then regex (unanchored: "contains a match"); no condition matches everything. */
export function matchString(m: StringMatch, value: string): boolean {
  if (m.exact !== undefined) return value === m.exact;
  if (m.prefix !== undefined) return value.startsWith(m.prefix);
  if (m.regex !== undefined) {
    const re = compiled(m.regex);
    return re?.test(value) === true;
  }
  return true;
}

export interface MatchInput {
  model: string;
  /** URL path without the query string. */
  path: string;
  /** Lower-cased header names; a missing header matches as "". */
  header: (name: string) => string;
}

export function matchRule(match: ModelMatch | undefined, input: MatchInput): boolean {
  if (!match) return true;
  if (match.body?.model !== undefined && match.body.model !== input.model) return false;
  if (match.headers) {
    for (const [name, sm] of Object.entries(match.headers)) {
      if (!matchString(sm, input.header(name.toLowerCase()))) return false;
    }
  }
  if (match.uri && !matchString(match.uri, input.path)) return false;
  return true;
}

/**
 * Weighted random choice. Missing weights count as 100 (the CRD default), so "either all or none" is not an error here.
 * Returns undefined when the total weight is 0.
 */
export function pickTarget(targets: TargetModel[], rand: () => number): TargetModel | undefined {
  let total = 0;
  for (const t of targets) total += t.weight ?? 100;
  if (total <= 0) return undefined;
  let r = Math.floor(rand() * total);
  for (const t of targets) {
    const w = t.weight ?? 100;
    if (r < w) return t;
    r -= w;
  }
  return targets[targets.length - 1];
}

export interface RouteMatch {
  route: ModelRoute;
  rule: Rule;
  ruleIndex: number;
  target: TargetModel;
  isLora: boolean;
}

/**
 * The targets a weighted pick may choose: those `usable` says exist. A target naming a deleted ModelServer would send
 * its share of traffic to a 404; while another target remains, it is skipped. When none is usable all are kept, so
 * the request fails with the error that names what is missing.
 */
export function usableTargets(
  targets: TargetModel[],
  usable: ((t: TargetModel) => boolean) | undefined,
): TargetModel[] {
  if (!usable || targets.every(usable)) return targets;
  const kept = targets.filter(usable);
  return kept.length > 0 ? kept : targets;
}

/** First route (oldest first, as given) with a matching rule and a pickable target wins. */
/**
 * The route for a request's model as the router resolves it everywhere (its own port, Gateway listeners, the endpoint
 * picker): the model's ModelRoutes, else its LoRA adapter's, narrowed by `binds` (which routes this entry serves),
 * with weighted targets limited to ModelServers that exist while one remains.
 */
export function matchModel(
  view: {
    routesByModel: ReadonlyMap<string, readonly ModelRoute[]>;
    routesByLora: ReadonlyMap<string, readonly ModelRoute[]>;
    servers: ReadonlyMap<string, unknown>;
  },
  model: string,
  input: Omit<MatchInput, 'model'>,
  rand: () => number,
  binds: (r: ModelRoute) => boolean = () => true,
): RouteMatch | undefined {
  const candidates = view.routesByModel.get(model) ?? view.routesByLora.get(model);
  if (!candidates) return undefined;
  return resolveRoute(
    candidates.filter(binds),
    !view.routesByModel.has(model),
    { ...input, model },
    rand,
    (r, t) => !t.modelServerName || view.servers.has(`${r.metadata.namespace ?? 'default'}/${t.modelServerName}`),
  );
}

export function resolveRoute(
  candidates: readonly ModelRoute[],
  isLora: boolean,
  input: MatchInput,
  rand: () => number,
  usable?: (route: ModelRoute, t: TargetModel) => boolean,
): RouteMatch | undefined {
  for (const route of candidates) {
    const rules = route.spec.rules ?? [];
    for (let i = 0; i < rules.length; i++) {
      const rule = rules[i];
      if (!matchRule(rule.modelMatch, input)) continue;
      const targets = usableTargets(rule.targetModels ?? [], usable && ((t) => usable(route, t)));
      const target = pickTarget(targets, rand);
      if (target) return { route, rule, ruleIndex: i, target, isLora };
      break; // the first matching rule is final for this route; a zero-weight rule moves on to the next route
    }
  }
  return undefined;
}

export { compareRouteAge } from '../store/route-order.js';
