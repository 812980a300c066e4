// The Volcano PodGroup of a ServingGroup (§2.8): gang size, summed requests, queue, topology, sub-groups per role.
import {
  ANNOTATION_GANG_GROUP,
  ANNOTATION_QUEUE,
  groupName,
  LABEL_GROUP,
  LABEL_NAME,
  LABEL_ROLE,
  LABEL_ROLE_ID,
} from './naming.js';
import { groupSize } from './pods.js';
import { addQuantities, formatQuantity, type Milli, parseQuantity, scaleQuantity } from './quantity.js';
import { canonicalJson, ownerReference } from './revision.js';
import type { ModelServing, PodGroup, PodGroupSpec, PodTemplateSpec, Role } from './types.js';

export const PODGROUP_API_VERSION = 'scheduling.volcano.sh/v1beta1';

/** A PodGroup is managed only for the volcano scheduler and only when its CRD is served. */
export function usesPodGroup(ms: ModelServing, podGroupCrdServed: boolean): boolean {
  return podGroupCrdServed && ms.spec.schedulerName === 'volcano';
}

/** min(gangPolicy.minRoleReplicas[role] ?? role.replicas, role.replicas) */
export function minRoleReplicas(ms: ModelServing, role: Role): number {
  const replicas = role.replicas ?? 1;
  const wanted = ms.spec.template.gangPolicy?.minRoleReplicas?.[role.name];
  return Math.max(0, Math.min(wanted ?? replicas, replicas));
}

function templateRequests(t: PodTemplateSpec | undefined): Map<string, Milli> {
  const out = new Map<string, Milli>();
  for (const c of t?.spec?.containers ?? []) {
    for (const [name, q] of Object.entries(c.resources?.requests ?? {})) {
      const v = parseQuantity(q as string | number);
      const prev = out.get(name);
      out.set(name, prev ? addQuantities(prev, v) : v);
    }
  }
  return out;
}

export function podGroupSpec(ms: ModelServing, roles: Role[], subGroupPolicySupported: boolean): PodGroupSpec {
  let minMember = 0;
  const resources = new Map<string, Milli>();
  const add = (reqs: Map<string, Milli>, times: number) => {
    if (times <= 0) return;
    for (const [name, q] of reqs) {
      const prev = resources.get(name);
      const scaled = scaleQuantity(q, times);
      resources.set(name, prev ? addQuantities(prev, scaled) : scaled);
    }
  };
  for (const role of roles) {
    const min = minRoleReplicas(ms, role);
    const workers = role.workerReplicas ?? 0;
    minMember += (1 + workers) * min;
    add(templateRequests(role.entryTemplate), min);
    add(templateRequests(role.workerTemplate), workers * min);
  }
  const spec: PodGroupSpec = { minMember };
  if (resources.size > 0) {
    spec.minResources = {};
    for (const name of [...resources.keys()].sort()) spec.minResources[name] = formatQuantity(resources.get(name)!);
  }
  spec.queue = ms.metadata.annotations?.[ANNOTATION_QUEUE] ?? '';
  const topo = ms.spec.template.networkTopology;
  if (topo?.groupPolicy) spec.networkTopology = topo.groupPolicy;
  if (subGroupPolicySupported) {
    spec.subGroupPolicy = roles.map((role) => {
      const sub: NonNullable<PodGroupSpec['subGroupPolicy']>[number] = {
        name: role.name,
        labelSelector: { matchLabels: { [LABEL_NAME]: ms.metadata.name, [LABEL_ROLE]: role.name } },
        matchLabelKeys: [LABEL_ROLE_ID],
        subGroupSize: groupSize(role),
        minSubGroups: minRoleReplicas(ms, role),
      };
      if (topo?.rolePolicy) sub.networkTopology = topo.rolePolicy;
      return sub;
    });
  }
  return spec;
}

export function buildPodGroup(ms: ModelServing, g: number, roles: Role[], subGroupPolicySupported: boolean): PodGroup {
  const name = groupName(ms.metadata.name, g);
  return {
    apiVersion: PODGROUP_API_VERSION,
    kind: 'PodGroup',
    metadata: {
      name,
      namespace: ms.metadata.namespace ?? 'default',
      labels: { [LABEL_NAME]: ms.metadata.name, [LABEL_GROUP]: name },
      annotations: { [ANNOTATION_GANG_GROUP]: name },
      ownerReferences: [ownerReference(ms)],
    },
    spec: podGroupSpec(ms, roles, subGroupPolicySupported),
  };
}

/** Upstream updates when minMember, minResources, networkTopology, subGroupPolicy or queue differ. */
export function podGroupNeedsUpdate(existing: PodGroup, desired: PodGroup): boolean {
  const e = existing.spec ?? ({} as PodGroupSpec);
  const d = desired.spec;
  return (
    e.minMember !== d.minMember ||
    canonicalJson(e.minResources ?? {}) !== canonicalJson(d.minResources ?? {}) ||
    canonicalJson(e.networkTopology ?? null) !== canonicalJson(d.networkTopology ?? null) ||
    canonicalJson(e.subGroupPolicy ?? null) !== canonicalJson(d.subGroupPolicy ?? null) ||
    (e.queue ?? '') !== (d.queue ?? '')
  );
}

/** The PodGroup with our fields set on top of what the server holds (keeps resourceVersion, status, others' fields). */
export function mergePodGroup(existing: PodGroup, desired: PodGroup): PodGroup {
  const spec: PodGroupSpec = { ...existing.spec, ...desired.spec };
  if (!desired.spec.networkTopology) delete spec.networkTopology;
  if (!desired.spec.minResources) delete spec.minResources;
  if (!desired.spec.subGroupPolicy) delete spec.subGroupPolicy;
  return { ...existing, spec };
}
