// booster → ModelServer `<booster>-<backend>` (§3.4) and ModelRoute `<booster>` (§3.5). Pure; labels, revision and
// owner are added by children.ts.
import { engineModelName, enginePort, isSGLang, workerType } from './containers.js';

export { engineModelName };

import { connectorType, kvTransferConfig, loraAdapterNames, type WorkerConfig } from './engine-args.js';
import { backendChildMeta, backendChildName, LABEL_MODEL_UID, NETWORKING_API } from './naming.js';
import { isDisaggregated } from './serving.js';
import type { Child, ModelBooster } from './types.js';

const cfg = (c: unknown) => c as WorkerConfig | undefined;

/** kvConnector of a disaggregated backend, from the prefill/decode kv-transfer-config (admission keeps them equal). */
export function kvConnectorOf(mb: ModelBooster): { type: 'mooncake' | 'nixl' | 'lmcache' } | undefined {
  for (const w of mb.spec.backend.workers) {
    const t = workerType(w);
    if (t !== 'prefill' && t !== 'decode') continue;
    const type = connectorType(kvTransferConfig(cfg(w.config)));
    if (type) return { type };
  }
  return undefined;
}

export function modelServerFor(mb: ModelBooster): Child {
  const backend = mb.spec.backend;
  const kv = kvConnectorOf(mb);
  return {
    apiVersion: NETWORKING_API,
    kind: 'ModelServer',
    metadata: backendChildMeta(mb),
    spec: {
      model: engineModelName(mb),
      inferenceEngine: isSGLang(backend) ? 'SGLang' : 'vLLM',
      workloadSelector: {
        matchLabels: { [LABEL_MODEL_UID]: mb.metadata.uid ?? '' },
        ...(isDisaggregated(backend.type)
          ? {
              pdGroup: {
                groupKey: 'modelserving.volcano.sh/group-name',
                prefillLabels: { 'modelserving.volcano.sh/role': 'prefill' },
                decodeLabels: { 'modelserving.volcano.sh/role': 'decode' },
              },
            }
          : {}),
      },
      workloadPort: { port: enginePort(backend) },
      trafficPolicy: { retry: { attempts: 5, retryInterval: '0s' } },
      ...(kv ? { kvConnector: kv } : {}),
    },
  };
}

/** The LoRA adapters the engines load (beyond upstream): routable by name through the booster's route. */
export function boosterLoraAdapters(mb: ModelBooster): string[] {
  const names: string[] = [];
  for (const w of mb.spec.backend.workers)
    for (const n of loraAdapterNames(cfg(w.config))) if (!names.includes(n)) names.push(n);
  return names;
}

export function modelRouteFor(mb: ModelBooster): Child {
  const loras = boosterLoraAdapters(mb);
  return {
    apiVersion: NETWORKING_API,
    kind: 'ModelRoute',
    metadata: { name: mb.metadata.name, namespace: mb.metadata.namespace },
    spec: {
      modelName: mb.spec.name || mb.metadata.name,
      ...(loras.length ? { loraAdapters: loras } : {}),
      rules: [
        {
          name: 'default',
          ...(mb.spec.modelMatch ? { modelMatch: mb.spec.modelMatch } : {}),
          targetModels: [{ modelServerName: backendChildName(mb.metadata.name, mb.spec.backend.name) }],
        },
      ],
    },
  };
}
