// The policies of `kthena bench autoscaling`. Two are the autoscaler controller itself: `upstream` and `kthena` are
// AutoscalingPolicy objects run by the real AutoscalerController (plan, metric collection from the engines' /metrics
// text, recommendation, panic/stable windows, the SLO estimator) on the twin's virtual clock; the ModelServing, its
// pods and the scale subresource are played by the fleet. The others are references the controller cannot be:
// static provisioning for the peak and for the mean, and an oracle that knows the trace's future rate.
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { AutoscalingPolicy, ModelServing } from '../../src/api/index.js';
import { AutoscalerController } from '../../src/controllers/autoscaler/index.js';
import type { Fleet, FleetReplica } from '../../src/twin/index.js';
import { peakRate, type Trace } from './trace.js';

export interface BenchPolicy {
  name: string;
  /** replicas at time 0 (already running: the day starts warm) */
  initial: number;
  /** what it runs every `everySec` */
  control?: { everySec: number; fn: (fleet: Fleet, now: number) => void | Promise<void> };
  /** the AutoscalingPolicy, for the report */
  manifest?: AutoscalingPolicy;
}

export interface BenchParams {
  trace: Trace;
  /** requests per second one replica serves within the SLO (calibrated in the twin; see docs/autoscaling.md) */
  capacityRps: number;
  coldStartSec: number;
  sloTtftSec: number;
  maxReplicas: number;
}

export function staticPeak(p: BenchParams): BenchPolicy {
  return { name: 'static-peak', initial: Math.ceil(peakRate(p.trace, 0, p.trace.spec.daySec) / p.capacityRps) };
}

export function staticMean(p: BenchParams): BenchPolicy {
  return { name: 'static-mean', initial: Math.ceil(p.trace.arrivals.length / p.trace.spec.daySec / p.capacityRps) };
}

/** Knows the rate to come: provisions for the highest rate until a replica asked for now would be ready. */
export function oracle(p: BenchParams): BenchPolicy {
  const everySec = 5;
  const want = (now: number) =>
    Math.max(1, Math.ceil(peakRate(p.trace, now, now + p.coldStartSec + 2 * everySec) / p.capacityRps));
  return {
    name: 'oracle',
    initial: want(0),
    control: { everySec, fn: (fleet, now) => fleet.scaleTo(want(now)) },
  };
}

const NS = 'default';
const TARGET = 'llm';
/** Virtual time 0 on the controller's (millisecond, epoch) clock. */
const EPOCH_MS = Date.UTC(2026, 0, 1);

/** Upstream's algorithm with its webhook defaults, configured as upstream's documentation shows (§1.3). */
export function upstreamManifest(maxReplicas: number): AutoscalingPolicy {
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name: 'upstream', namespace: NS, uid: 'upstream', generation: 1 },
    spec: {
      tolerancePercent: 10,
      metrics: [{ name: 'num_requests_waiting', targetValue: '20' }],
      homogeneousTarget: {
        minReplicas: 1,
        maxReplicas,
        target: {
          targetRef: { kind: 'ModelServing', name: TARGET },
          metricSources: {
            num_requests_waiting: { pod: { name: 'vllm:num_requests_waiting', uri: '/metrics', port: 8000 } },
          },
        },
      },
    },
  } as AutoscalingPolicy;
}

/** RFC 7386 JSON merge patch (null deletes). */
export function mergePatch<T>(target: T, patch: unknown): T {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch as T;
  const out: Record<string, unknown> =
    target && typeof target === 'object' && !Array.isArray(target) ? { ...(target as Record<string, unknown>) } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out as T;
}

/**
 * Ours: the SLO-driven policy (docs/autoscaling.md, ADR 0017). KTHENA_BENCH_KTHENA_PATCH (a JSON merge patch) tries
 * another policy in its place, e.g. '{"metadata":{"annotations":{"autoscaling.kthena.io/target-utilization-percent":"60"}}}'.
 */
export function kthenaManifest(maxReplicas: number, sloTtftSec: number): AutoscalingPolicy {
  const patch = process.env.KTHENA_BENCH_KTHENA_PATCH;
  const m = baseKthenaManifest(maxReplicas, sloTtftSec);
  return patch ? mergePatch(m, JSON.parse(patch)) : m;
}

