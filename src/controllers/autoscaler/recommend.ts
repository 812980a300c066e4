// The recommendation: how many replicas the metrics ask for, before any rate limit or stabilisation (upstream's
// algorithm, reference §4.3, quirks included: for pod metrics the tolerance compares Σvalue/target with 1, not the
// desired count with the current one). Pure.

export interface RecommendInput {
  /** Current replicas (ModelServing spec.replicas; nil counts as 1). */
  current: number;
  min: number;
  max: number;
  /** tolerancePercent / 100. */
  tolerance: number;
  /** Metric name → target value per instance. */
  targets: ReadonlyMap<string, number>;
  /** Pods selected but not Running and Ready. */
  unready: number;
  /** One summed vector per backend (homogeneous: one; heterogeneous: one per target that reported). */
  ready: readonly ReadonlyMap<string, number>[];
  /** Metric name → value of an external (Prometheus) metric. */
  external: ReadonlyMap<string, number>;
}

export type Recommendation =
  | { kind: 'replicas'; replicas: number /** which metric decided (the max) */; by?: string }
  | { kind: 'skip'; reason: string };

const CEIL_LIMIT = 1e9;

/** ceil saturated to [0, 1e9]; NaN → 0. */
export function safeCeil(x: number): number {
  if (Number.isNaN(x)) return 0;
  return Math.min(CEIL_LIMIT, Math.max(0, Math.ceil(x)));
}

const direction = (r: number) => (r >= 1 ? 1 : -1);

/** Replicas one external metric asks for (tolerance relative to the current count). */
export function externalDesired(value: number, target: number, current: number, tolerance: number): number {
  const d = value / target;
  return Math.abs(d / current - 1) <= tolerance ? current : safeCeil(d);
}

/** Replicas one pod metric asks for across backends, or undefined when no backend reports it. */
export function podDesired(
  metric: string,
  target: number,
  ready: readonly ReadonlyMap<string, number>[],
  unready: number,
  current: number,
  tolerance: number,
): number | undefined {
  let sum = 0;
  let reporting = 0;
  for (const v of ready) {
    const x = v.get(metric);
    if (x !== undefined) {
      sum += x;
      reporting++;
    }
  }
  if (reporting === 0) return undefined;
  const missing = ready.length - reporting;
  const ratio = sum / reporting / target;
  const addUnready = unready > 0 && ratio >= 1;
  if (!addUnready && missing === 0) return Math.abs(ratio - 1) <= tolerance ? current : safeCeil(ratio * reporting);
  // Missing backends count as exactly on target when scaling down (so they do not push further down); unready pods
  // count as idle instances when scaling up (so a scale-up already under way is not repeated).
  const n = reporting + missing + (addUnready ? unready : 0);
  const s = ratio < 1 ? sum + missing * target : sum;
  const adjusted = s / n / target;
  if (Math.abs(adjusted - 1) <= tolerance || direction(adjusted) !== direction(ratio)) return current;
  const d = safeCeil(adjusted * n);
  if ((adjusted < 1 && d > current) || (adjusted >= 1 && d < current)) return current;
  return d;
}

export function recommend(i: RecommendInput): Recommendation {
  if (i.current < i.min) return { kind: 'replicas', replicas: i.min, by: 'minReplicas' };
  if (i.current > i.max) return { kind: 'replicas', replicas: i.max, by: 'maxReplicas' };
  let best: number | undefined;
  let by: string | undefined;
  for (const [metric, target] of i.targets) {
    const ext = i.external.get(metric);
    const d =
      ext !== undefined
        ? externalDesired(ext, target, i.current, i.tolerance)
        : podDesired(metric, target, i.ready, i.unready, i.current, i.tolerance);
    if (d !== undefined && (best === undefined || d > best)) {
      best = d;
      by = metric;
    }
  }
  if (best === undefined) return { kind: 'skip', reason: 'no metric could be read' };
  return { kind: 'replicas', replicas: Math.min(i.max, Math.max(i.min, best)), by };
}
