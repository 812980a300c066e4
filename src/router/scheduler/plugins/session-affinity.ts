// `session-affinity` score plugin: the endpoint a conversation is pinned to scores 100, every other 0; give it a weight
// above the sum of the other scorers' weights and the pin wins while it holds. It yields — no boost, so the normal
// scores pick — when the pinned endpoint is gone, ejected or filtered out (it is not among the candidates), or
// overloaded (engine waiting queue ≥ maxWaitingRequests, or router in-flight ≥ maxInflight when set). Whatever
// endpoint answers successfully becomes the pin (it now holds the conversation's KV cache). Failover candidates are
// kept, unlike a filter that would narrow the choice to one endpoint.
import { Counter } from 'prom-client';
import type { RequestContext } from '../../request/context.js';
import { SessionAffinity, type SessionAffinityOptions } from '../../session/affinity.js';
import type { ServerEndpoint } from '../../store/store.js';
import { parseDuration } from '../../util/duration.js';
import type { PluginArgs, PluginDefinition, PluginDeps, SchedulerPlugin } from '../plugin.js';

export const SESSION_PLUGIN = 'session-affinity';

export interface SessionPluginConfig extends SessionAffinityOptions {
  maxWaitingRequests: number;
  /** 0 = no router in-flight bound. */
  maxInflight: number;
}

export const SESSION_DEFAULTS: SessionPluginConfig = {
  header: 'x-session-id',
  ttlMs: 30 * 60_000,
  maxSessions: 100_000,
  maxWaitingRequests: 10,
  maxInflight: 0,
};

export function parseSessionArgs(args: PluginArgs): SessionPluginConfig {
  const c: SessionPluginConfig = { ...SESSION_DEFAULTS };
  const known = ['header', 'cookie', 'jwtClaim', 'ttl', 'maxSessions', 'maxWaitingRequests', 'maxInflight'];
  for (const k of Object.keys(args))
    if (!known.includes(k)) throw new Error(`unknown argument "${k}" (known: ${known.join(', ')})`);
  for (const k of ['header', 'cookie', 'jwtClaim'] as const) {
    const v = args[k];
    if (v === undefined) continue;
    if (typeof v !== 'string') throw new Error(`${k}: must be a string`);
    if (k === 'header' && v !== '' && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(v))
      throw new Error(`header: "${v}" is not a valid header name`);
    c[k] = k === 'header' ? v.toLowerCase() || undefined : v || undefined;
  }
  const int = (k: 'maxSessions' | 'maxWaitingRequests' | 'maxInflight', min: number) => {
    const v = args[k];
    if (v === undefined) return;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new Error(`${k}: must be an integer ≥ ${min}`);
    c[k] = v;
  };
  int('maxSessions', 1);
  int('maxWaitingRequests', 1);
  int('maxInflight', 0);
  if (args.ttl !== undefined) {
    let ms = Number.NaN;
    try {
      ms =
        typeof args.ttl === 'number' ? args.ttl : typeof args.ttl === 'string' ? parseDuration(args.ttl) : Number.NaN;
    } catch {
      // reported below
    }
    if (!Number.isFinite(ms) || ms <= 0) throw new Error(`ttl: must be a positive duration such as 30m`);
    c.ttlMs = ms;
  }
  if (!c.header && !c.cookie && !c.jwtClaim) throw new Error('needs at least one of header, cookie, jwtClaim');
  return c;
}

type Result = 'hit' | 'new' | 'yield_overloaded' | 'yield_gone';

export class SessionAffinityPlugin implements SchedulerPlugin {
  readonly name = SESSION_PLUGIN;
  readonly sessions: SessionAffinity;
  private readonly decisions: Counter;

  constructor(
    readonly cfg: SessionPluginConfig,
    deps: PluginDeps,
    now?: () => number,
  ) {
    this.sessions = new SessionAffinity(cfg, now);
    this.decisions =
      (deps.metrics.registry.getSingleMetric('kthena_router_session_affinity_total') as Counter | undefined) ??
      new Counter({
        name: 'kthena_router_session_affinity_total',
        help: 'Session-affinity decisions: hit (pinned endpoint used), new, yield_overloaded, yield_gone',
        labelNames: ['result'],
        registers: [deps.metrics.registry],
      });
  }

  score(ctx: RequestContext, eps: readonly ServerEndpoint[]): ArrayLike<number> {
    const out = new Float64Array(eps.length);
    const key = this.sessions.pinnedKey(ctx);
    if (!key) return out;
    const target = this.sessions.pinned(key);
    let result: Result = 'new';
    if (target !== undefined) {
      const i = eps.findIndex((e) => e.state.key === target);
      if (i < 0) result = 'yield_gone';
      else if (this.overloaded(eps[i])) result = 'yield_overloaded';
      else {
        out[i] = 100;
        result = 'hit';
      }
    }
    this.decisions.inc({ result });
    return out;
  }

  postSchedule(ctx: RequestContext, chosen: ServerEndpoint): void {
    const key = this.sessions.pinnedKey(ctx);
    if (key) this.sessions.pin(key, chosen.state.key);
  }

  onEndpointRemoved(state: { key: string }): void {
    this.sessions.map.deleteValue(state.key);
  }

  debugState(): unknown {
    return { sessions: this.sessions.map.size, config: { ...this.cfg } };
  }

  private overloaded(ep: ServerEndpoint): boolean {
    if (ep.state.metrics.waiting >= this.cfg.maxWaitingRequests) return true;
    return this.cfg.maxInflight > 0 && ep.state.inflight >= this.cfg.maxInflight;
  }
}

/** The router's session-affinity primitive, when the plugin is configured (for PD pair selection and the like). */
export function sessionAffinityOf(plugins: readonly SchedulerPlugin[]): SessionAffinity | undefined {
  const p = plugins.find((x) => x.name === SESSION_PLUGIN);
  return p instanceof SessionAffinityPlugin ? p.sessions : undefined;
}

export const sessionAffinityPlugin: PluginDefinition = {
  name: SESSION_PLUGIN,
  roles: ['score'],
  create(args, deps) {
    return new SessionAffinityPlugin(parseSessionArgs(args), deps, deps.clock ? () => deps.clock!.now() : undefined);
  },
};