function baseKthenaManifest(maxReplicas: number, sloTtftSec: number): AutoscalingPolicy {
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: {
      name: 'kthena',
      namespace: NS,
      uid: 'kthena',
      generation: 1,
      annotations: {
        'autoscaling.kthena.io/ttft-slo': `${sloTtftSec}s`,
        'autoscaling.kthena.io/target-utilization-percent': '85',
      },
    },
    spec: {
      tolerancePercent: 10,
      // upstream's metric, kept as a guard: a queue that grows means more replicas whatever the rate says
      metrics: [{ name: 'num_requests_waiting', targetValue: '20' }],
      behavior: {
        scaleUp: {
          stablePolicy: { instances: 4, percent: 100, period: '30s', stabilizationWindow: '0s' },
          panicPolicy: { percent: 200, period: '15s', panicThresholdPercent: 150, panicModeHold: '60s' },
        },
        scaleDown: { instances: 2, percent: 50, period: '30s', stabilizationWindow: '60s' },
      },
      homogeneousTarget: { minReplicas: 1, maxReplicas, target: { targetRef: { kind: 'ModelServing', name: TARGET } } },
    },
  } as AutoscalingPolicy;
}

const ipOf = (r: FleetReplica) => `10.0.${r.index >> 8}.${(r.index & 255) + 1}`;

function podOf(fleet: Fleet, r: FleetReplica): Pod {
  const ready = fleet.isReady(r);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: r.name,
      namespace: NS,
      uid: `pod-${r.index}`,
      labels: { 'modelserving.volcano.sh/name': TARGET, 'modelserving.volcano.sh/entry': 'true' },
      ...(r.removedAt !== undefined
        ? { deletionTimestamp: new Date(EPOCH_MS + r.removedAt * 1000).toISOString() }
        : {}),
    },
    spec: { containers: [{ name: 'engine', image: 'vllm', ports: [{ containerPort: 8000 }] }] },
    status: {
      phase: 'Running',
      podIP: ipOf(r),
      startTime: new Date(EPOCH_MS + r.createdAt * 1000).toISOString(),
      conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
      containerStatuses: [{ name: 'engine', ready, restartCount: 0, image: 'vllm', imageID: '' }],
    },
  } as Pod;
}

/** A read-only informer over a function. */
function informer<T>(list: () => T[], get: (ns: string | undefined, name: string) => T | undefined) {
  return {
    get,
    list: () => list(),
    byIndex: () => [],
    hasSynced: () => true,
    on: () => {},
  };
}

/** The autoscaler controller running `manifest` against the fleet. */
export function controllerPolicy(name: string, manifest: AutoscalingPolicy, syncSec = 15): BenchPolicy {
  let fleet: Fleet | undefined;
  let ctl: AutoscalerController | undefined;
  const ms = (): ModelServing =>
    ({
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'ModelServing',
      metadata: { name: TARGET, namespace: NS, uid: 'ms', generation: 1 },
      spec: { replicas: fleet!.desired(), template: { roles: [] } },
    }) as unknown as ModelServing;
  const pods = () => fleet!.live().map((r) => podOf(fleet!, r));
  const build = (f: Fleet) => {
    fleet = f;
    const byIp = () => new Map(f.live().map((r) => [ipOf(r), r] as const));
    const noop = () => {};
    const log = { debug: noop, info: noop, warn: noop, error: noop, trace: noop, fatal: noop, child: () => log };
    return new AutoscalerController({
      client: {
        patch: async (_res: unknown, _name: string, _ns: string, body: { spec?: { replicas?: number } }) => {
          if (typeof body.spec?.replicas === 'number') f.scaleTo(body.spec.replicas);
          return {};
        },
        replace: async (
          _res: unknown,
          obj: { status?: { lastDecisions?: { reason?: string; desiredReplicas?: number }[] } },
        ) => {
          // KTHENA_BENCH_TRACE=1: every decision the controller explains in status, on stderr
          if (process.env.KTHENA_BENCH_TRACE)
            for (const d of obj.status?.lastDecisions ?? [])
              process.stderr.write(`${name} t=${f.clock.now().toFixed(0)} → ${d.desiredReplicas}: ${d.reason}\n`);
          return obj;
        },
      } as never,
      policies: informer(
        () => [manifest],
        () => manifest,
      ) as never,
      modelServings: informer(
        () => [ms()],
        (_ns, n) => (n === TARGET ? ms() : undefined),
      ) as never,
      pods: informer(pods, () => undefined) as never,
      clock: {
        now: () => EPOCH_MS + f.clock.now() * 1000,
        setTimeout: () => 0 as never,
        clearTimeout: noop,
      } as never,
      log: log as never,
      fetch: async (url: string) => {
        const host = new URL(url).hostname;
        const r = byIp().get(host);
        if (!r) throw new Error(`no pod at ${host}`);
        return f.metricsText(r);
      },
    });
  };
  return {
    name,
    initial: 1,
    manifest,
    control: {
      everySec: syncSec,
      fn: async (f) => {
        ctl ??= build(f);
        await ctl.syncAll();
      },
    },
  };
}
