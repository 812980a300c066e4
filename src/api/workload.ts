// workload.serving.volcano.sh/v1alpha1: ModelServing, ModelBooster, AutoscalingPolicy.
// There is no AutoscalingPolicyBinding upstream any more: the scaling target sits inside AutoscalingPolicy.spec.
import {
  Affinity,
  type Container,
  EnvFromSource,
  EnvVar,
  PodTemplateSpec,
  ResourceRequirements,
  Toleration,
} from './core.js';
import { Condition, LabelSelector, ObjectReference } from './meta.js';
import { ModelMatch, Resource } from './networking.js';
import {
  AnyJson,
  Bool,
  Duration,
  Enum,
  Int32,
  Int64,
  IntOrString,
  MapOf,
  Quantity,
  type Static,
  Str,
  Time,
  Type,
} from './schema-helpers.js';

const Optional = Type.Optional;
export const API_VERSION_WORKLOAD = 'workload.serving.volcano.sh/v1alpha1';

const conditionsList = () =>
  Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

// ---------------------------------------------------------------------------------------------------------------
// ModelServing

export const RECOVERY_POLICIES = ['ServingGroupRecreate', 'RoleRecreate', 'None'] as const;
export type RecoveryPolicy = (typeof RECOVERY_POLICIES)[number];
export const ROLLOUT_STRATEGY_TYPES = ['ServingGroupRollingUpdate', 'RoleRollingUpdate'] as const;
export type RolloutStrategyType = (typeof ROLLOUT_STRATEGY_TYPES)[number];
export const PLUGIN_TARGETS = ['All', 'Entry', 'Worker'] as const;

export const PluginScope = Type.Object({
  roles: Optional(Type.Array(Str())),
  target: Optional(Enum(PLUGIN_TARGETS)),
});
export const PluginSpec = Type.Object({
  name: Str({ minLength: 1 }),
  type: Optional(Enum(['BuiltIn'] as const, { default: 'BuiltIn' })),
  config: Optional(AnyJson()),
  scope: Optional(PluginScope),
});
export type PluginSpec = Static<typeof PluginSpec>;

export const RollingUpdateConfiguration = Type.Object({
  maxUnavailable: Optional(IntOrString({ default: 1 })),
  partition: Optional(IntOrString()),
});
export type RollingUpdateConfiguration = Static<typeof RollingUpdateConfiguration>;

export const RolloutStrategy = Type.Object({
  type: Optional(Enum(ROLLOUT_STRATEGY_TYPES, { default: 'ServingGroupRollingUpdate' })),
  rollingUpdateConfiguration: Optional(RollingUpdateConfiguration),
});
export type RolloutStrategy = Static<typeof RolloutStrategy>;

/** Volcano NetworkTopologySpec. */
export const NetworkTopologySpec = Type.Object({
  mode: Optional(Enum(['hard', 'soft'] as const, { default: 'hard' })),
  highestTierAllowed: Optional(Type.Integer({ minimum: 0 })),
  highestTierName: Optional(Str({ maxLength: 253 })),
});
export type NetworkTopologySpec = Static<typeof NetworkTopologySpec>;

export const NetworkTopology = Type.Object({
  groupPolicy: Optional(NetworkTopologySpec),
  rolePolicy: Optional(NetworkTopologySpec),
});
export type NetworkTopology = Static<typeof NetworkTopology>;

export const GangPolicy = Type.Object({
  minRoleReplicas: Optional(
    MapOf(Int32(), {
      'x-kubernetes-validations': [{ rule: 'self == oldSelf', message: 'minRoleReplicas is immutable' }],
    }),
  ),
});
export type GangPolicy = Static<typeof GangPolicy>;

export const ROLE_NAME_PATTERN = '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$';
export const Role = Type.Object({
  name: Str({ minLength: 1, maxLength: 12, pattern: ROLE_NAME_PATTERN }),
  replicas: Optional(Int32({ minimum: 0, default: 1 })),
  entryTemplate: PodTemplateSpec,
  // Required upstream; optional here (default 0, as upstream's controller treats a missing value), so a single-pod
  // role need not spell it out. Every upstream manifest stays valid.
  workerReplicas: Optional(Int32({ minimum: 0, default: 0 })),
  workerTemplate: Optional(PodTemplateSpec),
  maxUnavailable: Optional(IntOrString({ default: 1 })),
  partition: Optional(IntOrString()),
});
export type Role = Static<typeof Role>;

