// One undici Pool per upstream origin, created on first use and closed once its endpoint leaves the store.
import { Pool } from 'undici';

export interface PoolOptions {
  /** Max sockets per endpoint; null = unbounded (engines queue internally). */
  connections: number | null;
  keepAliveTimeoutMs: number;
  /** Idle time allowed between body chunks of a response; 0 disables. */
  bodyTimeoutMs: number;
  connectTimeoutMs: number;
}

export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();

  constructor(private readonly opts: PoolOptions) {}

  get(origin: string): Pool {
    let p = this.pools.get(origin);
    if (!p || p.closed || p.destroyed) {
      p = new Pool(origin, {
        connections: this.opts.connections,
        pipelining: 1,
        keepAliveTimeout: this.opts.keepAliveTimeoutMs,
        bodyTimeout: this.opts.bodyTimeoutMs,
        connectTimeout: this.opts.connectTimeoutMs,
      });
      this.pools.set(origin, p);
    }
    return p;
  }

  /** Graceful: requests already running on the pool finish first. */
  release(origin: string): void {
    const p = this.pools.get(origin);
    if (!p) return;
    this.pools.delete(origin);
    void p.close().catch(() => undefined);
  }

  get size(): number {
    return this.pools.size;
  }

  async closeAll(): Promise<void> {
    const all = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(all.map((p) => p.destroy().catch(() => undefined)));
  }
}
