// One policy's scaling state and its per-cycle decision: observations in, replicas per unit out. Histories live here
// (one per unit; one for the whole heterogeneous set) and are lost when the policy's generation changes, as upstream.
// Pure: no I/O, time passed in.
import { correct, ScalingHistory } from './behavior.js';
import { aggregateExternal, type Block, distribute, scalingOrder } from './heterogeneous.js';
import { isFixed, type ScalingPlan, type Unit } from './plan.js';
import { enforceRatio, type RatioResult } from './ratio.js';
import { recommend } from './recommend.js';
import { CapacityEstimator, SLO_METRIC } from './slo.js';

export interface UnitObservation {
  /** Replicas now (nil spec.replicas counts as 1). */
  current: number;
  /** Pod metrics summed over ready pods; undefined when the group could not be read this cycle. */
  metrics?: ReadonlyMap<string, number>;
  /** Prometheus metrics. */
  external: ReadonlyMap<string, number>;
  unready: number;
  /** Why the pod metrics could not be read (the unit is skipped this cycle). */
  error?: string;
  /** At zero replicas, requests are waiting at a router (scale-to-zero targets only). */
  demand?: boolean;
  /** Ready pods the metrics were read from. */
  ready?: number;
  /** SLO-driven units, over the recent window across ready pods: TTFT quantile, requests seen, requests per second. */
  slo?: { ttftSec?: number; requests: number; rate: number; ready: number };
}

export interface MetricValue {
  name: string;
  value: number;
  target: number;
  source: 'pod' | 'prometheus';
}

export interface UnitDecision {
  unit: Unit;
  current: number;
  recommended: number;
  desired: number;
  mode: 'Stable' | 'Panic';
  reason: string;
  metrics: MetricValue[];
}

export type PolicyOutcome =
  | { kind: 'scale'; decisions: UnitDecision[]; ratio?: RatioResult }
  | { kind: 'skip'; reason: string; metrics: MetricValue[] };

function valuesOf(u: Unit, o: UnitObservation | undefined, targets = u.targets): MetricValue[] {
  const out: MetricValue[] = [];
  for (const [name, target] of targets) {
    const ext = o?.external.get(name);
    const pod = o?.metrics?.get(name);
    if (ext !== undefined) out.push({ name, value: ext, target, source: 'prometheus' });
    else if (pod !== undefined) out.push({ name, value: pod, target, source: 'pod' });
  }
  return out;
}

export class PolicyScaler {
  private readonly histories = new Map<string, ScalingHistory>();
  private readonly estimators = new Map<string, CapacityEstimator>();
  private readonly order: Block[];

  constructor(readonly plan: ScalingPlan) {
    this.order = plan.kind === 'heterogeneous' ? scalingOrder(plan.units, plan.costExpansionRatePercent) : [];
  }

  private history(key: string): ScalingHistory {
    const h = this.histories.get(key) ?? new ScalingHistory(this.plan.behavior);
    this.histories.set(key, h);
    return h;
  }

  evaluate(obs: ReadonlyMap<string, UnitObservation>, now: number): PolicyOutcome {
    if (this.plan.kind === 'heterogeneous') return this.heterogeneous(obs, now);
    const decisions: UnitDecision[] = [];
    for (const u of this.plan.units) {
      const o = obs.get(u.key);
      if (!o) return { kind: 'skip', reason: `${u.key}: target not observed`, metrics: [] };
      if (isFixed(u) && this.plan.kind === 'disaggregated') {
        decisions.push({
          unit: u,
          current: o.current,
          recommended: u.min,
          desired: u.min,
          mode: 'Stable',
          reason: 'fixed role',
          metrics: [],
        });
        continue;
      }
      const d = this.decide(u, o, now);
      if ('skip' in d) return { kind: 'skip', reason: d.skip, metrics: valuesOf(u, o) };
      decisions.push(d);
    }
    if (this.plan.kind !== 'disaggregated' || !this.plan.ratio) return { kind: 'scale', decisions };
    const r = this.plan.ratio;
    const num = decisions.find((d) => d.unit.role === r.numerator);
    const den = decisions.find((d) => d.unit.role === r.denominator);
    if (!num || !den) return { kind: 'scale', decisions };
    const ratio = enforceRatio(num.desired, den.desired, num.unit, den.unit, r);
    if (ratio.adjusted) {
      if (ratio.num !== num.desired) num.reason += `; ratio ${r.numerator}/${r.denominator} → ${ratio.num}`;
      if (ratio.den !== den.desired) den.reason += `; ratio ${r.numerator}/${r.denominator} → ${ratio.den}`;
    }
    num.desired = ratio.num;
    den.desired = ratio.den;
    return { kind: 'scale', decisions, ratio };
  }

