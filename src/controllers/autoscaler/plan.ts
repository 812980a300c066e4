// An AutoscalingPolicy, read once per generation into what the loop needs: scalable units (a ModelServing, or one of
// its roles) with bounds, metric targets and where each metric comes from, and the behaviour in milliseconds.
// Upstream's admission defaults are applied here too, so a policy written while webhooks were off behaves the same.
// Pure.
import {
  type AutoscalingPolicy,
  type AutoscalingPolicyMetric,
  applyAutoscalingAdmissionDefaults,
  type LabelSelector,
  type MetricSource,
  parseDurationMs,
  parseQuantity,
} from '../../api/index.js';
import type { Behavior, StableRule } from './behavior.js';
import { type SloSpec, sloOf, TTFT_SLO_ANNOTATION } from './slo.js';

export type Source =
  | {
      kind: 'pod';
      /** Family names to read; the first one the pod exposes counts (vLLM and SGLang spell them differently). */
      families: string[];
      path: string;
      /** Undefined: the engine's port, read from each pod's spec. */
      port?: number;
      selector: LabelSelector;
    }
  | { kind: 'prometheus'; serverURL: string; query: string };

export interface Unit {
  /** ModelServing name, or `name/role`. */
  key: string;
  namespace: string;
  modelServing: string;
  role?: string;
  min: number;
  max: number;
  /** Metric name → target per instance. Empty for fixed roles. */
  targets: Map<string, number>;
  sources: Map<string, Source>;
  /** Heterogeneous only. */
  cost?: number;
  /** SLO-driven (annotation autoscaling.kthena.io/ttft-slo): replicas also follow the request rate, against a learned per-replica capacity. */
  slo?: SloSpec & { ttft: Extract<Source, { kind: 'pod' }> };
}

export interface ScalingPlan {
  kind: 'homogeneous' | 'heterogeneous' | 'disaggregated';
  tolerance: number;
  behavior: Behavior;
  units: Unit[];
  costExpansionRatePercent: number;
  ratio?: { numerator: string; denominator: string; minRatio: number; maxRatio: number };
}

export class PlanError extends Error {}

const ms = (d: string | undefined, fallback: number): number =>
  d === undefined ? fallback : (parseDurationMs(d) ?? fallback);

function stableRule(p: Record<string, any> | undefined): StableRule {
  return {
    instances: p?.instances ?? 1,
    percent: p?.percent ?? 100,
    periodMs: ms(p?.period, 15_000),
    selectPolicy: p?.selectPolicy === 'And' ? 'And' : 'Or',
    stabilizationWindowMs: ms(p?.stabilizationWindow, 0),
  };
}

export function behaviorOf(policy: AutoscalingPolicy): Behavior {
  const b = (applyAutoscalingAdmissionDefaults(policy).spec?.behavior ?? {}) as Record<string, any>;
  const panic = b.scaleUp?.panicPolicy;
  return {
    scaleDown: stableRule(b.scaleDown),
    scaleUp: stableRule(b.scaleUp?.stablePolicy),
    panic: {
      percent: panic?.percent ?? 1000,
      periodMs: ms(panic?.period, 0),
      thresholdPercent: panic?.panicThresholdPercent,
      holdMs: ms(panic?.panicModeHold, 60_000),
    },
  };
}

function targetsOf(metrics: AutoscalingPolicyMetric[] | undefined, where: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const m of metrics ?? []) {
    const v = parseQuantity(m.targetValue);
    if (v === undefined || !(v > 0) || !Number.isFinite(v))
      throw new PlanError(`${where}: metric ${m.name}: targetValue must be > 0`);
    out.set(m.name, v);
  }
  return out;
}

function sourcesOf(
  map: Record<string, MetricSource> | undefined,
  extraLabels: Record<string, string>,
): Map<string, Source> {
  const out = new Map<string, Source>();
  for (const [name, src] of Object.entries(map ?? {})) {
    if (src.prometheus)
      out.set(name, { kind: 'prometheus', serverURL: src.prometheus.serverURL, query: src.prometheus.query });
    else if (src.pod) {
      out.set(name, {
        kind: 'pod',
        families: [src.pod.name || name],
        path: src.pod.uri ?? '/metrics',
        port: src.pod.port ?? 8100,
        selector: {
          matchLabels: { ...(src.pod.labelSelector?.matchLabels ?? {}), ...extraLabels },
          matchExpressions: src.pod.labelSelector?.matchExpressions ?? [],
        },
      });
    }
  }
  return out;
}

/**
 * Metric names that work with no metricSources entry (beyond upstream): scraped from each entry pod's engine port,
 * under vLLM's or SGLang's family name, whichever the engine serves. Histograms give the p95 of the recent window.
 */
export const BUILTIN_METRICS: Readonly<Record<string, readonly string[]>> = {
  num_requests_waiting: ['vllm:num_requests_waiting', 'sglang:num_queue_reqs'],
  num_requests_running: ['vllm:num_requests_running', 'sglang:num_running_reqs'],
  kv_cache_usage: ['vllm:kv_cache_usage_perc', 'vllm:gpu_cache_usage_perc', 'sglang:token_usage'],
  ttft_p95_seconds: ['vllm:time_to_first_token_seconds', 'sglang:time_to_first_token_seconds'],
  itl_p95_seconds: [
    'vllm:inter_token_latency_seconds',
    'vllm:time_per_output_token_seconds',
    'sglang:inter_token_latency_seconds',
  ],
  e2e_p95_seconds: ['vllm:e2e_request_latency_seconds', 'sglang:e2e_request_latency_seconds'],
};

