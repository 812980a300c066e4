// Human descriptions of every Kthena type and field. They are attached to the schemas at load time, so the
// CRDs (`kubectl explain`) and docs/api.md carry them; the wording is ours, the facts are upstream's.
import * as core from './core.js';
import * as meta from './meta.js';
import * as n from './networking.js';
import { describeSchema as d } from './schema-helpers.js';
import * as w from './workload.js';

// ---- core types (marked with kubeType where they are defined, so docs/api.md does not expand them)
const coreTypes: Array<[object, string, string]> = [
  [core.PodTemplateSpec, 'core/v1 PodTemplateSpec', 'Pod metadata (labels, annotations) and a PodSpec.'],
  [core.ResourceRequirements, 'core/v1 ResourceRequirements', 'Limits and requests (cpu, memory, nvidia.com/gpu, …).'],
  [core.Affinity, 'core/v1 Affinity', 'Node affinity, pod affinity and pod anti-affinity.'],
  [core.Toleration, 'core/v1 Toleration', 'Lets pods schedule onto nodes with matching taints.'],
  [core.EnvVar, 'core/v1 EnvVar', 'An environment variable.'],
  [core.EnvFromSource, 'core/v1 EnvFromSource', 'Environment variables from a ConfigMap or Secret.'],
  [meta.ObjectReference, 'core/v1 ObjectReference', 'A reference to an object.'],
  [meta.LabelSelector, 'meta/v1 LabelSelector', 'matchLabels and matchExpressions.'],
  [meta.Condition, 'meta/v1 Condition', 'type, status, reason, message, lastTransitionTime, observedGeneration.'],
];
for (const [schema, ref, text] of coreTypes) d(schema as never, `${ref}: ${text}`);

