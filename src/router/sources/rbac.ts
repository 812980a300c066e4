// The Kubernetes permissions the router's Kubernetes source needs (kubernetes.ts: informers, status patches, the
// status Lease). deploy/router/rbac.yaml must grant exactly these; test/e2e/router-deploy.test.ts checks it.

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

const NETWORKING = 'networking.serving.volcano.sh';

/** Cluster-wide (or per watched namespace with --namespace). */
export const ROUTER_RBAC_RULES: readonly PolicyRule[] = [
  {
    apiGroups: [NETWORKING],
    resources: ['modelroutes', 'modelservers', 'externalmodelproviders'],
    verbs: ['list', 'watch'],
  },
  {
    apiGroups: [NETWORKING],
    resources: ['modelroutes/status', 'modelservers/status', 'externalmodelproviders/status'],
    verbs: ['patch'],
  },
  // Scale from zero: the demand annotation on a ModelServer with requests waiting (policy/scale-from-zero.ts).
  { apiGroups: [NETWORKING], resources: ['modelservers'], verbs: ['patch'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch'] },
  // ExternalModelProvider credentials (labelled Secrets; RBAC cannot restrict by label).
  { apiGroups: [''], resources: ['secrets'], verbs: ['list', 'watch'] },
];

/** In the router's own namespace: the Lease `kthena-router` that picks the one replica writing status. */
export const ROUTER_LEADER_ELECTION_RULES: readonly PolicyRule[] = [
  { apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] },
];
