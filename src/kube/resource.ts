// Resource references and URL construction for the Kubernetes REST API.
// A ResourceRef names one collection (group/version/plural); everything that builds URLs goes through
// resourcePath so the core-group special case (/api/v1 rather than /apis/<group>/<version>) lives in one place.
import type { ObjectMeta } from 'kubernetes-types/meta/v1.js';

export interface ResourceRef {
  group: string;
  version: string;
  plural: string;
  namespaced: boolean;
  kind: string;
}

/** The smallest shape every Kubernetes object has; kubernetes-types' Pod, Lease, … are assignable to it. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: ObjectMeta;
}

function ref(group: string, version: string, plural: string, kind: string, namespaced: boolean): ResourceRef {
  return Object.freeze({ group, version, plural, kind, namespaced });
}

// core/v1
export const PODS = ref('', 'v1', 'pods', 'Pod', true);
export const SERVICES = ref('', 'v1', 'services', 'Service', true);
export const ENDPOINTS = ref('', 'v1', 'endpoints', 'Endpoints', true);
export const SECRETS = ref('', 'v1', 'secrets', 'Secret', true);
export const CONFIGMAPS = ref('', 'v1', 'configmaps', 'ConfigMap', true);
export const EVENTS = ref('', 'v1', 'events', 'Event', true);
export const NODES = ref('', 'v1', 'nodes', 'Node', false);
export const NAMESPACES = ref('', 'v1', 'namespaces', 'Namespace', false);
export const SERVICE_ACCOUNTS = ref('', 'v1', 'serviceaccounts', 'ServiceAccount', true);
// other built-in groups
export const LEASES = ref('coordination.k8s.io', 'v1', 'leases', 'Lease', true);
export const CRDS = ref('apiextensions.k8s.io', 'v1', 'customresourcedefinitions', 'CustomResourceDefinition', false);
export const CONTROLLER_REVISIONS = ref('apps', 'v1', 'controllerrevisions', 'ControllerRevision', true);
export const DEPLOYMENTS = ref('apps', 'v1', 'deployments', 'Deployment', true);
export const ENDPOINT_SLICES = ref('discovery.k8s.io', 'v1', 'endpointslices', 'EndpointSlice', true);
// Volcano
export const PODGROUPS = ref('scheduling.volcano.sh', 'v1beta1', 'podgroups', 'PodGroup', true);
export const HYPERNODES = ref('topology.volcano.sh', 'v1alpha1', 'hypernodes', 'HyperNode', false);
// Kthena
export const MODEL_ROUTES = ref('networking.serving.volcano.sh', 'v1alpha1', 'modelroutes', 'ModelRoute', true);
export const MODEL_SERVERS = ref('networking.serving.volcano.sh', 'v1alpha1', 'modelservers', 'ModelServer', true);
export const EXTERNAL_MODEL_PROVIDERS = ref(
  'networking.serving.volcano.sh',
  'v1alpha1',
  'externalmodelproviders',
  'ExternalModelProvider',
  true,
);
export const MODEL_SERVINGS = ref('workload.serving.volcano.sh', 'v1alpha1', 'modelservings', 'ModelServing', true);
export const MODEL_BOOSTERS = ref('workload.serving.volcano.sh', 'v1alpha1', 'modelboosters', 'ModelBooster', true);
export const AUTOSCALING_POLICIES = ref(
  'workload.serving.volcano.sh',
  'v1alpha1',
  'autoscalingpolicies',
  'AutoscalingPolicy',
  true,
);

/** `v1` for the core group, `<group>/<version>` otherwise — the value of an object's `apiVersion`. */
export function apiVersionOf(r: ResourceRef): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/**
 * The REST path of a collection, an object or an object's subresource.
 * A namespaced resource without a namespace yields the all-namespaces collection (valid for list/watch only).
 */
export function resourcePath(r: ResourceRef, namespace?: string, name?: string, subresource?: string): string {
  let p = r.group === '' ? `/api/${r.version}` : `/apis/${r.group}/${r.version}`;
  if (r.namespaced && namespace) p += `/namespaces/${encodeURIComponent(namespace)}`;
  p += `/${r.plural}`;
  if (name !== undefined) {
    if (name === '') throw new Error(`resourcePath: empty name for ${r.plural}`);
    p += `/${encodeURIComponent(name)}`;
    if (subresource) p += `/${subresource}`;
  } else if (subresource) {
    throw new Error(`resourcePath: subresource "${subresource}" needs an object name`);
  }
  return p;
}

/** Cache key of an object: `namespace/name`, or `name` for cluster-scoped objects (client-go's MetaNamespaceKeyFunc). */
export function objectKey(o: KubeObject): string {
  const ns = o.metadata?.namespace;
  const name = o.metadata?.name ?? '';
  return ns ? `${ns}/${name}` : name;
}

export function keyOf(namespace: string | undefined, name: string): string {
  return namespace ? `${namespace}/${name}` : name;
}
