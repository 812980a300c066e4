// Leader election on a coordination.k8s.io/v1 Lease, following client-go's algorithm. Safety rests on the API
// server's optimistic concurrency: every write carries the resourceVersion we read, so of two contenders only one
// PUT succeeds (the other gets 409). A lease counts as expired when its record has not changed for leaseDuration as
// measured on *our* clock since we first observed that record (client-go's observedTime), so clock skew between
// machines cannot make two leaders.
import type { Lease, LeaseSpec } from 'kubernetes-types/coordination/v1.js';
import type { KubeClient } from './client.js';
import { type Clock, realClock, sleep, type TimerHandle } from './clock.js';
import { isAlreadyExists, isConflict, isNotFound } from './errors.js';
import { type KubeLogger, silentLogger } from './log.js';
import { LEASES } from './resource.js';

export interface LeaderElectorOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  identity: string;
  /** How long a standby waits after the last observed renewal before taking over. Default 15 s. */
  leaseDurationMs?: number;
  /** The leader gives up if it could not renew for this long. Default 10 s. */
  renewDeadlineMs?: number;
  /** Interval between acquire/renew attempts. Default 2 s. */
  retryPeriodMs?: number;
  /** Jitter of standby retries: a retry waits retryPeriod·(1 + jitter·rand). Default 1.2 (client-go). */
  jitter?: number;
  /** On graceful stop, clear the holder so a standby takes over at once. Default true. */
  releaseOnCancel?: boolean;
  clock?: Clock;
  random?: () => number;
  log?: KubeLogger;
  /** Called once we hold the lease; the signal aborts when leadership ends. */
  onStartedLeading(signal: AbortSignal): void;
  /** Called when leadership ends (lost or released); not called if we never led. */
  onStoppedLeading(): void;
  /** Called whenever the observed holder changes (including to ourselves). */
  onNewLeader?(identity: string): void;
}

type Attempt = 'ok' | 'held' | 'failed';

