// Who the request is, as set by the auth stage and read by rate limits and the fairness queue.
import type { RequestContext } from '../request/context.js';

/** Anonymous requests (auth off) share one identity in per-user limits and the fairness queue. */
export const ANONYMOUS = '';

export function setIdentity(ctx: RequestContext, user: string, tier: number): void {
  ctx.user = user;
  ctx.tier = tier;
}

/** Priority tier: higher is served first; 0 when unauthenticated or not configured. */
export function tierOf(ctx: RequestContext): number {
  return ctx.tier;
}