  private decide(u: Unit, o: UnitObservation, now: number): UnitDecision | { skip: string } {
    if (o.current === 0 && o.demand) return this.fromZero(u, o, now);
    if (o.error && o.external.size === 0) return { skip: `${u.key}: ${o.error}` };
    const slo = u.slo ? this.sloTargets(u, o, now) : undefined;
    const targets = slo?.targets ?? u.targets;
    const rec = recommend({
      current: o.current,
      min: u.min,
      max: u.max,
      tolerance: this.plan.tolerance,
      targets,
      unready: o.unready,
      ready: o.metrics ? [o.metrics] : [],
      external: slo?.external ?? o.external,
    });
    if (rec.kind === 'skip') return { skip: `${u.key}: ${rec.reason}` };
    const h = this.history(u.key);
    // A clearly falling rate with the SLO met: the higher recommendations of the last window (a burst that has
    // passed) no longer need holding; the scale-down rate limits still pace the descent.
    if (slo?.releasable && rec.replicas < o.current) {
      h.maxRecommendation.clear();
      h.panicEndsAt = 0;
    }
    const c = correct(h, {
      recommended: rec.replicas,
      current: o.current,
      min: u.min,
      max: u.max,
      now,
    });
    return {
      unit: u,
      current: o.current,
      recommended: rec.replicas,
      desired: c.replicas,
      mode: c.mode,
      reason: reasonOf(rec.by, rec.replicas, c.replicas, o.current) + (slo?.note ?? ''),
      metrics: [
        ...valuesOf(u, slo ? { ...o, external: slo.external } : o, targets),
        ...(slo?.metric ? [slo.metric] : []),
      ],
    };
  }

  /**
   * SLO-driven unit: learn from this cycle; then the fleet's request rate is one more metric (fleet-wide, like a
   * Prometheus one) whose per-replica target is the learned capacity × utilization.
   */
  private sloTargets(u: Unit, o: UnitObservation, now: number) {
    const spec = u.slo!;
    const est = this.estimators.get(u.key) ?? new CapacityEstimator(spec);
    this.estimators.set(u.key, est);
    const seen = o.slo;
    const verdict = seen
      ? est.observe({
          rate: seen.rate,
          ready: seen.ready,
          unready: o.unready,
          ttftSec: seen.ttftSec,
          requests: seen.requests,
          now,
        })
      : 'no-evidence';
    const target = est.target();
    // what the fleet as it is (starting replicas included) is provisioned for
    const provisioned = target === undefined ? undefined : o.current * target;
    const demand = seen ? est.demand(now, seen.rate, seen.requests, provisioned) : undefined;
    const targets = new Map(u.targets);
    const external = new Map(o.external);
    if (target !== undefined && demand !== undefined) {
      targets.set(SLO_METRIC, target);
      external.set(SLO_METRIC, demand);
    }
    const q = Math.round(spec.quantile * 100);
    const ttft = seen?.ttftSec;
    const note =
      `; SLO TTFT p${q} ≤ ${spec.ttftSec} s (seen ${ttft === undefined ? 'n/a' : ttft.toFixed(3)} s at ` +
      `${seen ? seen.rate.toFixed(1) : 'n/a'} req/s: ${verdict}; provisioning for ${demand === undefined ? 'n/a' : demand.toFixed(1)} req/s), one replica ≈ ` +
      `${est.capacity === undefined ? 'unknown' : est.capacity.toFixed(1)} req/s within it`;
    const metric: MetricValue | undefined =
      ttft === undefined ? undefined : { name: `ttft_p${q}_seconds`, value: ttft, target: spec.ttftSec, source: 'pod' };
    const releasable = est.falling && ttft !== undefined && ttft <= spec.ttftSec;
    return { targets, external, note, metric, releasable };
  }

