// ModelServing status (§2.11): counts, revisions, label selector, conditions — plus, beyond upstream,
// per-group and per-role-instance status saying which role of which group is not ready and why.

import { statusLabelSelector } from './naming.js';
import type { GroupView, InstanceView } from './observe.js';
import type { Condition, ModelServing, ModelServingStatus, RoleInstanceStatus, ServingGroupStatus } from './types.js';

export interface RestartRecord {
  restarts: number;
  lastRestartTime?: string;
}

export interface StatusInput {
  ms: ModelServing;
  /** observed groups, with the phases this reconcile decided (deleted ones are Deleting) */
  groups: GroupView[];
  updateRevision: string;
  /** ModelServing-level partition (already resolved to a count) */
  partition: number;
  now: number;
  restarts: ReadonlyMap<string, RestartRecord>;
  /** groups with a restart record to keep even though they have no pods right now (being recreated) */
  groupNamesToKeep?: ReadonlySet<string>;
}

export const CONDITION_AVAILABLE = 'Available';
export const CONDITION_PROGRESSING = 'Progressing';
export const CONDITION_UPDATE_IN_PROGRESS = 'UpdateInProgress';

/** Sets a condition; like upstream, an existing condition is rewritten only when its status changes. */
export function setCondition(
  conditions: Condition[],
  type: string,
  status: Condition['status'],
  reason: string,
  message: string,
  now: number,
  generation?: number,
): Condition[] {
  const i = conditions.findIndex((c) => c.type === type);
  if (i >= 0 && conditions[i].status === status) return conditions;
  const c: Condition = { type, status, reason, message, lastTransitionTime: new Date(now).toISOString() };
  if (generation !== undefined) c.observedGeneration = generation;
  const out = [...conditions];
  if (i >= 0) out[i] = c;
  else out.push(c);
  return out;
}

/** Flips an existing True condition to False; a missing one stays missing. */
function clearCondition(conditions: Condition[], type: string, now: number, generation?: number): Condition[] {
  const c = conditions.find((x) => x.type === type);
  if (c?.status !== 'True') return conditions;
  return setCondition(conditions, type, 'False', c.reason, c.message, now, generation);
}

function goList(xs: number[]): string {
  return `[${xs.join(' ')}]`;
}

function instanceStatus(inst: InstanceView): RoleInstanceStatus {
  const live = inst.pods.filter((p) => !p.terminating);
  const s: RoleInstanceStatus = {
    name: inst.roleId,
    role: inst.roleName,
    phase: inst.phase,
    readyPods: live.filter((p) => p.ready).length,
    pods: live.length,
    revision: inst.revision,
  };
  if (inst.phase !== 'Running') {
    const missing: number[] = [];
    for (let k = 0; k < inst.expectedPods; k++) if (!live.some((p) => p.k === k)) missing.push(k);
    const bad = live.find((p) => !p.ready);
    if (inst.phase === 'Deleting') s.reason = 'being deleted';
    else if (bad) s.reason = `pod ${bad.name}: ${bad.notReadyReason ?? 'not ready'}`;
    else if (missing.length > 0)
      s.reason = `pods not created yet: ${missing.map((k) => `${inst.roleId}-${k}`).join(', ')}`;
  }
  return s;
}

