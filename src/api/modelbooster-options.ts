// Behaviour beyond upstream, asked for per ModelBooster with `autoscaling.kthena.io/*` annotations (decision 0002:
// upstream's CRD has no field for it, and manifests stay portable). One grammar, used by validation (`kthena
// validate`, the admission webhook) and by the ModelBooster controller. Documented in docs/modelbooster.md.

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
