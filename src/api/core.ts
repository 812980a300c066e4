// The core/v1 types our kinds embed (PodTemplateSpec and what it contains). Fields that matter to Kthena are
// modelled one by one and validated; large families we never interpret (volume sources, probes' internals,
// security contexts, affinity terms) are objects that keep unknown fields, as Kubernetes itself would.
import { LabelSelector, SecretKeySelector } from './meta.js';
import {
  Bool,
  Enum,
  Int32,
  Int64,
  IntOrString,
  kubeType,
  MapOf,
  Opaque,
  Quantity,
  type Static,
  Str,
  StringMap,
  Type,
} from './schema-helpers.js';

const Optional = Type.Optional;

export const ObjectFieldSelector = Type.Object({ apiVersion: Optional(Str()), fieldPath: Str() });
export const ResourceFieldSelector = Type.Object({
  containerName: Optional(Str()),
  resource: Str(),
  divisor: Optional(Quantity()),
});
export const ConfigMapKeySelector = Type.Object({ name: Optional(Str()), key: Str(), optional: Optional(Bool()) });

export const EnvVarSource = Type.Object({
  fieldRef: Optional(ObjectFieldSelector),
  resourceFieldRef: Optional(ResourceFieldSelector),
  configMapKeyRef: Optional(ConfigMapKeySelector),
  secretKeyRef: Optional(SecretKeySelector),
});

export const EnvVar = kubeType(
  'core/v1 EnvVar',
  Type.Object({
    name: Str({ minLength: 1 }),
    value: Optional(Str()),
    valueFrom: Optional(EnvVarSource),
  }),
);
export type EnvVar = Static<typeof EnvVar>;

const NamedOptionalRef = Type.Object({ name: Optional(Str()), optional: Optional(Bool()) });
export const EnvFromSource = kubeType(
  'core/v1 EnvFromSource',
  Type.Object({
    prefix: Optional(Str()),
    configMapRef: Optional(NamedOptionalRef),
    secretRef: Optional(NamedOptionalRef),
  }),
);
export type EnvFromSource = Static<typeof EnvFromSource>;

export const ResourceRequirements = kubeType(
  'core/v1 ResourceRequirements',
  Type.Object({
    limits: Optional(MapOf(Quantity())),
    requests: Optional(MapOf(Quantity())),
    claims: Optional(
      Type.Array(Type.Object({ name: Str(), request: Optional(Str()) }), {
        'x-kubernetes-list-type': 'map',
        'x-kubernetes-list-map-keys': ['name'],
      }),
    ),
  }),
);
export type ResourceRequirements = Static<typeof ResourceRequirements>;

export const ContainerPort = Type.Object({
  name: Optional(Str({ maxLength: 15 })),
  containerPort: Int32({ minimum: 1, maximum: 65535 }),
  hostPort: Optional(Int32({ minimum: 0, maximum: 65535 })),
  protocol: Optional(Enum(['TCP', 'UDP', 'SCTP'] as const, { default: 'TCP' })),
  hostIP: Optional(Str()),
});
export type ContainerPort = Static<typeof ContainerPort>;

export const VolumeMount = Type.Object({
  name: Str(),
  mountPath: Str(),
  readOnly: Optional(Bool()),
  recursiveReadOnly: Optional(Str()),
  subPath: Optional(Str()),
  subPathExpr: Optional(Str()),
  mountPropagation: Optional(Str()),
});
export type VolumeMount = Static<typeof VolumeMount>;

export const HTTPGetAction = Type.Object({
  path: Optional(Str()),
  port: IntOrString(),
  host: Optional(Str()),
  scheme: Optional(Enum(['HTTP', 'HTTPS'] as const)),
  httpHeaders: Optional(Type.Array(Type.Object({ name: Str(), value: Str() }))),
});

export const Probe = Type.Object({
  exec: Optional(Type.Object({ command: Optional(Type.Array(Str())) })),
  httpGet: Optional(HTTPGetAction),
  tcpSocket: Optional(Type.Object({ port: IntOrString(), host: Optional(Str()) })),
  grpc: Optional(Type.Object({ port: Int32({ minimum: 1, maximum: 65535 }), service: Optional(Str()) })),
  initialDelaySeconds: Optional(Int32({ minimum: 0 })),
  timeoutSeconds: Optional(Int32({ minimum: 0 })),
  periodSeconds: Optional(Int32({ minimum: 0 })),
  successThreshold: Optional(Int32({ minimum: 0 })),
  failureThreshold: Optional(Int32({ minimum: 0 })),
  terminationGracePeriodSeconds: Optional(Int64()),
});
export type Probe = Static<typeof Probe>;

export const Container = Type.Object({
  name: Str({ minLength: 1 }),
  image: Optional(Str()),
  command: Optional(Type.Array(Str())),
  args: Optional(Type.Array(Str())),
  workingDir: Optional(Str()),
  ports: Optional(
    Type.Array(ContainerPort, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['containerPort', 'protocol'],
    }),
  ),
  envFrom: Optional(Type.Array(EnvFromSource)),
  env: Optional(Type.Array(EnvVar, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] })),
  resources: Optional(ResourceRequirements),
  resizePolicy: Optional(Type.Array(Opaque())),
  restartPolicy: Optional(Str()),
  volumeMounts: Optional(
    Type.Array(VolumeMount, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['mountPath'] }),
  ),
  volumeDevices: Optional(Type.Array(Opaque())),
  livenessProbe: Optional(Probe),
  readinessProbe: Optional(Probe),
  startupProbe: Optional(Probe),
  lifecycle: Optional(Opaque()),
  terminationMessagePath: Optional(Str()),
  terminationMessagePolicy: Optional(Enum(['File', 'FallbackToLogsOnError'] as const)),
  imagePullPolicy: Optional(Enum(['Always', 'Never', 'IfNotPresent'] as const)),
  securityContext: Optional(Opaque()),
  stdin: Optional(Bool()),
  stdinOnce: Optional(Bool()),
  tty: Optional(Bool()),
});
export type Container = Static<typeof Container>;

