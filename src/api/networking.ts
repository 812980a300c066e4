// networking.serving.volcano.sh/v1alpha1: ModelRoute, ModelServer, ExternalModelProvider.
// Field names, enums, defaults and limits follow upstream's v1alpha1 CRDs; `x-kubernetes-validations` carry the
// CEL rules upstream has, and rules/ re-implements them (plus the webhook rules) for offline validation.
import { Condition, ObjectMeta } from './meta.js';
import {
  Bool,
  type CelRule,
  Duration,
  Enum,
  Int32,
  Int64,
  MapOf,
  type Static,
  Str,
  StringMap,
  type TSchema,
  Type,
} from './schema-helpers.js';

const Optional = Type.Optional;

/** The envelope every kind shares. `apiVersion`/`kind` are typed as literals for narrowing. */
export function Resource<A extends string, K extends string, S extends TSchema, St extends TSchema>(
  apiVersion: A,
  kind: K,
  spec: S,
  status: St,
  opts: { specRequired?: boolean } = {},
) {
  return Type.Object({
    apiVersion: Type.Unsafe<A>({ type: 'string', enum: [apiVersion] }),
    kind: Type.Unsafe<K>({ type: 'string', enum: [kind] }),
    metadata: ObjectMeta,
    spec: opts.specRequired === false ? Optional(spec) : spec,
    status: Optional(status),
  });
}

export const API_VERSION_NETWORKING = 'networking.serving.volcano.sh/v1alpha1';

// ---------------------------------------------------------------------------------------------------------------
// ModelRoute

/** Exactly one of exact/prefix/regex (upstream evaluates them in that order; the webhook wants one). */
export const StringMatch = Type.Object({
  exact: Optional(Str()),
  prefix: Optional(Str()),
  regex: Optional(Str()),
});
export type StringMatch = Static<typeof StringMatch>;

export const BodyMatch = Type.Object({ model: Optional(Str()) });
export type BodyMatch = Static<typeof BodyMatch>;

export const ModelMatch = Type.Object({
  headers: Optional(MapOf(StringMatch)),
  uri: Optional(StringMatch),
  body: Optional(BodyMatch),
});
export type ModelMatch = Static<typeof ModelMatch>;

const targetModelCel: CelRule[] = [
  {
    rule: "(has(self.modelServerName) && self.modelServerName != '') != (has(self.externalModelProviderName) && self.externalModelProviderName != '')",
    message: 'exactly one of modelServerName or externalModelProviderName must be set',
  },
];
export const TargetModel = Type.Object(
  {
    modelServerName: Optional(Str()),
    externalModelProviderName: Optional(Str()),
    weight: Optional(Int32({ minimum: 0, maximum: 100, default: 100 })),
  },
  { 'x-kubernetes-validations': targetModelCel },
);
export type TargetModel = Static<typeof TargetModel>;

export const Rule = Type.Object({
  name: Optional(Str()),
  modelMatch: Optional(ModelMatch),
  targetModels: Type.Array(TargetModel, { minItems: 1, maxItems: 16 }),
});
export type Rule = Static<typeof Rule>;

export const RedisConfig = Type.Object({ address: Str({ minLength: 1 }) });
export type RedisConfig = Static<typeof RedisConfig>;
export const GlobalRateLimit = Type.Object({ redis: Optional(RedisConfig) });
export type GlobalRateLimit = Static<typeof GlobalRateLimit>;

export const RATE_LIMIT_UNITS = ['second', 'minute', 'hour', 'day', 'month'] as const;
export type RateLimitUnit = (typeof RATE_LIMIT_UNITS)[number];
export const RateLimit = Type.Object({
  inputTokensPerUnit: Optional(Type.Integer({ minimum: 1, maximum: 4294967295 })),
  outputTokensPerUnit: Optional(Type.Integer({ minimum: 1, maximum: 4294967295 })),
  unit: Optional(Enum(RATE_LIMIT_UNITS, { default: 'second' })),
  global: Optional(GlobalRateLimit),
});
export type RateLimit = Static<typeof RateLimit>;

/** Gateway API ParentReference (gateway.networking.k8s.io/v1). */
export const ParentReference = Type.Object({
  group: Optional(Str({ maxLength: 253, default: 'gateway.networking.k8s.io' })),
  kind: Optional(Str({ minLength: 1, maxLength: 63, default: 'Gateway' })),
  namespace: Optional(Str({ minLength: 1, maxLength: 63 })),
  name: Str({ minLength: 1, maxLength: 253 }),
  sectionName: Optional(Str({ minLength: 1, maxLength: 253 })),
  port: Optional(Int32({ minimum: 1, maximum: 65535 })),
});
export type ParentReference = Static<typeof ParentReference>;

export const ModelRouteSpec = Type.Object(
  {
    modelName: Optional(
      Str({ 'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'modelName is immutable' }] }),
    ),
    loraAdapters: Optional(Type.Array(Str(), { maxItems: 10 })),
    parentRefs: Optional(Type.Array(ParentReference, { maxItems: 32 })),
    rules: Type.Array(Rule, { maxItems: 16 }),
    rateLimit: Optional(RateLimit),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: "(has(self.modelName) && self.modelName != '') || (has(self.loraAdapters) && size(self.loraAdapters) > 0)",
        message: 'ModelName and LoraAdapters cannot both be empty',
      },
    ],
  },
);
export type ModelRouteSpec = Static<typeof ModelRouteSpec>;