export function computeStatus(input: StatusInput): ModelServingStatus {
  const { ms, groups, updateRevision, now } = input;
  const prev = ms.status ?? {};
  const generation = ms.metadata.generation;
  const labelSelector = statusLabelSelector(ms.metadata.name, ms.spec.template.roles[0]?.name);
  let conditions = [...(prev.conditions ?? [])];

  const servingGroups: ServingGroupStatus[] = groups.map((gr) => {
    const s: ServingGroupStatus = {
      name: gr.name,
      phase: gr.phase,
      revision: gr.revision,
      roles: [...gr.roles.values()]
        .flat()
        .sort((a, b) => (a.roleName === b.roleName ? a.r - b.r : a.roleName < b.roleName ? -1 : 1))
        .map(instanceStatus),
    };
    const rec = input.restarts.get(gr.name);
    if (rec?.restarts) {
      s.restarts = rec.restarts;
      if (rec.lastRestartTime) s.lastRestartTime = rec.lastRestartTime;
    }
    return s;
  });
  // A group being recreated has no pods yet, but its restart count must survive for the back-off.
  for (const name of input.groupNamesToKeep ?? []) {
    if (servingGroups.some((g) => g.name === name)) continue;
    const rec = input.restarts.get(name);
    if (!rec?.restarts) continue;
    servingGroups.push({
      name,
      phase: 'Creating',
      revision: updateRevision,
      restarts: rec.restarts,
      lastRestartTime: rec.lastRestartTime,
      roles: [],
    });
  }

  if (groups.length === 0) {
    return {
      ...prev,
      observedGeneration: generation,
      replicas: 0,
      currentReplicas: 0,
      updatedReplicas: 0,
      availableReplicas: 0,
      currentRevision: updateRevision,
      updateRevision,
      labelSelector,
      conditions: prev.conditions,
      servingGroups: servingGroups.length > 0 ? servingGroups : undefined,
    };
  }

  let available = 0;
  let updated = 0;
  let current = 0;
  const progressing: number[] = [];
  const updatedIdx: number[] = [];
  const currentRevisionCounts = new Map<string, number>();
  groups.forEach((gr, i) => {
    if (gr.phase === 'Deleting') {
      progressing.push(i);
      return;
    }
    if (gr.phase === 'Running') available++;
    else progressing.push(i);
    if (gr.revision === updateRevision) {
      updated++;
      updatedIdx.push(i);
    } else {
      current++;
      currentRevisionCounts.set(gr.revision, (currentRevisionCounts.get(gr.revision) ?? 0) + 1);
    }
  });

  let currentRevision: string;
  if (current === 0) currentRevision = updateRevision;
  else if (prev.currentRevision && currentRevisionCounts.has(prev.currentRevision))
    currentRevision = prev.currentRevision;
  else {
    currentRevision = [...currentRevisionCounts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))[0][0];
  }

  const replicas = groups.length;
  const partitionSet = ms.spec.rolloutStrategy?.rollingUpdateConfiguration?.partition !== undefined;
  let currentReplicas = current;
  if (!partitionSet && updated === available && available === replicas && replicas === (ms.spec.replicas ?? 1))
    currentReplicas = updated;

  if (progressing.length === 0) {
    conditions = setCondition(
      conditions,
      CONDITION_AVAILABLE,
      'True',
      'AllGroupsReady',
      'All Serving groups are ready',
      now,
      generation,
    );
    conditions = clearCondition(conditions, CONDITION_PROGRESSING, now, generation);
    conditions = clearCondition(conditions, CONDITION_UPDATE_IN_PROGRESS, now, generation);
  } else if (current > input.partition) {
    conditions = setCondition(
      conditions,
      CONDITION_UPDATE_IN_PROGRESS,
      'True',
      'GroupsUpdating',
      `Some groups is progressing: ${goList(progressing)}, Updated Groups are: ${goList(updatedIdx)}`,
      now,
      generation,
    );
    conditions = clearCondition(conditions, CONDITION_AVAILABLE, now, generation);
  } else {
    conditions = setCondition(
      conditions,
      CONDITION_PROGRESSING,
      'True',
      'GroupProgressing',
      `Some groups is progressing: ${goList(progressing)}`,
      now,
      generation,
    );
    conditions = clearCondition(conditions, CONDITION_AVAILABLE, now, generation);
  }

  return {
    ...prev,
    observedGeneration: generation,
    replicas,
    currentReplicas,
    updatedReplicas: updated,
    availableReplicas: available,
    currentRevision,
    updateRevision,
    labelSelector,
    conditions,
    servingGroups,
  };
}

/** Status equality that ignores key order, so an idle cluster causes no status writes. */
export function statusEqual(a: ModelServingStatus | undefined, b: ModelServingStatus | undefined): boolean {
  return stable(a ?? {}) === stable(b ?? {});
}

function stable(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(stable).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${stable(o[k])}`)
    .join(',')}}`;
}