  /** Requests wait at a router for a target at zero: one replica (or the minimum) at once, past any window. */
  private fromZero(u: Unit, o: UnitObservation, now: number): UnitDecision {
    const desired = Math.max(1, u.min);
    // Recorded like a panic scale-up: the stabilisation window then keeps it from dropping back at once.
    correct(this.history(u.key), { recommended: desired, current: desired, min: u.min, max: u.max, now });
    return {
      unit: u,
      current: 0,
      recommended: desired,
      desired,
      mode: 'Stable',
      reason: 'scale from zero: requests are waiting at the router',
      metrics: valuesOf(u, o),
    };
  }

  private heterogeneous(obs: ReadonlyMap<string, UnitObservation>, now: number): PolicyOutcome {
    const units = this.plan.units;
    let current = 0;
    let unready = 0;
    const ready: ReadonlyMap<string, number>[] = [];
    const externals = new Map<string, { value: number; replicas: number }[]>();
    for (const u of units) {
      const o = obs.get(u.key);
      if (!o) return { kind: 'skip', reason: `${u.key}: target not observed`, metrics: [] };
      current += o.current;
      if (o.error && o.external.size === 0) continue; // upstream: a target whose collection fails is left out
      unready += o.unready;
      if (o.metrics) ready.push(o.metrics);
      for (const [name, value] of o.external) {
        const list = externals.get(name) ?? [];
        list.push({ value, replicas: o.current });
        externals.set(name, list);
      }
    }
    const external = new Map([...externals].map(([n, vs]) => [n, aggregateExternal(n, vs)] as const));
    const min = units.reduce((a, u) => a + u.min, 0);
    const max = units.reduce((a, u) => a + u.max, 0);
    const targets = units[0]!.targets;
    const demand = current === 0 && units.some((u) => obs.get(u.key)?.demand);
    const rec = demand
      ? ({ kind: 'replicas', replicas: Math.max(1, min), by: 'demand' } as const)
      : recommend({ current, min, max, tolerance: this.plan.tolerance, targets, unready, ready, external });
    const seen = units.flatMap((u) => valuesOf(u, obs.get(u.key)));
    if (rec.kind === 'skip') return { kind: 'skip', reason: rec.reason, metrics: seen };
    const c = correct(this.history('*'), { recommended: rec.replicas, current, min, max, now, heterogeneous: true });
    const split = distribute(units, this.order, c.replicas);
    const decisions = units.map(
      (u, i): UnitDecision => ({
        unit: u,
        current: obs.get(u.key)!.current,
        recommended: rec.replicas,
        desired: split[i]!,
        mode: c.mode,
        reason: `${reasonOf(rec.by, rec.replicas, c.replicas, current)}; total ${c.replicas} split by cost`,
        metrics: valuesOf(u, obs.get(u.key)),
      }),
    );
    return { kind: 'scale', decisions };
  }
}

function reasonOf(by: string | undefined, recommended: number, corrected: number, current: number): string {
  const why =
    by === 'minReplicas' || by === 'maxReplicas' ? `current outside ${by}` : `metric ${by} asks for ${recommended}`;
  if (corrected === recommended) return why;
  const limit =
    corrected > current || (corrected === current && recommended > current)
      ? 'scale-up rate limit'
      : 'scale-down stabilisation';
  return `${why}; held at ${corrected} by the ${limit}`;
}
