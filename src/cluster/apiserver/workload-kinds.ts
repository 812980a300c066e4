// The apps/v1 workload kinds (Deployment, ReplicaSet), the RBAC kinds and the admission webhook configurations
// served by the local API server, so other people's install bundles apply as they are. Deployments and
// ReplicaSets are kept by the workload controller (workloads.ts); RBAC objects and webhook configurations are
// stored and served but not enforced: this API server authorizes every request and calls no webhooks.
import { cause, type StatusCause } from './errors.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import * as tables from './tables.js';
import type { ResourceType, Strategy } from './types.js';
import { isObject, type Obj } from './util.js';

/** The shape builtins.ts turns into a ResourceType. */
export interface KindDef {
  group?: string;
  plural: string;
  kind: string;
  namespaced?: boolean;
  shortNames?: string[];
  categories?: string[];
  status?: boolean;
  strategy?: Partial<Strategy>;
  scale?: ResourceType['scale'];
}

const SCALE = {
  specReplicasPath: '.spec.replicas',
  statusReplicasPath: '.status.replicas',
  labelSelectorPath: '.status.selector',
};

/** apps/v1 refuses a selector that does not select the pod template's labels (it would orphan every pod). */
export function validateWorkload(o: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const sel = o.spec?.selector;
  if (!isObject(sel)) return [cause.required('spec.selector', '')];
  const replicas = o.spec?.replicas;
  if (replicas !== undefined && (!Number.isInteger(replicas) || replicas < 0))
    out.push(cause.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'));
  const labels = o.spec?.template?.metadata?.labels;
  let ok = false;
  try {
    const parsed = fromLabelSelectorObject(sel);
    ok =
      Object.keys(sel.matchLabels ?? {}).length + (sel.matchExpressions ?? []).length > 0 &&
      matchLabels(parsed, labels);
  } catch (e) {
    out.push(cause.invalid('spec.selector', sel, (e as Error).message));
    return out;
  }
  if (!ok)
    out.push(
      cause.invalid('spec.template.metadata.labels', labels ?? {}, '`selector` does not match template `labels`'),
    );
  if (!Array.isArray(o.spec?.template?.spec?.containers) || o.spec.template.spec.containers.length === 0)
    out.push(cause.required('spec.template.spec.containers', ''));
  return out;
}

function workloadStrategy(table: Strategy['table']): Partial<Strategy> {
  return {
    tracksGeneration: true,
    topLevel: ['spec', 'status'],
    prepareCreate(o) {
      o.spec ??= {};
      o.spec.replicas ??= 1;
      o.spec.revisionHistoryLimit ??= 10;
      o.spec.template ??= {};
      o.spec.template.metadata ??= {};
    },
    prepareUpdate(o) {
      if (o.spec && o.spec.replicas === undefined) o.spec.replicas = 1;
    },
    validate: (o) => validateWorkload(o),
    table,
  };
}

export const WORKLOAD_KINDS: KindDef[] = [
  {
    group: 'apps',
    plural: 'deployments',
    kind: 'Deployment',
    shortNames: ['deploy'],
    categories: ['all'],
    status: true,
    scale: SCALE,
    strategy: workloadStrategy(tables.deploymentTable),
  },
  {
    group: 'apps',
    plural: 'replicasets',
    kind: 'ReplicaSet',
    shortNames: ['rs'],
    categories: ['all'],
    status: true,
    scale: SCALE,
    strategy: workloadStrategy(tables.replicaSetTable),
  },
];

const RBAC = 'rbac.authorization.k8s.io';
const rulesKind = { topLevel: ['rules', 'aggregationRule'] };
const bindingKind = { topLevel: ['subjects', 'roleRef'] };

export const RBAC_KINDS: KindDef[] = [
  { group: RBAC, plural: 'clusterroles', kind: 'ClusterRole', namespaced: false, strategy: rulesKind },
  { group: RBAC, plural: 'clusterrolebindings', kind: 'ClusterRoleBinding', namespaced: false, strategy: bindingKind },
  { group: RBAC, plural: 'roles', kind: 'Role', strategy: rulesKind },
  { group: RBAC, plural: 'rolebindings', kind: 'RoleBinding', strategy: bindingKind },
];

const ADMISSION = 'admissionregistration.k8s.io';
const webhooksKind = { topLevel: ['webhooks'] };

export const WEBHOOK_CONFIGURATION_KINDS: KindDef[] = [
  {
    group: ADMISSION,
    plural: 'validatingwebhookconfigurations',
    kind: 'ValidatingWebhookConfiguration',
    namespaced: false,
    strategy: webhooksKind,
  },
  {
    group: ADMISSION,
    plural: 'mutatingwebhookconfigurations',
    kind: 'MutatingWebhookConfiguration',
    namespaced: false,
    strategy: webhooksKind,
  },
];
