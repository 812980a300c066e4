// Pod and headless Service construction for one role instance, exactly as upstream lays them out (§2.2, §2.3).
import type { Container, EnvVar, Pod, Service } from 'kubernetes-types/core/v1.js';
import {
  ANNOTATION_GANG_GROUP,
  ANNOTATION_TASK_SPEC,
  ENV_ENTRY_ADDRESS,
  ENV_GROUP_SIZE,
  ENV_WORKER_INDEX,
  groupName,
  LABEL_ENTRY,
  LABEL_GROUP,
  LABEL_NAME,
  LABEL_REVISION,
  LABEL_ROLE,
  LABEL_ROLE_HASH,
  LABEL_ROLE_ID,
  podName,
  roleId,
  serviceName,
} from './naming.js';
import { ownerReference } from './revision.js';
import type { ModelServing, Role } from './types.js';

export interface PodCoordinates {
  /** ServingGroup ordinal */
  g: number;
  role: Role;
  /** role instance ordinal */
  r: number;
  /** 0 = entry, 1..workerReplicas = workers */
  k: number;
  revision: string;
  roleHash: string;
  /** add the Volcano gang annotations (a PodGroup is managed for this ModelServing) */
  gang: boolean;
}

export function groupSize(role: Role): number {
  return (role.workerReplicas ?? 0) + 1;
}

/** Replaces env vars of the same name and appends ours at the end, as upstream does. */
function injectEnv(containers: Container[] | undefined, vars: EnvVar[]): Container[] | undefined {
  if (!containers) return containers;
  const names = new Set(vars.map((v) => v.name));
  return containers.map((c) => ({ ...c, env: [...(c.env ?? []).filter((e) => !names.has(e.name)), ...vars] }));
}

export function buildPod(ms: ModelServing, at: PodCoordinates): Pod {
  const msName = ms.metadata.name;
  const ns = ms.metadata.namespace ?? 'default';
  const isEntry = at.k === 0;
  const template = isEntry ? at.role.entryTemplate : (at.role.workerTemplate ?? at.role.entryTemplate);
  const group = groupName(msName, at.g);
  const rid = roleId(at.role.name, at.r);
  const labels: Record<string, string> = {
    [LABEL_NAME]: msName,
    [LABEL_GROUP]: group,
    [LABEL_ROLE]: at.role.name,
    [LABEL_ROLE_ID]: rid,
    [LABEL_REVISION]: at.revision,
    [LABEL_ROLE_HASH]: at.roleHash,
  };
  if (isEntry) labels[LABEL_ENTRY] = 'true';
  Object.assign(labels, template.metadata?.labels ?? {});
  const annotations: Record<string, string> = { ...(template.metadata?.annotations ?? {}) };
  if (at.gang) {
    annotations[ANNOTATION_GANG_GROUP] = group;
    annotations[ANNOTATION_TASK_SPEC] = rid;
  }
  const env: EnvVar[] = [
    { name: ENV_GROUP_SIZE, value: String(groupSize(at.role)) },
    { name: ENV_ENTRY_ADDRESS, value: `${serviceName(msName, at.g, at.role.name, at.r)}.${ns}` },
    { name: ENV_WORKER_INDEX, value: String(at.k) },
  ];
  // Deep copy: the template belongs to the ModelServing object in the informer cache.
  const spec = structuredClone(template.spec ?? { containers: [] });
  spec.containers = injectEnv(spec.containers, env) ?? [];
  if (spec.initContainers) spec.initContainers = injectEnv(spec.initContainers, env);
  if (ms.spec.schedulerName !== undefined) spec.schedulerName = ms.spec.schedulerName;
  const meta: Pod['metadata'] = {
    name: podName(msName, at.g, at.role.name, at.r, at.k),
    namespace: ns,
    labels,
    ownerReferences: [ownerReference(ms)],
  };
  if (Object.keys(annotations).length > 0) meta.annotations = annotations;
  return { apiVersion: 'v1', kind: 'Pod', metadata: meta, spec };
}

/** The pods of one role instance, entry first. */
export function buildRoleInstancePods(ms: ModelServing, at: Omit<PodCoordinates, 'k'>): Pod[] {
  const pods: Pod[] = [];
  for (let k = 0; k < groupSize(at.role); k++) pods.push(buildPod(ms, { ...at, k }));
  return pods;
}

/** Roles with a workerTemplate (even with 0 workers) get one headless Service per instance, named like the entry pod. */
export function needsService(role: Role): boolean {
  return role.workerTemplate !== undefined && role.workerTemplate !== null;
}

export function buildHeadlessService(ms: ModelServing, g: number, role: string, r: number): Service {
  const msName = ms.metadata.name;
  const group = groupName(msName, g);
  const rid = roleId(role, r);
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: {
      name: serviceName(msName, g, role, r),
      namespace: ms.metadata.namespace ?? 'default',
      labels: { [LABEL_NAME]: msName, [LABEL_GROUP]: group, [LABEL_ROLE]: role, [LABEL_ROLE_ID]: rid },
      ownerReferences: [ownerReference(ms)],
    },
    spec: {
      clusterIP: 'None',
      publishNotReadyAddresses: true,
      selector: { [LABEL_GROUP]: group, [LABEL_ROLE]: role, [LABEL_ROLE_ID]: rid, [LABEL_ENTRY]: 'true' },
    },
  };
}