// ---- networking.serving.volcano.sh
d(n.StringMatch, 'Matches a string. Set exactly one of exact, prefix or regex.', {
  exact: 'The string must equal this value.',
  prefix: 'The string must start with this value.',
  regex: 'Go RE2 regular expression; matches when it finds a match anywhere in the string (not anchored).',
});
d(n.BodyMatch, 'Matches fields of the request body.', { model: 'Exact value of the body\'s "model" field.' });
d(n.ModelMatch, 'Conditions on the request; all that are set must hold.', {
  headers: 'Header name → matcher. A missing header is matched as the empty string.',
  uri: 'Matcher for the request path (without the query string).',
  body: 'Matcher for fields of the JSON body.',
});
d(n.TargetModel, 'Where a matching request goes. Set exactly one of modelServerName or externalModelProviderName.', {
  modelServerName: 'A ModelServer in the same namespace.',
  externalModelProviderName: 'An ExternalModelProvider in the same namespace. Not allowed on routes with loraAdapters.',
  weight:
    "Relative weight among the rule's targets (70/30 and 7/3 split alike). The weights of a rule must not all be 0.",
});
d(n.Rule, 'One routing rule. Rules are tried in order; the first whose modelMatch holds is used.', {
  name: 'Informational name, shown in logs and metrics.',
  modelMatch: 'Conditions on the request; absent means every request matches.',
  targetModels: 'The backends, chosen at random by weight.',
});
d(n.RedisConfig, 'A Redis server.', { address: 'host:port of the Redis server.' });
d(n.GlobalRateLimit, 'Rate limit state shared by all router replicas.', {
  redis: 'Keep the token buckets in this Redis server instead of in each router.',
});
d(n.RateLimit, "Token rate limit of the model (checked on the route's modelName).", {
  inputTokensPerUnit: 'Prompt tokens allowed per unit; unset means unlimited.',
  outputTokensPerUnit: 'Completion tokens allowed per unit; unset means unlimited.',
  unit: 'The time unit of the limits; month is 30 days.',
  global: 'Share the limit across router replicas (through Redis); otherwise each router limits on its own.',
});
d(n.ParentReference, 'A Gateway (Gateway API) this route attaches to.', {
  group: 'API group of the parent.',
  kind: 'Kind of the parent.',
  namespace: "Namespace of the parent; defaults to the route's.",
  name: 'Name of the parent.',
  sectionName: 'A listener of the Gateway.',
  port: 'A port of the Gateway.',
});
d(n.ModelRouteSpec, 'How requests for a model are routed. modelName and loraAdapters cannot both be empty.', {
  modelName: 'The "model" value of requests this route serves (may be a virtual name). Immutable.',
  loraAdapters: 'Further "model" values (LoRA adapter names) this route serves; the name is passed through unchanged.',
  parentRefs: "Gateways this route attaches to (only with the router's Gateway API mode).",
  rules: 'Ordered routing rules; the first that matches wins.',
  rateLimit: 'Token rate limit for this model.',
});
d(
  n.ModelRouteStatus,
  'Written by the router (Lease holder): Accepted and ResolvedRefs conditions. Upstream declares no status fields.',
  {
    observedGeneration: 'metadata.generation the conditions describe.',
    conditions:
      'Accepted (valid, not shadowed by an older route for the same modelName); ResolvedRefs (targets exist).',
  },
);
d(n.PDGroup, 'Splits the selected pods into prefill and decode pods, paired by a group label.', {
  groupKey: 'Pod label whose value pairs a prefill pod with the decode pods of the same group.',
  prefillLabels: 'Labels that mark prefill pods.',
  decodeLabels: 'Labels that mark decode pods.',
});
d(n.WorkloadSelector, 'Selects the inference pods of this ModelServer (same namespace).', {
  matchLabels: 'Pods must carry all of these labels. At least one is required.',
  pdGroup: 'Enables prefill/decode disaggregation.',
});
d(n.WorkloadPort, 'The port of the inference engine in each pod.', {
  port: 'Port for inference, /metrics and /v1/models.',
  protocol: 'Recorded but not used: the router talks plain HTTP to pods, as upstream does.',
});
d(n.Retry, "Retry settings (recorded; upstream's router does not read them).", {
  attempts: 'Number of attempts.',
  retryInterval: 'Pause between attempts.',
});
d(n.TrafficPolicy, 'How the router talks to the pods.', {
  timeout:
    'Bounds connecting, sending the request and waiting for response headers, per attempt; not the streamed body. Unset means no timeout.',
  retry: 'Retry settings.',
});
d(n.KVConnectorSpec, 'How the KV cache travels from prefill to decode pods.', {
  type: 'Connector; SGLang engines use their own connector automatically.',
});
d(n.ModelServerSpec, 'A set of inference pods serving one model with one engine.', {
  model: 'The model the engine serves; when set, the request\'s "model" is rewritten to it (except for LoRA requests).',
  inferenceEngine: 'The engine, which decides metric names and the default PD connector. Case-sensitive.',
  workloadSelector: 'Which pods serve.',
  workloadPort: 'Where the engine listens.',
  trafficPolicy: 'Timeouts and retries.',
  kvConnector: 'KV transfer for prefill/decode disaggregation.',
});
d(
  n.ModelServerStatus,
  'Written by the router (Lease holder): ready endpoint count and a Ready condition. Upstream declares no status fields.',
  {
    observedGeneration: 'metadata.generation the status describes.',
    readyEndpoints: 'Ready pods with an IP that spec.workloadSelector selects (the router sends traffic to these).',
    conditions: 'Ready: True when at least one endpoint is ready.',
  },
);
d(n.ProviderAuth, 'The credential sent upstream.', {
  scheme:
    'Bearer sends "Authorization: Bearer <token>", APIKey sends "x-api-key: <token>". Defaults by provider: OpenAI → Bearer, Anthropic → APIKey.',
  secretRef:
    'The Secret key holding the token. The Secret must be in the same namespace and labelled networking.serving.volcano.sh/external-model-provider-credential: "true". optional must not be true.',
});
d(n.ProviderSecretRef, 'A key of a Secret in the same namespace.', {
  name: 'Secret name.',
  key: 'Key within the Secret.',
  optional: 'Must be unset or false: a provider credential cannot be optional.',
});
d(n.ExternalModelProviderSpec, 'A model served outside the cluster over HTTPS.', {
  providerType: 'The protocol adapter.',
  model: 'When set, the request\'s "model" is rewritten to it.',
  baseURL: 'https:// URL of the provider, with a host and no user info, query or fragment.',
  insecureSkipVerify: 'Skip TLS certificate verification (still HTTPS only).',
  auth: 'Credential; absent means none is sent.',
  headers:
    'Static, non-secret headers added to each upstream request. Credentials, hop-by-hop and framing headers are reserved.',
});
d(n.ExternalModelProviderStatus, 'Written by the router: whether the credential resolved and the provider is usable.', {
  observedGeneration: 'The generation the conditions describe.',
  conditions: 'CredentialsResolved and Ready.',
});

