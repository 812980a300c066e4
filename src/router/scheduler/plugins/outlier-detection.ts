// `outlier-detection` scheduler plugin: the I/O shell around OutlierDetector. As a filter it drops ejected endpoints
// (and half-open ones whose single probe is already out); through the proxy hooks it learns every attempt's outcome
// (onDispatch / onAttempt / onRelease) and every stream that broke later (onResponseDone). A timer sweeps for stalls.
// State goes to Prometheus (kthena_router_endpoint_circuit_state, …_ejections_total, …_ejections_skipped_total) and
// to the debug server (/debug/scheduler → plugins.state["outlier-detection"]).
import { Counter, Gauge } from 'prom-client';
import type { AttemptRecord } from '../../proxy/forward.js';
import type { RequestContext } from '../../request/context.js';
import {
  type Attempt,
  OUTLIER_DEFAULTS,
  type OutlierConfig,
  OutlierDetector,
  type Transition,
} from '../../resilience/outlier.js';
import type { ServerEndpoint } from '../../store/store.js';
import { parseDuration } from '../../util/duration.js';
import {
  type PluginArgs,
  type PluginDefinition,
  type PluginDeps,
  processClock,
  type SchedulerPlugin,
} from '../plugin.js';

export const OUTLIER_PLUGIN = 'outlier-detection';
const STATE_VALUE = { closed: 0, open: 1, half_open: 2 } as const;

export interface ResilienceClock {
  now(): number;
  setInterval(fn: () => void, ms: number): { unref?(): void } | number;
  clearInterval(h: unknown): void;
}

const realClock: ResilienceClock = processClock;

/** Reads the plugin's args (router config `scheduler.pluginConfig`); a bad value throws naming the key. */
export function parseOutlierArgs(args: PluginArgs): OutlierConfig {
  const c = { ...OUTLIER_DEFAULTS };
  const num = (key: keyof OutlierConfig, min: number, max = Number.POSITIVE_INFINITY, integer = false) => {
    const v = args[key];
    if (v === undefined) return;
    const n = Number(v);
    if (
      typeof v === 'boolean' ||
      v === '' ||
      !Number.isFinite(n) ||
      n < min ||
      n > max ||
      (integer && !Number.isInteger(n))
    )
      throw new Error(
        `${key}: must be ${integer ? 'an integer' : 'a number'} in [${min}, ${max}], got ${JSON.stringify(v)}`,
      );
    c[key] = n;
  };
  const dur = (key: string, field: keyof OutlierConfig, allowZero: boolean) => {
    const v = args[key];
    if (v === undefined) return;
    let ms: number;
    try {
      ms = typeof v === 'number' ? v : typeof v === 'string' ? parseDuration(v) : Number.NaN;
    } catch {
      ms = Number.NaN;
    }
    if (!Number.isFinite(ms) || ms < 0 || (!allowZero && ms === 0))
      throw new Error(`${key}: must be a duration such as 10s or 500ms (or milliseconds), got ${JSON.stringify(v)}`);
    c[field] = ms;
  };
  num('consecutiveFailures', 1, 1000, true);
  num('maxEjectionPercent', 0, 100);
  num('ttftFactor', 0);
  num('ttftMinSamples', 1, 10_000, true);
  dur('baseEjectionTime', 'baseEjectionMs', false);
  dur('maxEjectionTime', 'maxEjectionMs', false);
  dur('stallTimeout', 'stallTimeoutMs', true);
  dur('ttftMinExcess', 'ttftMinExcessMs', true);
  if (c.maxEjectionMs < c.baseEjectionMs) throw new Error('maxEjectionTime: must be ≥ baseEjectionTime');
  const known = new Set([
    'consecutiveFailures',
    'maxEjectionPercent',
    'ttftFactor',
    'ttftMinSamples',
    'baseEjectionTime',
    'maxEjectionTime',
    'stallTimeout',
    'ttftMinExcess',
  ]);
  for (const k of Object.keys(args))
    if (!known.has(k)) throw new Error(`unknown argument "${k}" (known: ${[...known].join(', ')})`);
  return c;
}

export class OutlierPlugin implements SchedulerPlugin {
  readonly name = OUTLIER_PLUGIN;
  readonly detector: OutlierDetector;
  private readonly timer: unknown;
  private readonly clock: ResilienceClock;
  /** Fleet member lists are rebuilt only when the store hands over a new endpoints array. */
  private readonly lastFleet = new Map<string, readonly ServerEndpoint[]>();
  /** Each request's current attempt per endpoint (a PD request has two at once), forgotten when it ends. */
  private readonly current = new WeakMap<RequestContext, Map<string, Attempt>>();