/** MicroTime: RFC 3339 with exactly six fractional digits, as the API server stores it. */
export function microTime(ms: number): string {
  return new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export class LeaderElector {
  private readonly o: Required<
    Pick<LeaderElectorOptions, 'leaseDurationMs' | 'renewDeadlineMs' | 'retryPeriodMs' | 'jitter' | 'releaseOnCancel'>
  > &
    LeaderElectorOptions;
  private readonly clock: Clock;
  private readonly random: () => number;
  private readonly log: KubeLogger;
  private observed?: Lease;
  private observedTime = 0;
  private leader = false;
  private running = false;
  private lastHolder?: string;

  constructor(opts: LeaderElectorOptions) {
    this.o = {
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      jitter: 1.2,
      releaseOnCancel: true,
      ...opts,
    };
    const { leaseDurationMs: ld, renewDeadlineMs: rd, retryPeriodMs: rp } = this.o;
    // client-go's sanity rules: the leader must give up before a standby may take over.
    if (!(ld > rd)) throw new Error('leaseDurationMs must be greater than renewDeadlineMs');
    if (!(rd > rp * 1.2)) throw new Error('renewDeadlineMs must be greater than 1.2 × retryPeriodMs');
    if (!(rp > 0)) throw new Error('retryPeriodMs must be positive');
    if (!opts.identity) throw new Error('identity must not be empty');
    this.clock = opts.clock ?? realClock;
    this.random = opts.random ?? Math.random;
    this.log = opts.log ?? silentLogger;
  }

  isLeader(): boolean {
    return this.leader;
  }

  /** The holder of the lease as last observed ('' after a release, undefined before the first read). */
  getLeader(): string | undefined {
    return this.lastHolder;
  }

  /**
   * Campaigns until we lead, then renews until leadership is lost or `signal` aborts. Resolves when leadership
   * ends (or the signal aborts before we ever led). Like client-go, it does not campaign again after losing: a
   * process that lost leadership should exit and restart with fresh state.
   */
  async run(signal?: AbortSignal): Promise<void> {
    if (this.running) throw new Error('LeaderElector.run is already running');
    this.running = true;
    try {
      if (!(await this.acquire(signal))) return;
      const leading = new AbortController();
      this.leader = true;
      this.log.info({ lease: this.o.name, identity: this.o.identity }, 'became leader');
      try {
        this.o.onStartedLeading(leading.signal);
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'onStartedLeading threw');
      }
      const lost = await this.renewLoop(signal);
      this.leader = false;
      leading.abort(new Error(lost ? 'leadership lost' : 'leader election stopped'));
      if (!lost && this.o.releaseOnCancel) await this.release();
      this.log.info({ lease: this.o.name, identity: this.o.identity, lost }, 'stopped leading');
      try {
        this.o.onStoppedLeading();
      } catch (e) {
        this.log.error({ err: (e as Error).message }, 'onStoppedLeading threw');
      }
    } finally {
      this.running = false;
    }
  }

  private async acquire(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      if (signal?.aborted) return false;
      if ((await this.attempt(signal)) === 'ok') return true;
      const wait = this.o.retryPeriodMs * (1 + this.o.jitter * this.random());
      try {
        await sleep(this.clock, wait, signal, `leader-retry/${this.o.identity}`);
      } catch {
        return false;
      }
    }
  }

  /** Renews every retryPeriod. Returns true if leadership was lost, false if stopped by the signal. */
  private async renewLoop(signal?: AbortSignal): Promise<boolean> {
    for (;;) {
      try {
        await sleep(this.clock, this.o.retryPeriodMs, signal, `leader-renew/${this.o.identity}`);
      } catch {
        return false;
      }
      const deadline = this.clock.now() + this.o.renewDeadlineMs;
      for (;;) {
        const r = await this.attempt(signal, deadline);
        if (signal?.aborted) return false;
        if (r === 'ok') break;
        if (r === 'held') {
          this.log.warn({ lease: this.o.name, holder: this.lastHolder }, 'lease taken by another holder');
          return true;
        }
        if (this.clock.now() >= deadline) {
          this.log.warn({ lease: this.o.name }, 'failed to renew the lease within the renew deadline');
          return true;
        }
        try {
          await sleep(this.clock, this.o.retryPeriodMs, signal, `leader-renew/${this.o.identity}`);
        } catch {
          return false;
        }
        if (this.clock.now() >= deadline) {
          this.log.warn({ lease: this.o.name }, 'failed to renew the lease within the renew deadline');
          return true;
        }
      }
    }
  }

  /** One acquire-or-renew round trip. Never throws: API errors are logged and count as 'failed'. */
  private async attempt(signal?: AbortSignal, deadline?: number): Promise<Attempt> {
    // A request must not outlive the renew deadline: a hung renew would otherwise keep us "leader" forever.
    const ac = new AbortController();
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    let timer: TimerHandle | undefined;
    if (deadline !== undefined) {
      timer = this.clock.setTimeout(
        () => ac.abort(new Error('renew deadline reached')),
        deadline - this.clock.now(),
        'leader-request-deadline',
      );
    }
    try {
      return await this.tryAcquireOrRenew(ac.signal);
    } catch (e) {
      this.log.warn({ lease: this.o.name, err: (e as Error).message }, 'leader election request failed');
      return 'failed';
    } finally {
      this.clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    }
  }

  private async tryAcquireOrRenew(signal: AbortSignal): Promise<Attempt> {
    const { client, namespace, name, identity } = this.o;
    const now = this.clock.now();
    const leaseSeconds = Math.ceil(this.o.leaseDurationMs / 1000);

    // Fast path for the leader: write over the lease we last saw; a 409 sends us to the slow path.
    if (this.leader && this.observed?.spec?.holderIdentity === identity) {
      try {
        const updated = await client.replace<Lease>(
          LEASES,
          {
            ...this.observed,
            spec: { ...this.observed.spec, renewTime: microTime(now), leaseDurationSeconds: leaseSeconds },
          },
          { signal },
        );
        this.observe(updated, now);
        return 'ok';
      } catch (e) {
        if (!isConflict(e)) throw e;
      }
    }

    let lease: Lease;
    try {
      lease = await client.get<Lease>(LEASES, name, namespace, { signal });
    } catch (e) {
      if (!isNotFound(e)) throw e;
      const spec: LeaseSpec = {
        holderIdentity: identity,
        leaseDurationSeconds: leaseSeconds,
        acquireTime: microTime(now),
        renewTime: microTime(now),
        leaseTransitions: 0,
      };
      try {
        const created = await client.create<Lease>(
          LEASES,
          { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name, namespace }, spec } as Lease,
          { signal },
        );
        this.observe(created, now);
        return 'ok';
      } catch (e2) {
        if (isAlreadyExists(e2)) return 'held'; // another contender created it first
        throw e2;
      }
    }

    this.observe(lease, now);
    const rec = lease.spec ?? {};
    const holder = rec.holderIdentity ?? '';
    if (holder && holder !== identity && this.observedTime + this.o.leaseDurationMs > now) return 'held';

    const spec: LeaseSpec = {
      ...rec,
      holderIdentity: identity,
      leaseDurationSeconds: leaseSeconds,
      renewTime: microTime(now),
    };
    if (holder !== identity) {
      spec.acquireTime = microTime(now);
      spec.leaseTransitions = (rec.leaseTransitions ?? 0) + 1;
    }
    try {
      const updated = await client.replace<Lease>(LEASES, { ...lease, spec }, { signal });
      this.observe(updated, now);
      return 'ok';
    } catch (e) {
      if (isConflict(e)) return 'failed'; // someone wrote in between; look again next round
      throw e;
    }
  }

  /** Records the lease; observedTime moves only when the record itself changed. */
  private observe(lease: Lease, now: number): void {
    const prev = this.observed?.spec;
    const cur = lease.spec ?? {};
    const changed =
      !prev ||
      prev.holderIdentity !== cur.holderIdentity ||
      prev.renewTime !== cur.renewTime ||
      prev.acquireTime !== cur.acquireTime ||
      prev.leaseTransitions !== cur.leaseTransitions ||
      prev.leaseDurationSeconds !== cur.leaseDurationSeconds;
    if (changed) this.observedTime = now;
    this.observed = lease;
    const holder = cur.holderIdentity ?? '';
    if (holder !== this.lastHolder) {
      this.lastHolder = holder;
      if (holder) {
        try {
          this.o.onNewLeader?.(holder);
        } catch (e) {
          this.log.error({ err: (e as Error).message }, 'onNewLeader threw');
        }
      }
    }
  }

  /** Clears the holder so a standby can take over without waiting for the lease to expire. */
  private async release(): Promise<void> {
    const lease = this.observed;
    if (!lease || lease.spec?.holderIdentity !== this.o.identity) return;
    const now = this.clock.now();
    const ac = new AbortController();
    const timer = this.clock.setTimeout(
      () => ac.abort(new Error('release timed out')),
      this.o.renewDeadlineMs,
      'leader-release',
    );
    try {
      const updated = await this.o.client.replace<Lease>(
        LEASES,
        {
          ...lease,
          spec: {
            ...lease.spec,
            holderIdentity: '',
            leaseDurationSeconds: 1,
            acquireTime: microTime(now),
            renewTime: microTime(now),
          },
        },
        { signal: ac.signal },
      );
      this.observe(updated, now);
    } catch (e) {
      this.log.warn({ lease: this.o.name, err: (e as Error).message }, 'failed to release the lease');
    } finally {
      this.clock.clearTimeout(timer);
    }
  }
}
