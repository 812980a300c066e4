// A fleet of simulated engines whose replica count changes while load runs through it, on one VirtualClock: the
// twin of a ModelServing under an autoscaler. What the live platform does happens here at the matching moments:
//   scale up       a replica is created at once (it holds its GPUs from then on) and becomes ready after the
//                  cold start (image pull + model load; real models take 30–180 s)
//   scale down     replicas still starting are removed first (newest first), then ready ones (newest first); a
//                  removed ready replica takes no new requests and keeps its GPUs until its last request ends
//                  (graceful termination)
//   routing        each request goes to the ready replica with the fewest requests in flight (the router's
//                  least-request choice; lowest index on ties)
//   no replica     requests are held, as the router's scale-from-zero gate holds them (bounded queue, bounded
//                  wait); one past either bound is lost — the only way a request is lost here
//   metrics        each replica's engine renders its /metrics text on demand (what a scrape would read)
// The engines are the simulator's own (batching, paged KV, cost model), unchanged. Nothing reads the wall clock.
import { Engine, VirtualClock } from '../engine/index.js';
import { seededRandom } from './twin.js';

export interface FleetArrival {
  /** virtual seconds */
  at: number;
  promptTokens: number;
  outputTokens: number;
}

export interface FleetOptions {
  model: string;
  profile: string;
  /** GPUs one replica holds (the profile's tensor parallelism) */
  gpusPerReplica: number;
  coldStartSec: number;
  initialReplicas: number;
  /** replicas ready at time 0 (no cold start): a fleet that was already running */
  warmAtStart?: boolean;
  arrivals: readonly FleetArrival[];
  /** the router's scale-from-zero bounds (its defaults: 120 s, 256 requests) */
  holdTimeoutSec?: number;
  holdQueueMax?: number;
  /** timeline sample period (virtual seconds) */
  sampleEverySec?: number;
  /** Periodic control: called every `everySec` from `startSec` while requests remain; may be async. */
  control?: { everySec: number; startSec?: number; fn: (fleet: Fleet, now: number) => void | Promise<void> };
  seed: number;
}

export interface FleetReplica {
  index: number;
  name: string;
  /** virtual seconds */
  createdAt: number;
  readyAt: number;
  /** set when scaled down */
  removedAt?: number;
  engine?: Engine;
  inflight: number;
}

export interface FleetRequestResult {
  arrivedAt: number;
  /** seconds from arrival to first token (includes any hold); undefined when lost */
  ttft?: number;
  lost?: 'timeout' | 'queue_full';
}

export interface FleetSample {
  t: number;
  /** replicas asked for */
  desired: number;
  ready: number;
  /** replicas holding GPUs (starting, ready, draining) */
  allocated: number;
  /** arrivals per second over the last sample period */
  load: number;
}

export interface FleetOutcome {
  requests: FleetRequestResult[];
  timeline: FleetSample[];
  gpuSeconds: number;
  /** times the desired replica count changed */
  scaleEvents: number;
  durationSec: number;
}

interface Held {
  i: number;
  timer: { cancel(): void };
}

export class Fleet {
  readonly clock = new VirtualClock();
  private readonly replicas: FleetReplica[] = [];
  private nextIndex = 0;
  private desiredCount = 0;
  private scaleEvents = 0;
  private readonly held: Held[] = [];
  private readonly results: FleetRequestResult[];
  private done = 0;
  private gpuSeconds = 0;
  private readonly tokenRand: () => number;

  constructor(readonly o: FleetOptions) {
    this.results = o.arrivals.map((a) => ({ arrivedAt: a.at }));
    this.tokenRand = seededRandom(o.seed ^ 0x5eed);
  }

  /** Replicas holding GPUs now, in creation order. */
  live(): readonly FleetReplica[] {
    return this.replicas.filter((r) => r.removedAt === undefined || r.inflight > 0);
  }

  /** Replicas not scaled down (starting or ready), in creation order. */
  members(): readonly FleetReplica[] {
    return this.replicas.filter((r) => r.removedAt === undefined);
  }

  desired(): number {
    return this.desiredCount;
  }

  isReady(r: FleetReplica): boolean {
    return r.removedAt === undefined && this.clock.now() >= r.readyAt;
  }

  /** The replica's engine metrics text, as a scrape of its /metrics would read it (empty while starting). */
  metricsText(r: FleetReplica): string {
    return r.engine && this.isReady(r) ? r.engine.metrics.render() : '';
  }

  /** Asks for `n` replicas now. */
  scaleTo(n: number): void {
    const target = Math.max(0, Math.floor(n));
    if (target !== this.desiredCount) this.scaleEvents++;
    this.desiredCount = target;
    const now = this.clock.now();
    let members = this.members();
    for (let k = members.length; k < target; k++) this.create(now, this.o.coldStartSec);
    members = this.members();
    if (members.length <= target) return;
    const byRemoval = [...members].sort((a, b) => {
      const ra = this.isReady(a) ? 1 : 0;
      const rb = this.isReady(b) ? 1 : 0;
      return ra - rb || b.index - a.index;
    });
    for (const r of byRemoval.slice(0, members.length - target)) this.remove(r, now);
  }