  constructor(cfg: OutlierConfig, deps: PluginDeps, clock: ResilienceClock = realClock) {
    this.clock = clock;
    const registers = [deps.metrics.registry];
    const ejections =
      (deps.metrics.registry.getSingleMetric('kthena_router_endpoint_ejections_total') as Counter | undefined) ??
      new Counter({
        name: 'kthena_router_endpoint_ejections_total',
        help: 'Endpoints ejected by outlier detection, by reason',
        labelNames: ['endpoint', 'reason'],
        registers,
      });
    const skipped =
      (deps.metrics.registry.getSingleMetric('kthena_router_endpoint_ejections_skipped_total') as
        | Counter
        | undefined) ??
      new Counter({
        name: 'kthena_router_endpoint_ejections_skipped_total',
        help: 'Ejections not done because maxEjectionPercent of the fleet was already out',
        labelNames: ['model_server', 'reason'],
        registers,
      });
    const onTransition = (t: Transition) => {
      if (t.skipped) skipped.inc({ model_server: t.fleet, reason: t.reason ?? 'unknown' });
      else if (t.to === 'open') ejections.inc({ endpoint: t.endpoint, reason: t.reason ?? 'unknown' });
    };
    this.detector = new OutlierDetector(cfg, () => clock.now(), onTransition);
    const detector = this.detector;
    if (!deps.metrics.registry.getSingleMetric('kthena_router_endpoint_circuit_state'))
      new Gauge({
        name: 'kthena_router_endpoint_circuit_state',
        help: 'Circuit state per endpoint seen by outlier detection: 0 closed, 1 open (ejected), 2 half-open (probing)',
        labelNames: ['endpoint'],
        registers,
        collect() {
          this.reset();
          for (const h of detector.snapshot()) this.set({ endpoint: h.key }, STATE_VALUE[h.state]);
        },
      });
    if (cfg.stallTimeoutMs > 0) {
      const t = clock.setInterval(() => detector.sweep(), Math.max(50, Math.min(1000, cfg.stallTimeoutMs / 4)));
      if (typeof t === 'object') t.unref?.();
      this.timer = t;
    }
  }

  preSchedule(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): void {
    const fleet = ctx.serverKey ?? '';
    if (this.lastFleet.get(fleet) === endpoints) return;
    this.lastFleet.set(fleet, endpoints);
    this.detector.setFleet(
      fleet,
      endpoints.map((e) => e.state.key),
    );
  }

  filter(_ctx: RequestContext, eps: readonly ServerEndpoint[]): ServerEndpoint[] {
    if (!this.detector.anyEjected) return eps.slice();
    const kept = eps.filter((e) => this.detector.admits(e.state.key));
    // Fail open: ejecting everything cannot help (maxEjectionPercent normally prevents reaching this).
    return kept.length > 0 ? kept : eps.slice();
  }

  /** The request's current attempt per endpoint (PD sends two legs of one request at once). */
  private attempts(ctx: RequestContext): Map<string, Attempt> {
    let m = this.current.get(ctx);
    if (!m) {
      m = new Map();
      this.current.set(ctx, m);
    }
    return m;
  }

  onDispatch(ctx: RequestContext, ep: ServerEndpoint, cancel?: () => void): void {
    this.attempts(ctx).set(ep.state.key, this.detector.dispatch(ep.state.key, ctx.serverKey ?? '', cancel));
  }

  onRelease(ctx: RequestContext, ep: ServerEndpoint): void {
    const a = this.attempts(ctx).get(ep.state.key);
    if (a) this.detector.released(a);
  }

  onAttempt(ctx: RequestContext, ep: ServerEndpoint, rec: AttemptRecord): void {
    const a = this.attempts(ctx).get(ep.state.key);
    if (!a) return;
    switch (rec.outcome) {
      case 'ok':
        this.detector.record(a, 'success', ctx.stream ? this.clock.now() - a.at : undefined);
        break;
      case 'client_error':
        this.detector.record(a, 'success');
        break;
      case 'aborted':
        this.detector.record(a, 'aborted');
        break;
      default:
        this.detector.record(a, 'failure');
    }
  }

  onResponseDone(
    ctx: RequestContext,
    outcome: { endpoint?: ServerEndpoint; ok: boolean; aborted: boolean; status: number },
  ): void {
    this.current.delete(ctx);
    // A stream that broke after its first byte: the engine died or hung mid-answer.
    if (outcome.endpoint && !outcome.ok && !outcome.aborted && outcome.status < 400)
      this.detector.failure(outcome.endpoint.state.key, ctx.serverKey ?? '');
  }

  onEndpointRemoved(state: { key: string }): void {
    this.detector.forget(state.key);
  }

  close(): void {
    if (this.timer !== undefined) this.clock.clearInterval(this.timer);
  }

  debugState(): unknown {
    const now = this.clock.now();
    return {
      config: this.detector.cfg,
      pendingAttempts: this.detector.pendingAttempts,
      endpoints: this.detector.snapshot().map((h) => ({
        endpoint: h.key,
        state: h.state,
        reason: h.reason ?? null,
        ejections: h.ejections,
        consecutiveFailures: h.consecutiveFailures,
        reopensInMs: h.state === 'open' ? Math.max(0, Math.round(h.openUntil - now)) : null,
        probeInFlight: h.probeInFlight,
        ttftEwmaMs: h.ttftSamples ? Math.round(h.ttftEwmaMs) : null,
        ttftSamples: h.ttftSamples,
      })),
    };
  }
}

export const outlierDetectionPlugin: PluginDefinition = {
  name: OUTLIER_PLUGIN,
  roles: ['filter'],
  create(args, deps) {
    return new OutlierPlugin(parseOutlierArgs(args), deps, deps.clock ?? realClock);
  },
};
