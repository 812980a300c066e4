// Per-endpoint outlier detection and circuit breaking that lasts across requests, apart from I/O.
//
// Each endpoint has a circuit: closed (serving) → open (ejected for a back-off) → half-open (exactly one probe request
// may go) → closed again when the probe answers, or open again with a doubled back-off when it fails. An endpoint is
// ejected for:
//   - consecutive failures: 5xx answers, connect errors, timeouts, streams that break after the first byte;
//   - a stall: an attempt got no first byte within `stallTimeoutMs` while another endpoint of the same fleet (the
//     ModelServer) answered a request started after it — the "Ready but stuck" engine whose health checks pass;
//   - a TTFT outlier: its smoothed time-to-first-byte is `ttftFactor` times the median of the rest of the fleet and at
//     least `ttftMinExcessMs` above it.
// Never more than `maxEjectionPercent` of a fleet's endpoints are out at once (a fleet-wide problem is not fixed by
// ejecting everything; the ejection is skipped and counted instead). All time comes from an injected clock.

export interface OutlierConfig {
  /** Failures in a row that eject an endpoint. */
  consecutiveFailures: number;
  /** First ejection lasts this long; each further one doubles it, up to maxEjectionMs. */
  baseEjectionMs: number;
  maxEjectionMs: number;
  /** Upper bound on the share of a fleet ejected at the same time (0–100). */
  maxEjectionPercent: number;
  /** An attempt with no first byte for this long while others answer is a stall; 0 disables stall detection. */
  stallTimeoutMs: number;
  /** TTFT outlier factor against the median of the other endpoints; 0 disables TTFT ejection. */
  ttftFactor: number;
  ttftMinExcessMs: number;
  /** Streaming answers an endpoint (and each compared peer) needs before its TTFT counts. */
  ttftMinSamples: number;
}

export const OUTLIER_DEFAULTS: OutlierConfig = {
  consecutiveFailures: 3,
  baseEjectionMs: 10_000,
  maxEjectionMs: 300_000,
  maxEjectionPercent: 50,
  stallTimeoutMs: 10_000,
  ttftFactor: 5,
  ttftMinExcessMs: 1_000,
  ttftMinSamples: 5,
};

/** Weight of the newest TTFT sample in the moving average. */
const TTFT_ALPHA = 0.3;

export type CircuitState = 'closed' | 'open' | 'half_open';
export type EjectReason = 'consecutive_failures' | 'stall' | 'ttft_outlier' | 'probe_failed';
export type AttemptResult = 'success' | 'failure' | 'aborted';

export interface EndpointHealth {
  readonly key: string;
  state: CircuitState;
  consecutiveFailures: number;
  /** Ejections since the endpoint last stayed healthy for maxEjectionMs; sets the back-off. */
  ejections: number;
  reason?: EjectReason;
  openedAt: number;
  openUntil: number;
  closedAt: number;
  probeInFlight: boolean;
  ttftEwmaMs: number;
  ttftSamples: number;
  /** Last time the endpoint produced a first byte (any status). */
  lastAnswerAt: number;
}

/** One dispatched attempt, from dispatch until its first byte or its end. */
export interface Attempt {
  readonly key: string;
  readonly fleet: string;
  readonly at: number;
  readonly probe: boolean;
  cancel?: () => void;
  cancelled: boolean;
  done: boolean;
}

export interface Transition {
  endpoint: string;
  fleet: string;
  from: CircuitState;
  to: CircuitState;
  reason?: EjectReason;
  /** Set when an ejection was refused by maxEjectionPercent. */
  skipped?: boolean;
  durationMs?: number;
}

export class OutlierDetector {
  private readonly health = new Map<string, EndpointHealth>();
  private readonly fleets = new Map<string, readonly string[]>();
  private readonly pending = new Set<Attempt>();
  /** Non-closed endpoints; the filter's fast path is "none". */
  private notClosed = 0;

  constructor(
    readonly cfg: OutlierConfig,
    private readonly now: () => number,
    private readonly onTransition: (t: Transition) => void = () => undefined,
  ) {}

  /** Records a fleet's current members (the ModelServer's endpoints); used for maxEjectionPercent and TTFT medians. */
  setFleet(fleet: string, members: readonly string[]): void {
    this.fleets.set(fleet, members);
  }

