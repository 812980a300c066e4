// The demo model `kthena up` deploys through the Kubernetes API: one ModelBooster, from which the ModelBooster
// controller derives the ModelServing (simulated vLLM engines on the local control plane), the ModelServer and the
// ModelRoute — the way upstream users deploy a model first. Pure: objects in, no I/O.
import type { KubeObject } from '../../kube/index.js';

export interface DemoOptions {
  /** The model (a Hugging Face id); the served name is its DNS-label form. */
  model: string;
  replicas: number;
  namespace: string;
}

export const DEMO_NAME = 'demo';
const BACKEND = 'server';
/** What the ModelBooster controller names the ModelServing and ModelServer it generates. */
export const DEMO_WORKLOAD = `${DEMO_NAME}-${BACKEND}`;

/** `Qwen/Qwen2.5-0.5B-Instruct` → `qwen2-5-0-5b-instruct`: the name clients send (a ModelBooster's spec.name is a DNS label). */
export function servedName(model: string): string {
  const base = model.split('/').pop() ?? model;
  const label = base
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63)
    .replace(/-+$/, '');
  return label || 'demo-model';
}

export type DemoObject = KubeObject & { kind: string; spec: Record<string, unknown> };

export function demoObjects(o: DemoOptions): DemoObject[] {
  return [
    {
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'ModelBooster',
      metadata: { name: DEMO_NAME, namespace: o.namespace },
      spec: {
        name: servedName(o.model),
        backend: {
          name: BACKEND,
          type: 'vLLM',
          modelURI: `hf://${o.model}`,
          cacheURI: 'hostpath://tmp/kthena-model-cache',
          replicas: o.replicas,
          workers: [
            {
              type: 'server',
              // Runs as `kthena engine-sim` on the local control plane; the real vLLM image on a cluster.
              image: 'vllm/vllm-openai:v0.10.0',
              replicas: 1,
              pods: 1,
              config: { 'max-model-len': 4096, 'enable-prefix-caching': '' },
              resources: { limits: { 'nvidia.com/gpu': '1' } },
            },
          ],
        },
      },
    },
  ];
}
