// Names, label keys and annotation keys of everything the ModelServing controller creates.
// These are upstream's wire names: pods created by the Go controller and by ours are interchangeable.

export const API_VERSION = 'workload.serving.volcano.sh/v1alpha1';
export const KIND = 'ModelServing';

export const LABEL_NAME = 'modelserving.volcano.sh/name';
export const LABEL_GROUP = 'modelserving.volcano.sh/group-name';
export const LABEL_ROLE = 'modelserving.volcano.sh/role';
export const LABEL_ROLE_ID = 'modelserving.volcano.sh/role-id';
export const LABEL_REVISION = 'modelserving.volcano.sh/revision';
export const LABEL_ROLE_HASH = 'modelserving.volcano.sh/role-template-hash';
export const LABEL_ENTRY = 'modelserving.volcano.sh/entry';

export const ANNOTATION_GANG_GROUP = 'scheduling.k8s.io/group-name';
export const ANNOTATION_TASK_SPEC = 'volcano.sh/task-spec';
export const ANNOTATION_QUEUE = 'scheduling.volcano.sh/queue-name';
export const ANNOTATION_DELETION_COST = 'controller.kubernetes.io/pod-deletion-cost';
/** Why a revision was made; copied from the ModelServing onto its ControllerRevision (as Deployments do). */
export const ANNOTATION_CHANGE_CAUSE = 'kubernetes.io/change-cause';

export const ENV_GROUP_SIZE = 'GROUP_SIZE';
export const ENV_ENTRY_ADDRESS = 'ENTRY_ADDRESS';
export const ENV_WORKER_INDEX = 'WORKER_INDEX';

/** `<ms>-<g>`: a ServingGroup, and the name of its Volcano PodGroup. */
export function groupName(ms: string, g: number): string {
  return `${ms}-${g}`;
}

/** `<role>-<r>`: a role instance inside a group. */
export function roleId(role: string, r: number): string {
  return `${role}-${r}`;
}

/** `<ms>-<g>-<role>-<r>-<k>`; k = 0 is the entry pod, 1..workerReplicas the workers. */
export function podName(ms: string, g: number, role: string, r: number, k: number): string {
  return `${ms}-${g}-${role}-${r}-${k}`;
}

/** The headless Service of a role instance has the entry pod's name, so `<svc>.<ns>` reaches the entry pod. */
export function serviceName(ms: string, g: number, role: string, r: number): string {
  return podName(ms, g, role, r, 0);
}

export function controllerRevisionName(ms: string, revision: string): string {
  return `${ms}-${revision}`;
}

/** Upstream parses ordinals with `(.*)-([0-9]+)$`; a name without a trailing number has none. */
export function parseOrdinal(name: string): { parent: string; ordinal: number } | undefined {
  const m = /^(.*)-([0-9]+)$/.exec(name);
  if (!m) return undefined;
  const ordinal = Number(m[2]);
  if (!Number.isSafeInteger(ordinal)) return undefined;
  return { parent: m[1], ordinal };
}

/** The label selector published in status.labelSelector: one pod (the first role's first entry) per group. */
export function statusLabelSelector(ms: string, firstRole: string | undefined): string {
  const labels: Record<string, string> = { [LABEL_ENTRY]: 'true', [LABEL_NAME]: ms };
  if (firstRole !== undefined) {
    labels[LABEL_ROLE] = firstRole;
    labels[LABEL_ROLE_ID] = roleId(firstRole, 0);
  }
  return formatSelector(labels);
}

/** `k1=v1,k2=v2` with keys sorted, as labels.SelectorFromSet(...).String() prints it. */
export function formatSelector(labels: Record<string, string>): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}
