// Concurrency cap per client (router config `limits`): at most N requests of one authenticated user — or, without
// authentication, of one client address — in flight through the router at once; the next gets 429 with Retry-After
// before it costs a token bucket, a queue slot or an engine slot, while everyone else keeps being served. It is what
// stops a client that opens 10,000 streams. Memory is one counter per client with requests in flight.
import type { AdmissionStage, Release } from '../admission/chain.js';
import { RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import type { GovernanceMetrics } from './metrics.js';

export interface ConcurrencyCapConfig {
  /** Per authenticated user (0 = off). */
  maxConcurrentPerUser: number;
  /** Per client address for unauthenticated requests (0 = off). */
  maxConcurrentPerClient: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validates the router configuration's `limits` section; undefined when no cap is set. */
export function parseConcurrencyCap(raw: unknown): ConcurrencyCapConfig | undefined {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) throw new Error('invalid router configuration:\n  limits: must be a mapping');
  const problems: string[] = [];
  const int = (k: keyof ConcurrencyCapConfig): number => {
    const v = raw[k];
    if (v === undefined) return 0;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      problems.push(`limits.${k}: must be an integer ≥ 0 (0 = no cap)`);
      return 0;
    }
    return v;
  };
  const cfg = {
    maxConcurrentPerUser: int('maxConcurrentPerUser'),
    maxConcurrentPerClient: int('maxConcurrentPerClient'),
  };
  for (const k of Object.keys(raw))
    if (!(k in cfg)) problems.push(`limits.${k}: unknown key (known: maxConcurrentPerUser, maxConcurrentPerClient)`);
  if (problems.length) throw new Error(`invalid router configuration:\n  ${problems.join('\n  ')}`);
  return cfg.maxConcurrentPerUser || cfg.maxConcurrentPerClient ? cfg : undefined;
}

export class ConcurrencyCapStage implements AdmissionStage {
  readonly name = 'concurrency-cap';
  private readonly inflight = new Map<string, number>();

  constructor(
    readonly cfg: ConcurrencyCapConfig,
    private readonly metrics?: GovernanceMetrics,
  ) {}

  /** Clients with requests in flight (memory bound check in tests). */
  get trackedClients(): number {
    return this.inflight.size;
  }

  admit(ctx: RequestContext): Release | undefined {
    const user = ctx.user;
    const byUser = user !== undefined && user !== '';
    const cap = byUser ? this.cfg.maxConcurrentPerUser : this.cfg.maxConcurrentPerClient;
    if (cap <= 0) return undefined;
    const key = byUser ? `u:${user}` : `a:${ctx.clientAddress}`;
    const n = this.inflight.get(key) ?? 0;
    if (n >= cap) {
      this.metrics?.concurrencyRejected.inc({ scope: byUser ? 'user' : 'client' });
      throw new RouterError(
        429,
        'rate_limit_exceeded',
        `too many concurrent requests from this ${byUser ? 'user' : 'client'} (limit ${cap}); retry when one finishes`,
        { 'retry-after': '1' },
      );
    }
    this.inflight.set(key, n + 1);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      const left = (this.inflight.get(key) ?? 1) - 1;
      if (left <= 0) this.inflight.delete(key);
      else this.inflight.set(key, left);
    };
  }
}
