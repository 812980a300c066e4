// Session affinity as a primitive other parts can reuse (the scheduler plugin in plugin.ts, and PD pair selection):
//   pinnedKey(ctx)   the request's session key (ModelServer + user + session id), or undefined when it has none;
//   pinned(key)      what that session is pinned to (an endpoint key, or any string the caller chose, e.g. a PD pair);
//   pin(key, value)  (re)pins the session, refreshing its idle TTL;
//   unpin(key)       forgets it.
// The key is computed once per request and kept in ctx.sessionKey.
import type { RequestContext } from '../request/context.js';
import { type SessionIdSource, sessionIdOf } from './session-id.js';
import { SessionMap } from './session-map.js';

export interface SessionAffinityOptions extends SessionIdSource {
  ttlMs: number;
  maxSessions: number;
}

export class SessionAffinity {
  readonly map: SessionMap;

  constructor(
    readonly opts: SessionAffinityOptions,
    now: () => number = () => performance.now(),
  ) {
    this.map = new SessionMap(opts.maxSessions, opts.ttlMs, now);
  }

  pinnedKey(ctx: RequestContext): string | undefined {
    const cached = ctx.sessionKey;
    if (cached !== undefined) return cached || undefined;
    const id = sessionIdOf(ctx.headers, this.opts);
    const key = id === undefined ? '' : `${ctx.serverKey ?? ''}\u0000${ctx.user ?? ''}\u0000${id}`;
    ctx.sessionKey = key;
    return key || undefined;
  }

  pinned(key: string): string | undefined {
    return this.map.get(key);
  }

  pin(key: string, value: string): void {
    this.map.set(key, value);
  }

  unpin(key: string): void {
    this.map.delete(key);
  }
}