export const ServingGroup = Type.Object(
  {
    restartGracePeriodSeconds: Optional(Int64({ minimum: 0, default: 0 })),
    gangPolicy: Optional(GangPolicy),
    networkTopology: Optional(NetworkTopology),
    roles: Type.Array(Role, {
      minItems: 1,
      maxItems: 4,
      'x-kubernetes-validations': [
        { rule: 'self.all(x, self.exists_one(y, y.name == x.name))', message: 'roles name must be unique' },
      ],
    }),
  },
  {
    'x-kubernetes-validations': [
      { rule: '!has(oldSelf.gangPolicy) || has(self.gangPolicy)', message: 'gangPolicy is required once set' },
    ],
  },
);
export type ServingGroup = Static<typeof ServingGroup>;

export const ModelServingSpec = Type.Object({
  replicas: Optional(Int32({ minimum: 0, default: 1 })),
  schedulerName: Optional(Str({ default: 'volcano' })),
  plugins: Optional(Type.Array(PluginSpec)),
  template: ServingGroup,
  rolloutStrategy: Optional(RolloutStrategy),
  recoveryPolicy: Optional(Enum(RECOVERY_POLICIES, { default: 'RoleRecreate' })),
});
export type ModelServingSpec = Static<typeof ModelServingSpec>;

// Beyond upstream: which role of which group is not ready and why, plus the restart back-off bookkeeping that must
// survive a controller restart (so it lives in status, not in the controller's memory).
export const RoleInstanceStatus = Type.Object({
  name: Str(),
  role: Str(),
  phase: Str(),
  readyPods: Int32({ minimum: 0 }),
  pods: Int32({ minimum: 0 }),
  revision: Str(),
  reason: Optional(Str()),
});
export const ServingGroupStatus = Type.Object({
  name: Str(),
  phase: Str(),
  revision: Str(),
  restarts: Optional(Int32({ minimum: 0 })),
  lastRestartTime: Optional(Str({ format: 'date-time' })),
  roles: Type.Array(RoleInstanceStatus),
});

export const ModelServingStatus = Type.Object({
  observedGeneration: Optional(Int64()),
  replicas: Optional(Int32()),
  currentReplicas: Optional(Int32()),
  updatedReplicas: Optional(Int32()),
  availableReplicas: Optional(Int32()),
  currentRevision: Optional(Str()),
  updateRevision: Optional(Str()),
  labelSelector: Optional(Str()),
  conditions: Optional(conditionsList()),
  // Ours, beyond upstream: per-group and per-role-instance health written by the controller.
  servingGroups: Optional(Type.Array(ServingGroupStatus)),
});
export type ModelServingStatus = Static<typeof ModelServingStatus>;

export const ModelServingSchema = Resource(API_VERSION_WORKLOAD, 'ModelServing', ModelServingSpec, ModelServingStatus);
export type ModelServing = Static<typeof ModelServingSchema>;

// ---------------------------------------------------------------------------------------------------------------
// ModelBooster

// SGLang and SGLangDisaggregated are ours (upstream declares SGLang but its CRD enum rejects it): additive values,
// so every upstream manifest stays valid (decision 0002).
export const BACKEND_TYPES = ['vLLM', 'vLLMDisaggregated', 'SGLang', 'SGLangDisaggregated'] as const;
export type ModelBackendType = (typeof BACKEND_TYPES)[number];
export const WORKER_TYPES = ['server', 'prefill', 'decode', 'controller', 'coordinator'] as const;
export type ModelWorkerType = (typeof WORKER_TYPES)[number];
export const DNS_LABEL_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';

export const ModelWorker = Type.Object({
  type: Optional(Enum(WORKER_TYPES, { default: 'server' })),
  image: Optional(Str()),
  replicas: Int32({ minimum: 0, maximum: 1000000 }),
  pods: Int32({ minimum: 0, maximum: 1000000 }),
  resources: Optional(ResourceRequirements),
  affinity: Optional(Affinity),
  tolerations: Optional(Type.Array(Toleration)),
  config: Optional(AnyJson()),
});
export type ModelWorker = Static<typeof ModelWorker>;

