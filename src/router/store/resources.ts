// The shapes of the resources the router consumes, with upstream's field names (networking.serving.volcano.sh/v1alpha1).
// These are the router's own read-only view; the API package owns validation and defaults.

export interface ObjectMeta {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  creationTimestamp?: string;
  resourceVersion?: string;
  generation?: number;
  uid?: string;
  deletionTimestamp?: string;
}

export interface StringMatch {
  exact?: string;
  prefix?: string;
  regex?: string;
}

export interface ModelMatch {
  headers?: Record<string, StringMatch>;
  uri?: StringMatch;
  body?: { model?: string };
}

export interface TargetModel {
  modelServerName?: string;
  externalModelProviderName?: string;
  weight?: number;
}

export interface Rule {
  name?: string;
  modelMatch?: ModelMatch;
  targetModels: TargetModel[];
}

export interface ParentReference {
  group?: string;
  kind?: string;
  namespace?: string;
  name: string;
  sectionName?: string;
  port?: number;
}

export interface RateLimit {
  inputTokensPerUnit?: number;
  outputTokensPerUnit?: number;
  unit?: 'second' | 'minute' | 'hour' | 'day' | 'month';
  global?: { redis?: { address: string } };
}

export interface ModelRoute {
  apiVersion?: string;
  kind: 'ModelRoute';
  metadata: ObjectMeta;
  spec: {
    modelName?: string;
    loraAdapters?: string[];
    parentRefs?: ParentReference[];
    rules: Rule[];
    rateLimit?: RateLimit;
  };
}

export interface PDGroup {
  groupKey: string;
  prefillLabels: Record<string, string>;
  decodeLabels: Record<string, string>;
}

export interface ModelServer {
  apiVersion?: string;
  kind: 'ModelServer';
  metadata: ObjectMeta;
  spec: {
    model?: string;
    inferenceEngine: 'vLLM' | 'SGLang';
    workloadSelector: { matchLabels: Record<string, string>; pdGroup?: PDGroup };
    workloadPort: { port: number; protocol?: 'http' | 'https' };
    trafficPolicy?: {
      timeout?: string;
      retry?: { attempts?: number; retryInterval?: string };
    };
    kvConnector?: { type?: string };
  };
}

export interface ExternalModelProvider {
  apiVersion?: string;
  kind: 'ExternalModelProvider';
  metadata: ObjectMeta;
  spec: Record<string, unknown>;
}

/**
 * An inference endpoint: a ready Pod (Kubernetes source) or an EngineEndpoint manifest (file source).
 * `port` overrides the ModelServer's workloadPort when set (engines on one host listen on different ports).
 */
export interface EndpointSpec {
  namespace: string;
  name: string;
  address: string;
  port?: number;
  labels: Record<string, string>;
  ready: boolean;
  nodeName?: string;
  phase?: string;
  startTime?: string;
}

export type EngineKind = 'vLLM' | 'SGLang';

export const keyOf = (meta: ObjectMeta): string => `${meta.namespace ?? 'default'}/${meta.name}`;