// Deviation: upstream's ModelRoute/ModelServer status is empty; our router writes conditions (docs/router.md,
// "Kubernetes source"), so the schema declares them or the API server would prune them.
export const ModelRouteStatus = Type.Object({
  observedGeneration: Optional(Int64()),
  conditions: Optional(
    Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});
export type ModelRouteStatus = Static<typeof ModelRouteStatus>;

export const ModelRouteSchema = Resource(API_VERSION_NETWORKING, 'ModelRoute', ModelRouteSpec, ModelRouteStatus);
export type ModelRoute = Static<typeof ModelRouteSchema>;

// ---------------------------------------------------------------------------------------------------------------
// ModelServer

export const INFERENCE_ENGINES = ['vLLM', 'SGLang'] as const;
export type InferenceEngine = (typeof INFERENCE_ENGINES)[number];
export const KV_CONNECTOR_TYPES = ['http', 'lmcache', 'nixl', 'mooncake'] as const;
export type KVConnectorType = (typeof KV_CONNECTOR_TYPES)[number];

export const PDGroup = Type.Object({
  groupKey: Str(),
  prefillLabels: StringMap(),
  decodeLabels: StringMap(),
});
export type PDGroup = Static<typeof PDGroup>;

export const WorkloadSelector = Type.Object({
  matchLabels: Optional(StringMap()),
  pdGroup: Optional(PDGroup),
});
export type WorkloadSelector = Static<typeof WorkloadSelector>;

export const WorkloadPort = Type.Object({
  port: Int32({ minimum: 1, maximum: 65535 }),
  protocol: Optional(Enum(['http', 'https'] as const, { default: 'http' })),
});
export type WorkloadPort = Static<typeof WorkloadPort>;

export const Retry = Type.Object({
  attempts: Optional(Int32({ minimum: 0 })),
  retryInterval: Optional(Duration({ default: '100ms' })),
});
export type Retry = Static<typeof Retry>;

export const TrafficPolicy = Type.Object({
  timeout: Optional(Duration()),
  retry: Optional(Retry),
});
export type TrafficPolicy = Static<typeof TrafficPolicy>;

export const KVConnectorSpec = Type.Object({
  type: Optional(Enum(KV_CONNECTOR_TYPES, { default: 'http' })),
});
export type KVConnectorSpec = Static<typeof KVConnectorSpec>;

export const ModelServerSpec = Type.Object({
  model: Optional(Str({ maxLength: 256 })),
  inferenceEngine: Enum(INFERENCE_ENGINES),
  workloadSelector: WorkloadSelector,
  workloadPort: WorkloadPort,
  trafficPolicy: Optional(TrafficPolicy),
  kvConnector: Optional(KVConnectorSpec),
});
export type ModelServerSpec = Static<typeof ModelServerSpec>;

export const ModelServerStatus = Type.Object({
  observedGeneration: Optional(Int64()),
  readyEndpoints: Optional(Int32({ minimum: 0 })),
  conditions: Optional(
    Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});
export type ModelServerStatus = Static<typeof ModelServerStatus>;

export const ModelServerSchema = Resource(API_VERSION_NETWORKING, 'ModelServer', ModelServerSpec, ModelServerStatus);
export type ModelServer = Static<typeof ModelServerSchema>;

// ---------------------------------------------------------------------------------------------------------------
// ExternalModelProvider

export const PROVIDER_TYPES = ['OpenAI', 'Anthropic'] as const;
export type ProviderType = (typeof PROVIDER_TYPES)[number];
export const AUTH_SCHEMES = ['Bearer', 'APIKey'] as const;
export type AuthScheme = (typeof AUTH_SCHEMES)[number];

/** Header names an ExternalModelProvider may not set (compared case-insensitively). */
export const RESERVED_PROVIDER_HEADERS = [
  'authorization',
  'proxy-authorization',
  'cookie',
  'x-api-key',
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'trailer',
  'te',
] as const;

/** The label a Secret needs before the router will read it as a provider credential. */
export const PROVIDER_CREDENTIAL_LABEL = 'networking.serving.volcano.sh/external-model-provider-credential';

export const ProviderSecretRef = Type.Object(
  {
    name: Str({ minLength: 1 }),
    key: Str({ minLength: 1 }),
    optional: Optional(Bool()),
  },
  {
    'x-kubernetes-validations': [
      { rule: '!has(self.optional) || !self.optional', message: 'secretRef.optional must not be true' },
    ],
  },
);
export type ProviderSecretRef = Static<typeof ProviderSecretRef>;

export const ProviderAuth = Type.Object({
  scheme: Optional(Enum(AUTH_SCHEMES)),
  secretRef: ProviderSecretRef,
});
export type ProviderAuth = Static<typeof ProviderAuth>;

export const ExternalModelProviderSpec = Type.Object({
  providerType: Optional(Enum(PROVIDER_TYPES, { default: 'OpenAI' })),
  model: Optional(Str({ maxLength: 256 })),
  baseURL: Str({ minLength: 1, pattern: '^https://.+' }),
  insecureSkipVerify: Optional(Bool({ default: false })),
  auth: Optional(ProviderAuth),
  headers: Optional(StringMap()),
});
export type ExternalModelProviderSpec = Static<typeof ExternalModelProviderSpec>;

export const ExternalModelProviderStatus = Type.Object({
  observedGeneration: Optional(Int64()),
  conditions: Optional(
    Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] }),
  ),
});
export type ExternalModelProviderStatus = Static<typeof ExternalModelProviderStatus>;

export const ExternalModelProviderSchema = Resource(
  API_VERSION_NETWORKING,
  'ExternalModelProvider',
  ExternalModelProviderSpec,
  ExternalModelProviderStatus,
);
export type ExternalModelProvider = Static<typeof ExternalModelProviderSchema>;
