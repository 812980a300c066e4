// The policy's status from one cycle's outcome (pure): conditions for every target kind (upstream writes them only
// for disaggregated targets), the per-target replica state upstream declares but never writes, and the last decision
// per target with the metric values behind it, so `kubectl describe autoscalingpolicy` explains every scale.
import type { AutoscalingPolicyStatus, ScalingDecision, TargetScalingStatus } from '../../api/index.js';
import type { ScalingPlan } from './plan.js';
import type { MetricValue, PolicyOutcome, UnitDecision } from './scaler.js';

export interface CycleResult {
  generation: number;
  now: number;
  plan?: ScalingPlan;
  outcome?: PolicyOutcome;
  /** The targets could not be found or read (TargetFound=False). */
  targetError?: string;
  /** The policy itself is unusable (Ready=False, InvalidPolicy). */
  policyError?: string;
  /** A write (scale patch) failed. */
  applyError?: string;
}

const time = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
/** Decimal without float noise: 0.30000000000000004 → "0.3". */
const num = (v: number) => String(Number(v.toPrecision(12)));

function condition(
  type: string,
  ok: boolean,
  reason: string,
  message: string,
  prev: AutoscalingPolicyStatus | undefined,
  gen: number,
  now: number,
) {
  const old = prev?.conditions?.find((c) => c.type === type);
  const status: 'True' | 'False' = ok ? 'True' : 'False';
  return {
    type,
    status,
    reason,
    message,
    observedGeneration: gen,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : time(now),
  };
}

const metricsOut = (ms: MetricValue[]) =>
  ms.map((m) => ({ name: m.name, value: num(m.value), targetValue: num(m.target), source: m.source }));

function decisionOut(d: UnitDecision, now: number, prev: ScalingDecision | undefined): ScalingDecision {
  const out: ScalingDecision = {
    target: d.unit.key,
    currentReplicas: d.current,
    recommendedReplicas: d.recommended,
    desiredReplicas: d.desired,
    mode: d.mode,
    reason: d.reason,
    metrics: metricsOut(d.metrics),
  };
  // The time moves only when the decision does, so an unchanged decision writes no status.
  const same =
    prev &&
    prev.currentReplicas === out.currentReplicas &&
    prev.desiredReplicas === out.desiredReplicas &&
    prev.recommendedReplicas === out.recommendedReplicas &&
    prev.reason === out.reason;
  return { ...out, time: same ? prev.time : time(now) };
}

function targetStatus(d: UnitDecision, now: number, prev: TargetScalingStatus | undefined): TargetScalingStatus {
  return {
    name: d.unit.role ?? d.unit.modelServing,
    currentReplicas: d.current,
    desiredReplicas: d.recommended,
    mode: d.mode,
    lastScaleTime: d.desired !== d.current ? time(now) : prev?.lastScaleTime,
  };
}

export function statusOf(r: CycleResult, prev: AutoscalingPolicyStatus | undefined): AutoscalingPolicyStatus {
  const { generation: gen, now } = r;
  const out: AutoscalingPolicyStatus = { observedGeneration: gen };
  if (r.policyError) {
    out.conditions = [condition('Ready', false, 'InvalidPolicy', r.policyError, prev, gen, now)];
    return out;
  }
  const targetOk = !r.targetError;
  let ready: ReturnType<typeof condition>;
  if (r.targetError) ready = condition('Ready', false, 'TargetNotFound', r.targetError, prev, gen, now);
  else if (r.applyError) ready = condition('Ready', false, 'ScaleFailed', r.applyError, prev, gen, now);
  else if (r.outcome?.kind === 'skip')
    ready = condition('Ready', false, 'MetricsUnavailable', `replicas left alone: ${r.outcome.reason}`, prev, gen, now);
  else ready = condition('Ready', true, 'Reconciled', 'autoscaling policy reconciled', prev, gen, now);
  out.conditions = [
    ready,
    condition(
      'TargetFound',
      targetOk,
      targetOk ? 'TargetFound' : 'TargetInvalid',
      r.targetError ?? 'scaling target found',
      prev,
      gen,
      now,
    ),
  ];
  if (r.outcome?.kind !== 'scale') {
    // Keep what was last decided; say why nothing was decided this time.
    if (prev?.lastDecisions) out.lastDecisions = prev.lastDecisions;
    for (const k of ['homogeneousStatus', 'heterogeneousStatus', 'disaggregatedStatus'] as const)
      if (prev?.[k]) (out as any)[k] = prev[k];
    return out;
  }
  const ds = r.outcome.decisions;
  out.lastDecisions = ds.map((d) =>
    decisionOut(
      d,
      now,
      prev?.lastDecisions?.find((p) => p.target === d.unit.key),
    ),
  );
  if (r.plan?.kind === 'homogeneous') out.homogeneousStatus = targetStatus(ds[0]!, now, prev?.homogeneousStatus);
  else if (r.plan?.kind === 'heterogeneous')
    out.heterogeneousStatus = ds.map((d, i) => targetStatus(d, now, prev?.heterogeneousStatus?.[i]));
  else if (r.plan?.kind === 'disaggregated') {
    const ratio = r.outcome.ratio;
    out.disaggregatedStatus = {
      roles: ds.map((d) =>
        targetStatus(
          d,
          now,
          prev?.disaggregatedStatus?.roles?.find((x) => x.name === d.unit.role),
        ),
      ),
      ...(ratio && r.plan.ratio
        ? {
            ratioStatus: {
              numeratorRole: r.plan.ratio.numerator,
              denominatorRole: r.plan.ratio.denominator,
              currentRatio: ratio.ratio,
            },
            ratioAdjusted: ratio.adjusted,
          }
        : {}),
    };
  }
  return out;
}