  get anyEjected(): boolean {
    return this.notClosed > 0;
  }

  /** The circuit state now (an expired ejection turns half-open here, lazily). */
  stateOf(key: string): CircuitState {
    const h = this.health.get(key);
    if (!h) return 'closed';
    if (h.state === 'open' && this.now() >= h.openUntil) {
      h.state = 'half_open';
      h.probeInFlight = false;
      this.onTransition({ endpoint: key, fleet: '', from: 'open', to: 'half_open' });
    }
    return h.state;
  }

  /** May a new request be scheduled on the endpoint? Half-open admits one probe at a time. */
  admits(key: string): boolean {
    const s = this.stateOf(key);
    if (s === 'closed') return true;
    if (s === 'open') return false;
    return !this.health.get(key)!.probeInFlight;
  }

  dispatch(key: string, fleet: string, cancel?: () => void): Attempt {
    const h = this.health.get(key);
    let probe = false;
    if (h && this.stateOf(key) === 'half_open' && !h.probeInFlight) {
      h.probeInFlight = true;
      probe = true;
    }
    const a: Attempt = { key, fleet, at: this.now(), probe, cancel, cancelled: false, done: false };
    this.pending.add(a);
    return a;
  }

  /** The attempt's connection is released; it can no longer stall. */
  released(a: Attempt): void {
    this.pending.delete(a);
  }

  /**
   * The attempt ended or produced its first byte. `ttftMs` is given for successful streaming answers. Attempts this
   * detector cancelled itself are not counted again.
   */
  record(a: Attempt, result: AttemptResult, ttftMs?: number): void {
    this.pending.delete(a);
    if (a.done) return;
    a.done = true;
    if (a.cancelled) return;
    const h = this.ensure(a.key);
    const now = this.now();
    if (result === 'aborted') {
      if (a.probe) h.probeInFlight = false;
      return;
    }
    if (result === 'success') {
      h.lastAnswerAt = now;
      h.consecutiveFailures = 0;
      if (a.probe && h.state === 'half_open') this.close(h, a.fleet);
      if (ttftMs !== undefined && h.state === 'closed') this.ttftSample(h, a.fleet, ttftMs);
      return;
    }
    this.failure(a.key, a.fleet, a.probe);
  }

  /** A failure outside an attempt's first byte (a stream that broke mid-body). */
  failure(key: string, fleet: string, probe = false): void {
    const h = this.ensure(key);
    this.stateOf(key);
    h.consecutiveFailures++;
    if (h.state === 'half_open' && (probe || h.probeInFlight)) {
      this.eject(h, fleet, 'probe_failed');
      return;
    }
    if (h.state === 'closed' && h.consecutiveFailures >= this.cfg.consecutiveFailures)
      this.eject(h, fleet, 'consecutive_failures');
  }

  /**
   * Stall sweep, run periodically: attempts older than stallTimeoutMs with no first byte, on an endpoint whose fleet
   * peers answered requests that began later. Ejects the endpoint and cancels its unanswered attempts so they fail
   * over (nothing was sent to their clients yet).
   */
  sweep(): void {
    const limit = this.cfg.stallTimeoutMs;
    if (limit <= 0 || this.pending.size === 0) return;
    const now = this.now();
    const stalled = new Map<string, string>();
    for (const a of this.pending) {
      if (now - a.at < limit || stalled.has(a.key)) continue;
      if (this.peerAnsweredSince(a.fleet, a.key, a.at)) stalled.set(a.key, a.fleet);
    }
    for (const [key, fleet] of stalled) {
      const h = this.ensure(key);
      const st = this.stateOf(key);
      const ejected =
        st === 'half_open' ? this.eject(h, fleet, 'probe_failed') : st === 'closed' && this.eject(h, fleet, 'stall');
      if (!ejected && h.state !== 'open') continue;
      for (const a of [...this.pending]) {
        if (a.key !== key) continue;
        a.cancelled = true;
        this.pending.delete(a);
        a.cancel?.();
      }
    }
  }