  private create(now: number, coldStartSec: number): void {
    const index = this.nextIndex++;
    const r: FleetReplica = {
      index,
      name: `replica-${index}`,
      createdAt: now,
      readyAt: now + coldStartSec,
      inflight: 0,
    };
    r.engine = new Engine({
      model: this.o.model,
      profile: this.o.profile,
      seed: index,
      clock: this.clock,
      engineId: `fleet-${this.o.seed}-${index}`,
    });
    this.replicas.push(r);
    this.clock.at(r.readyAt, () => {
      if (r.removedAt === undefined) this.release();
    });
  }

  private remove(r: FleetReplica, now: number): void {
    r.removedAt = now;
    if (r.inflight === 0) this.retire(r, now);
  }

  /** The replica's GPUs are free: count what it held. */
  private retire(r: FleetReplica, now: number): void {
    this.gpuSeconds += (now - r.createdAt) * this.o.gpusPerReplica;
    r.engine?.close();
    r.engine = undefined;
  }

  private pick(): FleetReplica | undefined {
    let best: FleetReplica | undefined;
    for (const r of this.replicas) if (this.isReady(r) && (best === undefined || r.inflight < best.inflight)) best = r;
    return best;
  }

  private arrive(i: number): void {
    const r = this.pick();
    if (r) {
      this.dispatch(i, r);
      return;
    }
    if (this.held.length >= (this.o.holdQueueMax ?? 256)) {
      this.lose(i, 'queue_full');
      return;
    }
    const timer = this.clock.at(this.clock.now() + (this.o.holdTimeoutSec ?? 120), () => {
      const k = this.held.findIndex((h) => h.i === i);
      if (k >= 0) {
        this.held.splice(k, 1);
        this.lose(i, 'timeout');
      }
    });
    this.held.push({ i, timer });
  }

  /** A replica became ready: held requests go out, oldest first. */
  private release(): void {
    for (const h of this.held.splice(0)) {
      h.timer.cancel();
      this.dispatch(h.i, this.pick()!);
    }
  }

  private lose(i: number, why: 'timeout' | 'queue_full'): void {
    this.results[i]!.lost = why;
    this.done++;
  }

  private promptOf(n: number): number[] {
    // Distinct random tokens: no two requests share a prefix, so the prefix cache does not flatter any policy.
    const out = new Array<number>(n);
    for (let k = 0; k < n; k++) out[k] = 100 + Math.floor(this.tokenRand() * 30_000);
    return out;
  }

  private dispatch(i: number, r: FleetReplica): void {
    const a = this.o.arrivals[i]!;
    const res = this.results[i]!;
    r.inflight++;
    let first = false;
    r.engine!.submit({
      id: `r${i}`,
      promptTokens: this.promptOf(a.promptTokens),
      maxTokens: a.outputTokens,
      minTokens: 0,
      ignoreEos: true,
      lora: null,
      onUpdate: (req, now) => {
        if (!first && req.numOutputTokens > 0) {
          first = true;
          res.ttft = now - a.at;
        }
        if (req.state !== 'finished') return;
        r.inflight--;
        this.done++;
        if (r.removedAt !== undefined && r.inflight === 0) this.clock.at(now, () => this.retire(r, now));
      },
    });
  }

  /** Runs the whole trace; resolves when every request has been answered or lost. */
  async run(): Promise<FleetOutcome> {
    const o = this.o;
    const n = o.arrivals.length;
    for (let k = 0; k < o.initialReplicas; k++) this.create(0, o.warmAtStart ? 0 : o.coldStartSec);
    this.desiredCount = o.initialReplicas;
    // Arrivals are chained (one pending timer at a time) so the heap stays small.
    let next = 0;
    const arrivalStep = () => {
      const now = this.clock.now();
      while (next < n && o.arrivals[next]!.at <= now) this.arrive(next++);
      if (next < n) this.clock.at(o.arrivals[next]!.at, arrivalStep);
    };
    if (n > 0) this.clock.at(o.arrivals[0]!.at, arrivalStep);

    const timeline: FleetSample[] = [];
    const every = o.sampleEverySec ?? 10;
    let counted = 0;
    const sample = () => {
      const now = this.clock.now();
      let k = counted;
      while (k < n && o.arrivals[k]!.at <= now) k++;
      timeline.push({
        t: now,
        desired: this.desiredCount,
        ready: this.replicas.filter((r) => this.isReady(r)).length,
        allocated: this.live().length,
        load: (k - counted) / every,
      });
      counted = k;
      if (this.done < n) this.clock.at(now + every, sample);
    };
    this.clock.at(0, sample);

    let pending: Promise<void> | undefined;
    if (o.control) {
      const c = o.control;
      const tick = () => {
        const r = c.fn(this, this.clock.now());
        if (r) pending = r;
        if (this.done < n) this.clock.at(this.clock.now() + c.everySec, tick);
      };
      this.clock.at(c.startSec ?? 0, tick);
    }
    // The drive loop: an async control step (the autoscaler's pass) completes before virtual time moves on.
    for (;;) {
      if (pending) {
        const p = pending;
        pending = undefined;
        await p;
        continue;
      }
      if (!this.clock.runNext()) break;
    }
    const end = this.clock.now();
    for (const r of this.replicas) if (r.engine) this.retire(r, end);
    if (this.done < n) throw new Error(`fleet stopped with ${n - this.done} of ${n} requests unfinished`);
    return {
      requests: this.results,
      timeline,
      gpuSeconds: this.gpuSeconds,
      scaleEvents: this.scaleEvents,
      durationSec: end,
    };
  }
}
