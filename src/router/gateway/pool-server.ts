// An InferencePool (inference.networking.k8s.io/v1) served like a ModelServer: the router synthesizes one per pool
// so the pool's pods — selected by the pool itself, not only when some ModelServer also selects them (upstream's
// flaw) — become endpoints with engine metrics, and the normal scheduler and proxy serve them.
import type { ModelServer } from '../store/resources.js';

export interface InferencePool {
  metadata: { namespace?: string; name: string; generation?: number };
  spec?: {
    selector?: { matchLabels?: Record<string, string> };
    targetPorts?: { number: number }[];
    endpointPickerRef?: { name?: string; port?: { number?: number } };
  };
  status?: unknown;
}

/** `:` cannot appear in a Kubernetes name, so a synthesized server never collides with a real ModelServer. */
export const poolServerName = (pool: string) => `inferencepool:${pool}`;

export const poolKey = (p: InferencePool) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;

/** The ModelServer standing for a pool; port = the first targetPort (0 = none: the pool gets no endpoints). */
export function poolAsServer(p: InferencePool): ModelServer {
  return {
    kind: 'ModelServer',
    metadata: { namespace: p.metadata.namespace ?? 'default', name: poolServerName(p.metadata.name) },
    spec: {
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { ...(p.spec?.selector?.matchLabels ?? {}) } },
      workloadPort: { port: p.spec?.targetPorts?.[0]?.number ?? 0 },
    },
  };
}