// ---- workload.serving.volcano.sh: ModelServing
d(w.PluginScope, 'Which pods a plugin applies to.', {
  roles: 'Role names; empty means all roles.',
  target: 'Entry pods, worker pods or both (empty means all).',
});
d(w.PluginSpec, 'A pod-construction plugin run by the ModelServing controller.', {
  name: 'Instance name, also the registry key of the built-in plugin.',
  type: 'Plugin type; only BuiltIn exists.',
  config: 'Plugin-specific configuration (any JSON).',
  scope: 'Which pods the plugin touches.',
});
d(w.RollingUpdateConfiguration, 'Limits of a ServingGroup rolling update.', {
  maxUnavailable:
    'Serving groups that may be unavailable during the update: a number or a percentage of spec.replicas (rounded down). Must not resolve to 0.',
  partition:
    'Serving groups with an ordinal below this stay on the old revision: a number or a percentage of spec.replicas (rounded up).',
});
d(w.RolloutStrategy, 'How template changes are rolled out.', {
  type: 'ServingGroupRollingUpdate replaces whole serving groups; RoleRollingUpdate replaces role instances (limits set per role).',
  rollingUpdateConfiguration: 'Only for ServingGroupRollingUpdate.',
});
d(w.NetworkTopologySpec, 'Volcano network-topology constraint.', {
  mode: 'hard: the pods must fit within the tier; soft: best effort.',
  highestTierAllowed: 'Highest network tier the pods may span. Exclusive with highestTierName.',
  highestTierName: 'Name of the highest tier the pods may span. Exclusive with highestTierAllowed.',
});
d(w.NetworkTopology, 'Network-topology constraints for gang scheduling.', {
  groupPolicy: 'Constraint on each serving group.',
  rolePolicy: 'Constraint on each role instance.',
});
d(w.GangPolicy, 'Gang scheduling of a serving group (Volcano PodGroup).', {
  minRoleReplicas:
    'Role name → instances that must be schedulable together before any pod starts (0..role replicas). Immutable.',
});
d(
  w.Role,
  'A role of the serving group (for example prefill or decode): replicas instances, each one entry pod plus workerReplicas worker pods.',
  {
    name: 'Role name: a DNS-1035 label of at most 12 characters, unique in the template.',
    replicas: 'Instances of this role per serving group.',
    entryTemplate: 'Pod template of the entry (leader) pod of each instance.',
    workerReplicas: 'Worker pods per instance.',
    workerTemplate: 'Pod template of the worker pods; required when workerReplicas > 0.',
    maxUnavailable:
      'RoleRollingUpdate only: instances that may be unavailable, a number or a percentage of replicas (rounded down); 1..replicas.',
    partition:
      'RoleRollingUpdate only: instances with an ordinal below this stay on the old revision; a number or a percentage (rounded up).',
  },
);
d(
  w.ServingGroup,
  'The template of one serving group (one replica of the ModelServing). gangPolicy cannot be removed once set.',
  {
    restartGracePeriodSeconds: 'Grace time before a failed pod is deleted or rebuilt.',
    gangPolicy: 'Gang scheduling.',
    networkTopology: 'Network-topology constraints.',
    roles: 'The roles, 1 to 4, with unique names.',
  },
);
d(w.ModelServingSpec, 'Runs replicas serving groups built from the template.', {
  replicas: 'Number of serving groups. Driven by the scale subresource (HPA/KEDA/AutoscalingPolicy).',
  schedulerName: 'Scheduler of every pod; a Volcano PodGroup is made only when it is volcano.',
  plugins: 'Plugins that adjust the pods before creation.',
  template: 'The serving group template.',
  rolloutStrategy: 'How template changes are rolled out.',
  recoveryPolicy:
    'What is recreated when a pod fails: the whole serving group, the role instance, or nothing. ServingGroupRecreate cannot be combined with RoleRollingUpdate.',
});
d(w.ModelServingStatus, 'Observed state, written by the controller.', {
  observedGeneration: 'The generation this status describes.',
  replicas: 'Serving groups known to the controller, deleting ones included.',
  currentReplicas: 'Groups not being deleted whose revision is not the update revision.',
  updatedReplicas: 'Groups not being deleted on the update revision.',
  availableReplicas: 'Groups in Running state.',
  currentRevision: 'Revision hash of the current groups.',
  updateRevision: 'Revision hash of the template being rolled out.',
  labelSelector: 'Selector of the pods, for the scale subresource.',
  conditions: 'Available, Progressing and UpdateInProgress.',
  servingGroups: 'Per serving group health (ours, beyond upstream).',
});
d(w.ServingGroupStatus, 'Health of one serving group.', {
  name: 'Serving group name, `<modelserving>-<ordinal>`.',
  phase: 'Creating, Running, Scaling or Deleting.',
  revision: 'Revision hash of the group.',
  restarts: 'Recreations by the recovery policy since the group last stayed healthy (drives the restart back-off).',
  lastRestartTime: 'When the group (or one of its role instances) was last recreated.',
  roles: 'Each role instance of the group.',
});
d(w.RoleInstanceStatus, 'Health of one role instance.', {
  name: 'Role instance name, `<role>-<ordinal>`.',
  role: 'Role name.',
  phase: 'Creating, Running, Deleting or Failed.',
  readyPods: 'Pods of the instance that are Ready.',
  pods: 'Pods of the instance.',
  revision: 'Revision hash of the instance.',
  reason: 'Why the instance is not ready, naming the pod and its container state.',
});

