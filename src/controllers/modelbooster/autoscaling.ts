// Beyond upstream: a booster asks for autoscaling with annotations (ADR 0002: upstream's CRD has no such field) and
// gets an AutoscalingPolicy `<booster>-<backend>` for its ModelServing. Pure.
import { runtimePort } from './containers.js';
import { backendChildName, WORKLOAD_API } from './naming.js';
import { isDisaggregated } from './serving.js';
import type { Child, ModelBooster } from './types.js';

export const ANNOTATION_PREFIX = 'autoscaling.kthena.io/';
export const ANN_MAX = `${ANNOTATION_PREFIX}max-replicas`;
export const ANN_MIN = `${ANNOTATION_PREFIX}min-replicas`;
export const ANN_METRIC = `${ANNOTATION_PREFIX}metric`;
export const ANN_TARGET = `${ANNOTATION_PREFIX}target-value`;

/** Waiting requests per engine: the LLM signal that rises before latency does (the runtime's normalised name). */
export const DEFAULT_METRIC = 'kthena:num_requests_waiting';
export const DEFAULT_TARGET = '5';

export interface AutoscalingRequest {
  minReplicas: number;
  maxReplicas: number;
  metric: string;
  targetValue: string;
}

export type AutoscalingParse =
  | { ok: true; request?: AutoscalingRequest }
  | { ok: false; path: string; message: string };

const intIn = (v: string, lo: number, hi: number) => /^\d+$/.test(v.trim()) && +v >= lo && +v <= hi;

/** Reads the annotations; no max-replicas = no autoscaling. Errors name the annotation (admission reports them). */
export function autoscalingRequest(annotations: Record<string, string> | undefined): AutoscalingParse {
  const a = annotations ?? {};
  const at = (k: string) => `metadata.annotations[${k}]`;
  if (a[ANN_MAX] === undefined) {
    for (const k of [ANN_MIN, ANN_METRIC, ANN_TARGET])
      if (a[k] !== undefined) return { ok: false, path: at(k), message: `needs ${ANN_MAX} as well` };
    return { ok: true };
  }
  if (!intIn(a[ANN_MAX], 1, 1_000_000))
    return {
      ok: false,
      path: at(ANN_MAX),
      message: `must be an integer in 1..1000000, got ${JSON.stringify(a[ANN_MAX])}`,
    };
  const max = Number(a[ANN_MAX]);
  const minRaw = a[ANN_MIN] ?? '1';
  if (!intIn(minRaw, 0, max))
    return {
      ok: false,
      path: at(ANN_MIN),
      message: `must be an integer in 0..${max} (max-replicas), got ${JSON.stringify(minRaw)}`,
    };
  const metric = (a[ANN_METRIC] ?? DEFAULT_METRIC).trim();
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(metric))
    return {
      ok: false,
      path: at(ANN_METRIC),
      message: `must be a Prometheus metric name, got ${JSON.stringify(metric)}`,
    };
  const target = (a[ANN_TARGET] ?? DEFAULT_TARGET).trim();
  const n = Number(target);
  if (!/^\d+(\.\d+)?$/.test(target) || !(n > 0))
    return { ok: false, path: at(ANN_TARGET), message: `must be a positive number, got ${JSON.stringify(target)}` };
  return { ok: true, request: { minReplicas: Number(minRaw), maxReplicas: max, metric, targetValue: target } };
}

/** The AutoscalingPolicy a booster asks for, or undefined. Metrics are scraped from the runtime sidecar. */
export function autoscalingPolicyFor(mb: ModelBooster): Child | undefined {
  const parsed = autoscalingRequest(mb.metadata.annotations);
  if (!parsed.ok || !parsed.request) return undefined;
  const r = parsed.request;
  const backend = mb.spec.backend;
  const name = backendChildName(mb.metadata.name, backend.name);
  const metricName = 'load';
  const source = { [metricName]: { pod: { name: r.metric, uri: '/metrics', port: runtimePort(backend) } } };
  const targetRef = { kind: 'ModelServing', name };
  const spec: Record<string, unknown> = { metrics: [{ name: metricName, targetValue: r.targetValue }] };
  if (isDisaggregated(backend.type)) {
    const role = { minReplicas: r.minReplicas, maxReplicas: r.maxReplicas, metricSources: source };
    spec.disaggregatedTarget = { targetRef, roles: { prefill: role, decode: { ...role } } };
  } else {
    spec.homogeneousTarget = {
      target: { targetRef, metricSources: source },
      minReplicas: r.minReplicas,
      maxReplicas: r.maxReplicas,
    };
  }
  return {
    apiVersion: WORKLOAD_API,
    kind: 'AutoscalingPolicy',
    metadata: { name, namespace: mb.metadata.namespace },
    spec,
  };
}