/** Adds the built-in source for every target metric that has none. */
function withBuiltins(sources: Map<string, Source>, targets: Map<string, number>, extraLabels: Record<string, string>) {
  for (const name of targets.keys()) {
    const families = BUILTIN_METRICS[name];
    if (sources.has(name) || !families) continue;
    sources.set(name, {
      kind: 'pod',
      families: [...families],
      path: '/metrics',
      selector: { matchLabels: { ...extraLabels }, matchExpressions: [] },
    });
  }
  return sources;
}

function refName(ref: { name?: string; kind?: string } | undefined, where: string): string {
  if (!ref?.name) throw new PlanError(`${where}.targetRef.name is required`);
  if (ref.kind && ref.kind !== 'ModelServing')
    throw new PlanError(`${where}.targetRef.kind must be ModelServing, not ${ref.kind}`);
  return ref.name;
}

/** The plan of a policy, or a PlanError saying which field makes it unusable. */
export function planOf(policy: AutoscalingPolicy): ScalingPlan {
  const spec = policy.spec ?? ({} as AutoscalingPolicy['spec']);
  const ns = policy.metadata?.namespace ?? 'default';
  const tolerance = (spec.tolerancePercent ?? 10) / 100;
  const behavior = behaviorOf(policy);
  const targets = () => targetsOf(spec.metrics, 'spec.metrics');
  const base = {
    tolerance,
    behavior,
    costExpansionRatePercent: spec.heterogeneousTarget?.costExpansionRatePercent ?? 200,
  };
  const set = [spec.homogeneousTarget, spec.heterogeneousTarget, spec.disaggregatedTarget].filter(Boolean).length;
  if (set !== 1)
    throw new PlanError('spec: set exactly one of homogeneousTarget, heterogeneousTarget, disaggregatedTarget');

  if (spec.homogeneousTarget) {
    const h = spec.homogeneousTarget;
    const name = refName(h.target.targetRef, 'spec.homogeneousTarget.target');
    const unit: Unit = {
      key: name,
      namespace: h.target.targetRef.namespace || ns,
      modelServing: name,
      min: h.minReplicas,
      max: h.maxReplicas,
      targets: targets(),
      sources: withBuiltins(sourcesOf(h.target.metricSources, {}), targets(), {}),
    };
    unit.slo = sloFor(policy);
    return { ...base, kind: 'homogeneous', units: [unit] };
  }
  if (policy.metadata?.annotations?.[TTFT_SLO_ANNOTATION] !== undefined)
    throw new PlanError(`annotation ${TTFT_SLO_ANNOTATION} is supported on homogeneousTarget policies only`);
  if (spec.heterogeneousTarget) {
    const units = spec.heterogeneousTarget.params.map((p, i): Unit => {
      const name = refName(p.target.targetRef, `spec.heterogeneousTarget.params[${i}].target`);
      return {
        key: name,
        namespace: p.target.targetRef.namespace || ns,
        modelServing: name,
        min: p.minReplicas,
        max: p.maxReplicas,
        targets: targets(),
        sources: withBuiltins(sourcesOf(p.target.metricSources, {}), targets(), {}),
        cost: p.cost ?? 0,
      };
    });
    return { ...base, kind: 'heterogeneous', units };
  }
  const d = spec.disaggregatedTarget!;
  const name = refName(d.targetRef, 'spec.disaggregatedTarget');
  const units = Object.keys(d.roles)
    .sort()
    .map((role): Unit => {
      const r = d.roles[role]!;
      const fixed = r.maxReplicas > 0 && r.minReplicas === r.maxReplicas;
      const roleTargets = fixed
        ? new Map<string, number>()
        : targetsOf(r.metrics ?? spec.metrics, `spec.disaggregatedTarget.roles.${role}.metrics`);
      const roleLabel = { 'modelserving.volcano.sh/role': role };
      return {
        key: `${name}/${role}`,
        namespace: d.targetRef.namespace || ns,
        modelServing: name,
        role,
        min: r.minReplicas,
        max: r.maxReplicas,
        targets: roleTargets,
        sources: withBuiltins(sourcesOf(r.metricSources, roleLabel), roleTargets, roleLabel),
      };
    });
  const rc = d.ratioConstraint;
  const ratio = rc
    ? {
        numerator: rc.numeratorRole,
        denominator: rc.denominatorRole,
        minRatio: parseQuantity(rc.minRatio) ?? 0,
        maxRatio: parseQuantity(rc.maxRatio) ?? Infinity,
      }
    : undefined;
  return { ...base, kind: 'disaggregated', units, ratio };
}

/** The SLO of an annotated policy; its TTFT histogram is read from each entry pod's engine port. */
function sloFor(policy: AutoscalingPolicy): Unit['slo'] {
  let slo: SloSpec | undefined;
  try {
    slo = sloOf(policy.metadata?.annotations as Record<string, string> | undefined);
  } catch (err) {
    throw new PlanError((err as Error).message);
  }
  if (!slo) return undefined;
  const ttft = {
    kind: 'pod' as const,
    families: [...BUILTIN_METRICS.ttft_p95_seconds!],
    path: '/metrics',
    selector: { matchLabels: {}, matchExpressions: [] },
  };
  return { ...slo, ttft };
}

export const isFixed = (u: Unit) => u.max > 0 && u.min === u.max;