export const ModelBackend = Type.Object({
  name: Str({ minLength: 1, pattern: DNS_LABEL_PATTERN }),
  type: Enum(BACKEND_TYPES),
  modelURI: Str({ pattern: '^(hf://|s3://|obs://|pvc://|ms://).+' }),
  cacheURI: Optional(Str({ pattern: '^(hostpath://|pvc://).+' })),
  envFrom: Optional(Type.Array(EnvFromSource)),
  env: Optional(Type.Array(EnvVar, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
  replicas: Int32({ minimum: 0, maximum: 1000000 }),
  workers: Type.Array(ModelWorker, { minItems: 1, maxItems: 1000 }),
  schedulerName: Optional(Str()),
  runtimeClassName: Optional(Str()),
});
export type ModelBackend = Static<typeof ModelBackend>;

export const ModelBoosterSpec = Type.Object({
  name: Optional(Str({ maxLength: 64, pattern: DNS_LABEL_PATTERN })),
  owner: Optional(Str()),
  backend: ModelBackend,
  modelMatch: Optional(ModelMatch),
});
export type ModelBoosterSpec = Static<typeof ModelBoosterSpec>;

export const ModelBoosterStatus = Type.Object({
  conditions: Optional(conditionsList()),
  observedGeneration: Optional(Int64()),
});
export type ModelBoosterStatus = Static<typeof ModelBoosterStatus>;

export const ModelBoosterSchema = Resource(API_VERSION_WORKLOAD, 'ModelBooster', ModelBoosterSpec, ModelBoosterStatus);
export type ModelBooster = Static<typeof ModelBoosterSchema>;

// ---------------------------------------------------------------------------------------------------------------
// AutoscalingPolicy

export const AutoscalingPolicyMetric = Type.Object({
  name: Str({ minLength: 1 }),
  targetValue: Quantity(),
});
export type AutoscalingPolicyMetric = Static<typeof AutoscalingPolicyMetric>;

export const AutoscalingPolicyStablePolicy = Type.Object({
  instances: Optional(Int32({ minimum: 0, default: 1 })),
  percent: Optional(Int32({ minimum: 0, maximum: 1000, default: 100 })),
  period: Optional(Duration({ default: '15s' })),
  selectPolicy: Optional(Enum(['Or', 'And'] as const, { default: 'Or' })),
  stabilizationWindow: Optional(Duration()),
});
export type AutoscalingPolicyStablePolicy = Static<typeof AutoscalingPolicyStablePolicy>;

export const AutoscalingPolicyPanicPolicy = Type.Object({
  percent: Optional(Int32({ minimum: 0, maximum: 1000, default: 1000 })),
  period: Duration(),
  panicThresholdPercent: Optional(Int32({ minimum: 110, maximum: 1000, default: 200 })),
  panicModeHold: Optional(Duration({ default: '60s' })),
});
export type AutoscalingPolicyPanicPolicy = Static<typeof AutoscalingPolicyPanicPolicy>;

export const AutoscalingPolicyScaleUpPolicy = Type.Object({
  stablePolicy: Optional(AutoscalingPolicyStablePolicy),
  panicPolicy: Optional(AutoscalingPolicyPanicPolicy),
});
export type AutoscalingPolicyScaleUpPolicy = Static<typeof AutoscalingPolicyScaleUpPolicy>;

export const AutoscalingPolicyBehavior = Type.Object({
  scaleUp: Optional(AutoscalingPolicyScaleUpPolicy),
  scaleDown: Optional(AutoscalingPolicyStablePolicy),
});
export type AutoscalingPolicyBehavior = Static<typeof AutoscalingPolicyBehavior>;

export const PodMetricSource = Type.Object({
  name: Optional(Str()),
  uri: Optional(Str({ pattern: '^/', default: '/metrics' })),
  port: Optional(Int32({ minimum: 1, maximum: 65535, default: 8100 })),
  labelSelector: Optional(LabelSelector),
});
export type PodMetricSource = Static<typeof PodMetricSource>;

export const PrometheusMetricSource = Type.Object({
  serverURL: Str({ minLength: 1, format: 'uri' }),
  query: Str({ minLength: 1 }),
  auth: Optional(Type.Object({})),
});
export type PrometheusMetricSource = Static<typeof PrometheusMetricSource>;

export const MetricSource = Type.Object(
  {
    pod: Optional(PodMetricSource),
    prometheus: Optional(PrometheusMetricSource),
  },
  {
    'x-kubernetes-validations': [
      { rule: 'has(self.pod) || has(self.prometheus)', message: 'one of pod or prometheus must be set' },
      { rule: '!(has(self.pod) && has(self.prometheus))', message: 'pod and prometheus are mutually exclusive' },
    ],
  },
);
export type MetricSource = Static<typeof MetricSource>;

export const Target = Type.Object({
  targetRef: ObjectReference,
  metricSources: Optional(MapOf(MetricSource)),
});
export type Target = Static<typeof Target>;

const MinReplicas = () => Int32({ minimum: 0, maximum: 1000000 });
const MaxReplicas = () => Int32({ minimum: 1, maximum: 1000000 });

export const HomogeneousTarget = Type.Object({
  target: Target,
  minReplicas: MinReplicas(),
  maxReplicas: MaxReplicas(),
});
export type HomogeneousTarget = Static<typeof HomogeneousTarget>;

export const HeterogeneousTargetParam = Type.Object({
  target: Target,
  cost: Optional(Int32({ minimum: 0 })),
  minReplicas: MinReplicas(),
  maxReplicas: MaxReplicas(),
});
export type HeterogeneousTargetParam = Static<typeof HeterogeneousTargetParam>;

export const HeterogeneousTarget = Type.Object({
  params: Type.Array(HeterogeneousTargetParam, { minItems: 1 }),
  costExpansionRatePercent: Optional(Int32({ minimum: 0, default: 200 })),
});
export type HeterogeneousTarget = Static<typeof HeterogeneousTarget>;

export const RoleScalingParam = Type.Object({
  minReplicas: MinReplicas(),
  maxReplicas: MaxReplicas(),
  metrics: Optional(Type.Array(AutoscalingPolicyMetric, { minItems: 1 })),
  metricSources: Optional(MapOf(MetricSource)),
});
export type RoleScalingParam = Static<typeof RoleScalingParam>;

export const RatioConstraint = Type.Object(
  {
    numeratorRole: Str({ minLength: 1 }),
    denominatorRole: Str({ minLength: 1 }),
    minRatio: Quantity(),
    maxRatio: Quantity(),
  },
  {
    'x-kubernetes-validations': [
      { rule: 'self.numeratorRole != self.denominatorRole', message: 'numeratorRole and denominatorRole must differ' },
    ],
  },
);
export type RatioConstraint = Static<typeof RatioConstraint>;

export const DisaggregatedTarget = Type.Object(
  {
    targetRef: ObjectReference,
    roles: MapOf(RoleScalingParam, { minProperties: 1, maxProperties: 2 }),
    ratioConstraint: Optional(RatioConstraint),
  },
  {
    'x-kubernetes-validations': [
      {
        rule: '!has(self.ratioConstraint) || size(self.roles) >= 2',
        message: 'ratioConstraint needs at least two roles',
      },
    ],
  },
);
export type DisaggregatedTarget = Static<typeof DisaggregatedTarget>;

export const AutoscalingPolicySpec = Type.Object({
  tolerancePercent: Optional(Int32({ minimum: 0, maximum: 100, default: 10 })),
  metrics: Optional(Type.Array(AutoscalingPolicyMetric)),
  behavior: Optional(AutoscalingPolicyBehavior),
  homogeneousTarget: Optional(HomogeneousTarget),
  heterogeneousTarget: Optional(HeterogeneousTarget),
  disaggregatedTarget: Optional(DisaggregatedTarget),
});
export type AutoscalingPolicySpec = Static<typeof AutoscalingPolicySpec>;

export const TargetScalingStatus = Type.Object({
  name: Optional(Str()),
  currentReplicas: Optional(Int32()),
  desiredReplicas: Optional(Int32()),
  mode: Optional(Enum(['Stable', 'Panic'] as const)),
  lastScaleTime: Optional(Time()),
});
export type TargetScalingStatus = Static<typeof TargetScalingStatus>;

export const RatioStatus = Type.Object({
  numeratorRole: Optional(Str()),
  denominatorRole: Optional(Str()),
  currentRatio: Optional(Str()),
});
export type RatioStatus = Static<typeof RatioStatus>;

export const DisaggregatedStatus = Type.Object({
  roles: Optional(Type.Array(TargetScalingStatus)),
  ratioStatus: Optional(RatioStatus),
  ratioAdjusted: Optional(Bool()),
});
export type DisaggregatedStatus = Static<typeof DisaggregatedStatus>;

/** Beyond upstream (ADR 0002: status only): what the autoscaler saw and decided, so `kubectl describe` explains it. */
export const ScalingMetricObservation = Type.Object({
  name: Str(),
  value: Optional(Str()),
  targetValue: Optional(Str()),
  source: Optional(Enum(['pod', 'prometheus'] as const)),
});
export type ScalingMetricObservation = Static<typeof ScalingMetricObservation>;

export const ScalingDecision = Type.Object({
  target: Optional(Str()),
  time: Optional(Time()),
  currentReplicas: Optional(Int32()),
  recommendedReplicas: Optional(Int32()),
  desiredReplicas: Optional(Int32()),
  mode: Optional(Enum(['Stable', 'Panic'] as const)),
  reason: Optional(Str()),
  metrics: Optional(Type.Array(ScalingMetricObservation)),
});
export type ScalingDecision = Static<typeof ScalingDecision>;

export const AutoscalingPolicyStatus = Type.Object({
  observedGeneration: Optional(Int64()),
  conditions: Optional(conditionsList()),
  homogeneousStatus: Optional(TargetScalingStatus),
  heterogeneousStatus: Optional(Type.Array(TargetScalingStatus)),
  disaggregatedStatus: Optional(DisaggregatedStatus),
  lastDecisions: Optional(Type.Array(ScalingDecision)),
});
export type AutoscalingPolicyStatus = Static<typeof AutoscalingPolicyStatus>;

export const AutoscalingPolicySchema = Resource(
  API_VERSION_WORKLOAD,
  'AutoscalingPolicy',
  AutoscalingPolicySpec,
  AutoscalingPolicyStatus,
);
export type AutoscalingPolicy = Static<typeof AutoscalingPolicySchema>;

export type { Container };
