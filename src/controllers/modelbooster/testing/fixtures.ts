// Booster fixtures for the ModelBooster tests: upstream's single-server example and a prefill/decode booster.
import type { ModelBooster, Worker } from '../types.js';

export function vllmBooster(over: { config?: Record<string, unknown>; worker?: Partial<Worker> } = {}): ModelBooster {
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelBooster',
    metadata: { name: 'demo', namespace: 'default', uid: 'uid-demo', generation: 1 },
    spec: {
      backend: {
        name: 'backend1',
        type: 'vLLM',
        modelURI: 'hf://Qwen/Qwen2.5-0.5B-Instruct',
        cacheURI: 'hostpath://tmp/cache',
        replicas: 1,
        workers: [
          {
            type: 'server',
            image: 'vllm/vllm-openai-cpu:latest',
            replicas: 1,
            pods: 1,
            config: over.config ?? {
              'served-model-name': 'Qwen2.5-0.5B-Instruct',
              'max-model-len': 2048,
              'enforce-eager': '',
            },
            resources: { limits: { cpu: '4', memory: '8Gi' } },
            ...over.worker,
          },
        ],
      },
    },
  };
}

export function pdBooster(connector = 'NixlConnector', type = 'vLLMDisaggregated'): ModelBooster {
  const worker = (role: 'prefill' | 'decode', kvRole: string, replicas: number): Worker => ({
    type: role,
    image: 'vllm/vllm-openai:v0.10.0',
    replicas,
    pods: 1,
    config: { port: 8000, 'kv-transfer-config': JSON.stringify({ kv_connector: connector, kv_role: kvRole }) },
    resources: { limits: { 'nvidia.com/gpu': '1' } },
  });
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelBooster',
    metadata: { name: 'pd', namespace: 'default', uid: 'uid-pd', generation: 1 },
    spec: {
      name: 'deepseek-v2-lite',
      backend: {
        name: 'b',
        type,
        modelURI: 'hf://deepseek-ai/DeepSeek-V2-Lite',
        cacheURI: 'pvc://model-cache',
        replicas: 1,
        workers: [worker('prefill', 'kv_producer', 2), worker('decode', 'kv_consumer', 1)],
      },
    },
  };
}
