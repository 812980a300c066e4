// The shapes the ModelBooster controller reads and writes. The ModelBooster API comes from src/api (one schema per
// kind); here its pod-level fields are read as core/v1 types, because they are copied into pod templates.
import type { Affinity, EnvFromSource, EnvVar, ResourceRequirements, Toleration } from 'kubernetes-types/core/v1.js';
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';
import type * as api from '../../api/index.js';

export type BackendType = 'vLLM' | 'vLLMDisaggregated' | 'SGLang' | 'SGLangDisaggregated';

export interface Worker {
  type?: api.ModelWorkerType;
  image?: string;
  replicas: number;
  pods: number;
  resources?: ResourceRequirements;
  affinity?: Affinity;
  tolerations?: Toleration[];
  config?: Record<string, unknown>;
}

export interface Backend {
  name: string;
  type: BackendType | string;
  modelURI: string;
  cacheURI?: string;
  envFrom?: EnvFromSource[];
  env?: EnvVar[];
  replicas: number;
  workers: Worker[];
  schedulerName?: string;
  runtimeClassName?: string;
}

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
  observedGeneration?: number;
}

export interface ModelBooster {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta & { name: string; namespace?: string };
  spec: Omit<api.ModelBoosterSpec, 'backend'> & { backend: Backend };
  status?: { conditions?: Condition[]; observedGeneration?: number };
}

/** Any child we write: metadata plus a spec (ModelServing, ModelServer, ModelRoute, AutoscalingPolicy). */
export interface Child {
  apiVersion: string;
  kind: string;
  metadata: ObjectMeta & { name: string; namespace?: string };
  spec: Record<string, any>;
  status?: unknown;
}