export const Toleration = kubeType(
  'core/v1 Toleration',
  Type.Object({
    key: Optional(Str()),
    operator: Optional(Enum(['Exists', 'Equal'] as const)),
    value: Optional(Str()),
    effect: Optional(Enum(['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const)),
    tolerationSeconds: Optional(Int64()),
  }),
);
export type Toleration = Static<typeof Toleration>;

/** core/v1 Affinity; the terms themselves are kept as written (the scheduler reads them, we do not). */
export const Affinity = kubeType(
  'core/v1 Affinity',
  Type.Object({
    nodeAffinity: Optional(Opaque()),
    podAffinity: Optional(Opaque()),
    podAntiAffinity: Optional(Opaque()),
  }),
);
export type Affinity = Static<typeof Affinity>;

/** core/v1 Volume: the common sources are checked, any other source is kept as written. */
export const Volume = Type.Object(
  {
    name: Str({ minLength: 1 }),
    emptyDir: Optional(Type.Object({ medium: Optional(Str()), sizeLimit: Optional(Quantity()) })),
    hostPath: Optional(Type.Object({ path: Str(), type: Optional(Str()) })),
    persistentVolumeClaim: Optional(Type.Object({ claimName: Str(), readOnly: Optional(Bool()) })),
    configMap: Optional(Opaque()),
    secret: Optional(Opaque()),
  },
  { 'x-kubernetes-preserve-unknown-fields': true },
);
export type Volume = Static<typeof Volume>;

export const TopologySpreadConstraint = Type.Object({
  maxSkew: Int32({ minimum: 1 }),
  topologyKey: Str(),
  whenUnsatisfiable: Enum(['DoNotSchedule', 'ScheduleAnyway'] as const),
  labelSelector: Optional(LabelSelector),
  minDomains: Optional(Int32()),
  nodeAffinityPolicy: Optional(Str()),
  nodeTaintsPolicy: Optional(Str()),
  matchLabelKeys: Optional(Type.Array(Str())),
});

const listMapByName = { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] };

export const PodSpec = Type.Object({
  containers: Type.Array(Container, listMapByName),
  initContainers: Optional(Type.Array(Container, listMapByName)),
  ephemeralContainers: Optional(Type.Array(Opaque())),
  volumes: Optional(Type.Array(Volume, listMapByName)),
  nodeSelector: Optional(StringMap()),
  nodeName: Optional(Str()),
  affinity: Optional(Affinity),
  tolerations: Optional(Type.Array(Toleration)),
  schedulerName: Optional(Str()),
  schedulingGates: Optional(Type.Array(Type.Object({ name: Str() }))),
  serviceAccountName: Optional(Str()),
  serviceAccount: Optional(Str()),
  automountServiceAccountToken: Optional(Bool()),
  restartPolicy: Optional(Enum(['Always', 'OnFailure', 'Never'] as const)),
  terminationGracePeriodSeconds: Optional(Int64({ minimum: 0 })),
  activeDeadlineSeconds: Optional(Int64({ minimum: 1 })),
  dnsPolicy: Optional(Enum(['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'] as const)),
  dnsConfig: Optional(Opaque()),
  hostNetwork: Optional(Bool()),
  hostPID: Optional(Bool()),
  hostIPC: Optional(Bool()),
  hostUsers: Optional(Bool()),
  shareProcessNamespace: Optional(Bool()),
  securityContext: Optional(Opaque()),
  imagePullSecrets: Optional(Type.Array(Type.Object({ name: Optional(Str()) }))),
  hostname: Optional(Str()),
  subdomain: Optional(Str()),
  setHostnameAsFQDN: Optional(Bool()),
  hostAliases: Optional(Type.Array(Opaque())),
  priorityClassName: Optional(Str()),
  priority: Optional(Int32()),
  preemptionPolicy: Optional(Str()),
  runtimeClassName: Optional(Str()),
  enableServiceLinks: Optional(Bool()),
  topologySpreadConstraints: Optional(Type.Array(TopologySpreadConstraint)),
  overhead: Optional(MapOf(Quantity())),
  readinessGates: Optional(Type.Array(Type.Object({ conditionType: Str() }))),
  os: Optional(Type.Object({ name: Str() })),
  resourceClaims: Optional(Type.Array(Opaque())),
  resources: Optional(ResourceRequirements),
});
export type PodSpec = Static<typeof PodSpec>;

/** The metadata a pod template may carry. */
export const TemplateMeta = Type.Object({
  name: Optional(Str()),
  namespace: Optional(Str()),
  labels: Optional(StringMap()),
  annotations: Optional(StringMap()),
  finalizers: Optional(Type.Array(Str())),
});

export const PodTemplateSpec = kubeType(
  'core/v1 PodTemplateSpec',
  Type.Object({
    metadata: Optional(TemplateMeta),
    spec: Optional(PodSpec),
  }),
);
export type PodTemplateSpec = Static<typeof PodTemplateSpec>;
