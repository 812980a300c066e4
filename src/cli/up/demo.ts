// The demo model `kthena up` deploys through the Kubernetes API: a ModelServing of simulated vLLM engines, the
// ModelServer that selects its pods and the ModelRoute that names the model. Pure: objects in, no I/O.
import type { KubeObject } from '../../kube/index.js';

export interface DemoOptions {
  /** Served model name (what clients put in `model`). */
  model: string;
  replicas: number;
  /** engine-sim profile (sim.kthena.io/engine-args); undefined = the simulator's default. */
  profile?: string;
  namespace: string;
}

export const DEMO_NAME = 'demo';

export type DemoObject = KubeObject & { kind: string; spec: Record<string, unknown> };

export function demoObjects(o: DemoOptions): DemoObject[] {
  const labels = { app: DEMO_NAME };
  const annotations = o.profile ? { 'sim.kthena.io/engine-args': `--profile ${o.profile}` } : undefined;
  return [
    {
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'ModelServing',
      metadata: { name: DEMO_NAME, namespace: o.namespace },
      spec: {
        replicas: o.replicas,
        template: {
          restartGracePeriodSeconds: 0,
          roles: [
            {
              name: 'server',
              replicas: 1,
              workerReplicas: 0,
              entryTemplate: {
                metadata: { labels, ...(annotations ? { annotations } : {}) },
                spec: {
                  terminationGracePeriodSeconds: 5,
                  containers: [
                    {
                      name: 'engine',
                      // Runs as `kthena engine-sim` on the local control plane; the real vLLM image on a cluster.
                      image: 'vllm/vllm-openai:v0.10.0',
                      args: ['--model', o.model, '--port', '8000'],
                      ports: [{ name: 'http', containerPort: 8000 }],
                      resources: { limits: { 'nvidia.com/gpu': '1' } },
                      readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 2 },
                    },
                  ],
                },
              },
            },
          ],
        },
      },
    },
    {
      apiVersion: 'networking.serving.volcano.sh/v1alpha1',
      kind: 'ModelServer',
      metadata: { name: DEMO_NAME, namespace: o.namespace },
      spec: {
        model: o.model,
        inferenceEngine: 'vLLM',
        workloadSelector: { matchLabels: labels },
        workloadPort: { port: 8000 },
      },
    },
    {
      apiVersion: 'networking.serving.volcano.sh/v1alpha1',
      kind: 'ModelRoute',
      metadata: { name: DEMO_NAME, namespace: o.namespace },
      spec: { modelName: o.model, rules: [{ name: 'default', targetModels: [{ modelServerName: DEMO_NAME }] }] },
    },
  ];
}