// ---- ModelBooster
d(w.ModelWorker, 'One kind of engine process of the backend.', {
  type: 'server for the vLLM and SGLang backends; prefill and decode for vLLMDisaggregated and SGLangDisaggregated.',
  image: 'Engine image; must not contain whitespace.',
  replicas: 'Role instances.',
  pods: 'Pods per instance (entry plus workers).',
  resources: 'Resources of the engine container.',
  affinity: 'Affinity of the generated pods.',
  tolerations: 'Tolerations of the generated pods.',
  config:
    'Engine arguments as a map: each key becomes --key value (an empty string gives a bare flag). port, served-model-name and kv-transfer-config are read by the controller too.',
});
d(w.ModelBackend, 'The single backend of a ModelBooster.', {
  name: 'Backend name; children are named <booster>-<backend>.',
  type: 'Engine layout: vLLM or SGLang (one server worker), vLLMDisaggregated or SGLangDisaggregated (prefill and decode workers; SGLang ones are beyond upstream).',
  modelURI: 'Where the weights come from: hf://, ms://, s3://, obs:// or pvc://.',
  cacheURI:
    'Where they are cached: pvc://CLAIM or hostpath://PATH; empty means an emptyDir. Must be pvc:// when modelURI is.',
  envFrom: 'Environment sources for the downloader and the engine.',
  env: 'Environment of the downloader and the engine (ENDPOINT, HF_ENDPOINT, MS_TOKEN, RUNTIME_PORT, …).',
  replicas: 'Serving groups (ModelServing.spec.replicas).',
  workers: 'The engine processes.',
  schedulerName: 'Scheduler of the generated ModelServing.',
  runtimeClassName: 'RuntimeClass of the generated pods.',
});
d(w.ModelBoosterSpec, 'One-stop deployment: the controller generates a ModelServing, a ModelServer and a ModelRoute.', {
  name: 'Client-facing model name (ModelRoute.spec.modelName); defaults to metadata.name.',
  owner: 'Informational owner.',
  backend: 'The backend to run.',
  modelMatch: "Request conditions copied into the generated route's rule.",
});
d(w.ModelBoosterStatus, 'Observed state, written by the controller.', {
  conditions: 'Initialized, Active and Failed.',
  observedGeneration: 'The generation this status describes.',
});

