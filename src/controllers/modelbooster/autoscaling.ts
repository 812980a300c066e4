// Beyond upstream: a booster asks for autoscaling with annotations (ADR 0002: upstream's CRD has no such field) and
// gets an AutoscalingPolicy `<booster>-<backend>` for its ModelServing. Pure.
import { autoscalingRequest } from '../../api/index.js';
import { runtimePort } from './containers.js';
import { backendChildMeta, backendChildName, WORKLOAD_API } from './naming.js';
import { isDisaggregated } from './serving.js';
import type { Child, ModelBooster } from './types.js';

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
    metadata: backendChildMeta(mb),
    spec,
  };
}
