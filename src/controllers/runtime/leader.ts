// Lease-based leader election (coordination.k8s.io/v1) with optimistic concurrency, after client-go's
// leaderelection: a candidate takes the Lease when it is absent or has not been renewed for leaseDuration
// (measured on the local clock from when we last saw it change, so clock skew between nodes does not matter);
// the leader renews every retryPeriod and steps down when it could not renew for renewDeadline.
// Same surface as the LeaderElector agreed for src/kube (KUBE-INTERFACES.md).
import { type Clock, realClock, sleep } from '../../kube/clock.js';
import type { KubeClientLike, ResourceRefLike } from '../modelserving/io.js';
import { isAlreadyExists, isConflict, isNotFound } from '../modelserving/io.js';

export const LEASES: ResourceRefLike = Object.freeze({
  group: 'coordination.k8s.io',
  version: 'v1',
  plural: 'leases',
  kind: 'Lease',
  namespaced: true,
});

interface Lease {
  apiVersion: 'coordination.k8s.io/v1';
  kind: 'Lease';
  metadata: { name: string; namespace: string; resourceVersion?: string };
  spec: {
    holderIdentity?: string;
    leaseDurationSeconds?: number;
    acquireTime?: string;
    renewTime?: string;
    leaseTransitions?: number;
  };
}

export interface LeaderElectorOptions {
  client: KubeClientLike;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  clock?: Clock;
  onStartedLeading(signal: AbortSignal): void;
  onStoppedLeading(): void;
  onNewLeader?(identity: string): void;
}

/** Kubernetes MicroTime: RFC 3339 with microseconds. */
function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private leading = false;
  private observed?: { holder: string; renewTime: string; rv: string };
  private observedAt = 0;
  private lastLeader = '';
  private readonly clock: Clock;
  private readonly leaseMs: number;
  private readonly renewMs: number;
  private readonly retryMs: number;

  constructor(private readonly o: LeaderElectorOptions) {
    this.clock = o.clock ?? realClock;
    this.leaseMs = o.leaseDurationMs ?? 15_000;
    this.renewMs = o.renewDeadlineMs ?? 10_000;
    this.retryMs = o.retryPeriodMs ?? 2_000;
  }

  isLeader(): boolean {
    return this.leading;
  }

  /** Campaigns until the signal aborts; leads, steps down on lost renewals, campaigns again. */
  async run(signal?: AbortSignal): Promise<void> {
    while (!signal?.aborted) {
      if (await this.tryAcquireOrRenew()) {
        this.leading = true;
        const lead = new AbortController();
        const stopLead = () => lead.abort();
        signal?.addEventListener('abort', stopLead, { once: true });
        this.o.onStartedLeading(lead.signal);
        let lastRenew = this.clock.now();
        while (!signal?.aborted) {
          try {
            await sleep(this.clock, this.retryMs, signal, 'leader-renew');
          } catch {
            break;
          }
          if (await this.tryAcquireOrRenew()) lastRenew = this.clock.now();
          else if (this.observed && this.observed.holder !== this.o.identity)
            break; // someone else took it
          else if (this.clock.now() - lastRenew >= this.renewMs) break;
        }
        signal?.removeEventListener('abort', stopLead);
        this.leading = false;
        lead.abort();
        this.o.onStoppedLeading();
        if (signal?.aborted) return;
      }
      try {
        await sleep(this.clock, this.retryMs, signal, 'leader-retry');
      } catch {
        return;
      }
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const now = this.clock.now();
    const { client, namespace, name, identity } = this.o;
    let lease: Lease | undefined;
    try {
      lease = await client.get<Lease>(LEASES, name, namespace);
    } catch (err) {
      if (!isNotFound(err)) return false;
    }
    const spec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.ceil(this.leaseMs / 1000),
      acquireTime: microTime(now),
      renewTime: microTime(now),
      leaseTransitions: 0,
    };
    if (!lease) {
      try {
        await client.create(
          LEASES,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec },
          { namespace },
        );
        this.see(identity, spec.renewTime, '', now);
        return true;
      } catch (err) {
        if (!isAlreadyExists(err)) return false;
        return false;
      }
    }
    const holder = lease.spec?.holderIdentity ?? '';
    this.see(holder, lease.spec?.renewTime ?? '', lease.metadata.resourceVersion ?? '', now);
    const expired = now >= this.observedAt + (lease.spec?.leaseDurationSeconds ?? this.leaseMs / 1000) * 1000;
    if (holder && holder !== identity && !expired) return false;
    const next: Lease = {
      ...lease,
      spec: {
        ...lease.spec,
        ...spec,
        acquireTime: holder === identity ? (lease.spec.acquireTime ?? spec.acquireTime) : spec.acquireTime,
        leaseTransitions: (lease.spec.leaseTransitions ?? 0) + (holder === identity ? 0 : 1),
      },
    };
    try {
      const stored = await client.replace<Lease>(LEASES, next);
      this.see(identity, next.spec.renewTime ?? '', stored?.metadata?.resourceVersion ?? '', now);
      return true;
    } catch (err) {
      if (isConflict(err)) return false;
      return false;
    }
  }

  /** Remembers when the record last changed, on our clock. */
  private see(holder: string, renewTime: string, rv: string, now: number): void {
    const o = this.observed;
    if (!o || o.holder !== holder || o.renewTime !== renewTime || (rv && o.rv !== rv)) {
      this.observed = { holder, renewTime, rv };
      this.observedAt = now;
    }
    if (holder && holder !== this.lastLeader) {
      this.lastLeader = holder;
      this.o.onNewLeader?.(holder);
    }
  }
}