// ---- AutoscalingPolicy
d(w.AutoscalingPolicyMetric, 'A metric to scale on.', {
  name: 'Metric name; keys of metricSources refer to it.',
  targetValue: 'Desired value per replica; must be > 0.',
});
d(w.AutoscalingPolicyStablePolicy, 'Limits of normal (stable-mode) scaling.', {
  instances: 'Replicas that may be added or removed per period.',
  percent: 'Percentage of current replicas that may be added or removed per period.',
  period: 'Length of a scaling period (0s..30m).',
  selectPolicy: 'Or takes the larger of instances and percent, And the smaller.',
  stabilizationWindow: 'Window over which recommendations are smoothed (0s..30m).',
});
d(w.AutoscalingPolicyPanicPolicy, 'Fast scale-up when load spikes.', {
  percent: 'Percentage of current replicas that may be added per period in panic mode.',
  period: 'Length of a panic scaling period (0s..30m).',
  panicThresholdPercent: 'Enter panic mode when desired replicas reach this percentage of current ones.',
  panicModeHold: 'How long panic mode lasts once entered (0s..30m).',
});
d(w.AutoscalingPolicyScaleUpPolicy, 'Scale-up behaviour.', {
  stablePolicy: 'Normal scale-up limits.',
  panicPolicy: 'Panic-mode scale-up.',
});
d(w.AutoscalingPolicyBehavior, 'Scaling speed limits. The admission webhook fills defaults for missing parts.', {
  scaleUp: 'Scale-up behaviour.',
  scaleDown: 'Scale-down behaviour.',
});
d(w.PodMetricSource, "Scrape the metric from the target's pods.", {
  name: "Metric family name in the pods' exposition; defaults to the metric key.",
  uri: 'Path of the metrics endpoint.',
  port: 'Port of the metrics endpoint.',
  labelSelector: 'Further restricts the scraped pods.',
});
d(w.PrometheusMetricSource, 'Query the metric from Prometheus.', {
  serverURL: 'http(s) URL of the Prometheus server.',
  query: 'Instant PromQL query returning a scalar or a single-sample vector.',
  auth: 'Reserved; ignored.',
});
d(w.MetricSource, 'Where a metric is read. Set exactly one of pod or prometheus.', {
  pod: 'Scrape pods.',
  prometheus: 'Query Prometheus.',
});
d(w.Target, 'A ModelServing to scale and where its metrics come from.', {
  targetRef: "The ModelServing (kind ModelServing or empty; namespace defaults to the policy's).",
  metricSources: 'Metric name → source.',
});
d(w.HomogeneousTarget, 'Scale one ModelServing.', {
  target: 'The ModelServing.',
  minReplicas: 'Lower bound of replicas.',
  maxReplicas: 'Upper bound of replicas.',
});
d(w.HeterogeneousTargetParam, 'One ModelServing of a heterogeneous target.', {
  target: 'The ModelServing.',
  cost: 'Relative cost of one replica; cheaper ones are filled first.',
  minReplicas: 'Lower bound of replicas.',
  maxReplicas: 'Upper bound of replicas.',
});
d(w.HeterogeneousTarget, 'Serve one model from several ModelServings, scaled together by cost.', {
  params: 'The ModelServings, each with a cost and bounds.',
  costExpansionRatePercent: 'Growth of the replica blocks the cost optimizer tries.',
});
d(w.RoleScalingParam, 'Scaling of one role. A role is fixed when minReplicas == maxReplicas.', {
  minReplicas: "Lower bound of the role's replicas.",
  maxReplicas: "Upper bound of the role's replicas.",
  metrics: 'Metrics of this role; replace spec.metrics.',
  metricSources: 'Metric name → source; required for a role that can scale.',
});
d(w.RatioConstraint, 'Keeps numerator/denominator replicas within [minRatio, maxRatio].', {
  numeratorRole: 'Role counted above the line.',
  denominatorRole: 'Role counted below the line; must differ from numeratorRole.',
  minRatio: 'Lowest allowed ratio (≥ 0).',
  maxRatio: 'Highest allowed ratio (> 0, ≥ minRatio).',
});
d(w.DisaggregatedTarget, 'Scale the roles (e.g. prefill and decode) of one ModelServing separately.', {
  targetRef: 'The ModelServing.',
  roles: 'Role name → scaling; one or two roles.',
  ratioConstraint: 'Ratio between two roles; needs both in roles.',
});
d(w.AutoscalingPolicySpec, 'What to scale, on which metrics, how fast. Set exactly one of the three targets.', {
  tolerancePercent: 'No scaling while the metric is within this percentage of its target.',
  metrics: 'Metrics to scale on; required for homogeneous and heterogeneous targets.',
  behavior: 'Scaling speed limits.',
  homogeneousTarget: 'Scale one ModelServing.',
  heterogeneousTarget: 'Scale several ModelServings by cost.',
  disaggregatedTarget: 'Scale the roles of one ModelServing.',
});
d(w.TargetScalingStatus, 'Scaling state of one target or role.', {
  name: 'Role or target name.',
  currentReplicas: 'Replicas now.',
  desiredReplicas: 'Replicas the autoscaler wants.',
  mode: 'Stable or Panic scaling mode.',
  lastScaleTime: 'When replicas were last changed.',
});
d(w.RatioStatus, 'The observed prefill/decode ratio.', {
  numeratorRole: 'Role above the line.',
  denominatorRole: 'Role below the line.',
  currentRatio: 'Current ratio, as a decimal string.',
});
d(w.DisaggregatedStatus, 'Scaling state of a disaggregated target.', {
  roles: 'Per-role state.',
  ratioStatus: 'The observed ratio.',
  ratioAdjusted: 'Whether the last recommendation was changed to honour the ratio constraint.',
});
d(w.ScalingMetricObservation, 'One metric value the autoscaler read (beyond upstream).', {
  name: 'Metric name as in spec.metrics.',
  value: 'Value read this cycle (summed over ready pods for pod metrics), as a decimal string.',
  targetValue: 'The target it was compared with.',
  source: 'Where it was read: pod (scraped from entry pods) or prometheus (an instant query).',
});
d(w.ScalingDecision, 'The last scaling decision for one target or role (beyond upstream).', {
  target: 'ModelServing name, or ModelServing/role for disaggregated targets.',
  time: 'When the decision was made.',
  currentReplicas: 'Replicas before the decision.',
  recommendedReplicas: 'What the metrics asked for, before stabilisation and rate limits.',
  desiredReplicas: 'What was written after panic/stable correction, bounds and ratio.',
  mode: 'Stable or Panic.',
  reason: 'Why: the deciding metric, or why the cycle was skipped.',
  metrics: 'The metric values seen.',
});
d(w.AutoscalingPolicyStatus, 'Observed state, written by the autoscaler.', {
  observedGeneration: 'The generation this status describes.',
  conditions: 'Ready and TargetFound (written for every target kind; upstream writes them for disaggregated only).',
  homogeneousStatus: 'Replicas and mode of the homogeneous target (declared but never written upstream).',
  heterogeneousStatus: 'Replicas per heterogeneous target (declared but never written upstream).',
  lastDecisions: 'The last decision per target or role, with the metric values behind it (beyond upstream).',
  disaggregatedStatus: 'Per-role replicas and the current ratio.',
});