  forget(key: string): void {
    const h = this.health.get(key);
    if (h && h.state !== 'closed') this.notClosed--;
    this.health.delete(key);
    for (const a of this.pending) if (a.key === key) this.pending.delete(a);
  }

  snapshot(): (EndpointHealth & { state: CircuitState })[] {
    return [...this.health.values()].map((h) => ({ ...h, state: this.stateOf(h.key) }));
  }

  get pendingAttempts(): number {
    return this.pending.size;
  }

  private peerAnsweredSince(fleet: string, self: string, since: number): boolean {
    const members = this.fleets.get(fleet) ?? [];
    for (const m of members) {
      if (m === self) continue;
      const h = this.health.get(m);
      if (h && h.lastAnswerAt > since) return true;
    }
    return false;
  }

  private ttftSample(h: EndpointHealth, fleet: string, ms: number): void {
    h.ttftEwmaMs = h.ttftSamples === 0 ? ms : TTFT_ALPHA * ms + (1 - TTFT_ALPHA) * h.ttftEwmaMs;
    h.ttftSamples++;
    const c = this.cfg;
    if (c.ttftFactor <= 0 || h.ttftSamples < c.ttftMinSamples) return;
    const peers: number[] = [];
    for (const m of this.fleets.get(fleet) ?? []) {
      if (m === h.key) continue;
      const p = this.health.get(m);
      if (p && p.state === 'closed' && p.ttftSamples >= c.ttftMinSamples) peers.push(p.ttftEwmaMs);
    }
    if (peers.length === 0) return;
    const med = median(peers);
    if (h.ttftEwmaMs > c.ttftFactor * med && h.ttftEwmaMs - med >= c.ttftMinExcessMs)
      this.eject(h, fleet, 'ttft_outlier');
  }

  private ensure(key: string): EndpointHealth {
    let h = this.health.get(key);
    if (!h) {
      h = {
        key,
        state: 'closed',
        consecutiveFailures: 0,
        ejections: 0,
        openedAt: 0,
        openUntil: 0,
        closedAt: Number.NEGATIVE_INFINITY,
        probeInFlight: false,
        ttftEwmaMs: 0,
        ttftSamples: 0,
        lastAnswerAt: Number.NEGATIVE_INFINITY,
      };
      this.health.set(key, h);
    }
    return h;
  }

  /** Opens the circuit unless that would exceed maxEjectionPercent of the fleet; returns whether it did. */
  private eject(h: EndpointHealth, fleet: string, reason: EjectReason): boolean {
    const from = this.stateOf(h.key);
    if (from === 'closed' && !this.roomToEject(fleet, h.key)) {
      this.onTransition({ endpoint: h.key, fleet, from, to: from, reason, skipped: true });
      h.consecutiveFailures = 0;
      return false;
    }
    const now = this.now();
    // A healthy stretch as long as the longest back-off forgives earlier ejections.
    if (from === 'closed' && now - h.closedAt > this.cfg.maxEjectionMs) h.ejections = 0;
    h.ejections++;
    const duration = Math.min(this.cfg.baseEjectionMs * 2 ** (h.ejections - 1), this.cfg.maxEjectionMs);
    if (from === 'closed') this.notClosed++;
    h.state = 'open';
    h.reason = reason;
    h.openedAt = now;
    h.openUntil = now + duration;
    h.probeInFlight = false;
    h.consecutiveFailures = 0;
    h.ttftEwmaMs = 0;
    h.ttftSamples = 0;
    this.onTransition({ endpoint: h.key, fleet, from, to: 'open', reason, durationMs: duration });
    return true;
  }

  private close(h: EndpointHealth, fleet: string): void {
    h.state = 'closed';
    h.reason = undefined;
    h.probeInFlight = false;
    h.closedAt = this.now();
    this.notClosed--;
    this.onTransition({ endpoint: h.key, fleet, from: 'half_open', to: 'closed' });
  }

  private roomToEject(fleet: string, key: string): boolean {
    const members = this.fleets.get(fleet);
    if (!members || members.length < 2) return false;
    let out = 0;
    for (const m of members) if (m !== key && this.stateOf(m) !== 'closed') out++;
    return out + 1 <= Math.floor((members.length * this.cfg.maxEjectionPercent) / 100);
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}
