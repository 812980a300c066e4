// Rebuilds ServingGroups and role instances from the pods in the cluster. Upstream keeps this in an in-memory
// datastore that a restart has to replay; here it is recomputed on every reconcile from the informer cache,
// so there is nothing a restart can lose.
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  ANNOTATION_DELETION_COST,
  LABEL_GROUP,
  LABEL_NAME,
  LABEL_REVISION,
  LABEL_ROLE,
  LABEL_ROLE_HASH,
  LABEL_ROLE_ID,
  parseOrdinal,
} from './naming.js';
import type { GroupPhase, InstancePhase, ModelServing, Role } from './types.js';

export interface PodView {
  pod: Pod;
  name: string;
  uid: string;
  g: number;
  group: string;
  roleName: string;
  roleId: string;
  r: number;
  k: number;
  isEntry: boolean;
  revision: string;
  roleHash: string;
  ready: boolean;
  /** Failed phase, or a container restarted and the pod is not ready (upstream's "error pod"). */
  failed: boolean;
  /** When the failure began (ms since epoch), for restartGracePeriodSeconds. */
  failedSince?: number;
  terminating: boolean;
  deletionCost: number;
  /** Why the pod is not ready, for role-level status. */
  notReadyReason?: string;
}

export interface InstanceView {
  roleName: string;
  roleId: string;
  r: number;
  /** sorted by k */
  pods: PodView[];
  revision: string;
  roleHash: string;
  /** 1 + workerReplicas of the role template the instance was made from */
  expectedPods: number;
  phase: InstancePhase;
}

export interface GroupView {
  name: string;
  g: number;
  pods: PodView[];
  /** role name → instances sorted by ordinal */
  roles: Map<string, InstanceView[]>;
  revision: string;
  phase: GroupPhase;
  deletionCost: number;
}

export function isPodReady(pod: Pod): boolean {
  return (
    pod.status?.phase === 'Running' &&
    (pod.status.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True')
  );
}

function parseTime(s: string | undefined): number | undefined {
  if (!s) return undefined;
  const t = Date.parse(s);
  return Number.isNaN(t) ? undefined : t;
}

/** Upstream's error pod: phase Failed, or any container restarted while Running or Pending (and not ready). */
export function podFailure(pod: Pod): { failed: boolean; since?: number; reason?: string } {
  if (isPodReady(pod)) return { failed: false };
  const phase = pod.status?.phase;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  const restarted = statuses.filter((s) => (s.restartCount ?? 0) > 0);
  const failed = phase === 'Failed' || ((phase === 'Running' || phase === 'Pending') && restarted.length > 0);
  if (!failed) return { failed: false };
  // The failure began when the pod stopped being ready or a container last terminated, whichever is later.
  let since: number | undefined;
  const consider = (t: number | undefined) => {
    if (t !== undefined && (since === undefined || t > since)) since = t;
  };
  for (const c of pod.status?.conditions ?? []) if (c.type === 'Ready') consider(parseTime(c.lastTransitionTime));
  for (const s of statuses) {
    consider(parseTime(s.state?.terminated?.finishedAt));
    consider(parseTime(s.lastState?.terminated?.finishedAt));
  }
  since ??= parseTime(pod.metadata?.creationTimestamp);
  const waiting = statuses.find((s) => s.state?.waiting?.reason)?.state?.waiting?.reason;
  const reason =
    phase === 'Failed'
      ? `Failed${pod.status?.reason ? ` (${pod.status.reason})` : ''}`
      : `restarted ${Math.max(...restarted.map((s) => s.restartCount ?? 0))}×${waiting ? ` (${waiting})` : ''}`;
  return { failed: true, since, reason };
}

function notReadyReason(pod: Pod): string {
  const phase = pod.status?.phase ?? 'Pending';
  if (phase === 'Pending') {
    const sched = (pod.status?.conditions ?? []).find((c) => c.type === 'PodScheduled' && c.status === 'False');
    if (sched) return `Unschedulable${sched.message ? `: ${sched.message}` : ''}`;
    const waiting = (pod.status?.containerStatuses ?? []).find((s) => s.state?.waiting)?.state?.waiting;
    return waiting?.reason ? `Pending (${waiting.reason})` : 'Pending';
  }
  const ready = (pod.status?.conditions ?? []).find((c) => c.type === 'Ready');
  return ready?.reason ? `${phase}, not ready (${ready.reason})` : `${phase}, not ready`;
}

function deletionCost(pod: Pod): number {
  const v = pod.metadata?.annotations?.[ANNOTATION_DELETION_COST];
  if (v === undefined || !/^-?[0-9]+$/.test(v.trim())) return 0;
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : 0;
}

/** Is this pod one of ours: our name label and, when we know our UID, our controller ownerRef. */
export function ownedBy(ms: ModelServing, pod: { metadata?: Pod['metadata'] }): boolean {
  if (pod.metadata?.labels?.[LABEL_NAME] !== ms.metadata.name) return false;
  const uid = ms.metadata.uid;
  if (!uid) return true;
  return (pod.metadata.ownerReferences ?? []).some((o) => o.uid === uid && o.controller === true);
}

/** Parses a pod's coordinates from its labels and name; undefined for pods that do not follow the scheme. */
export function viewPod(ms: ModelServing, pod: Pod): PodView | undefined {
  const labels = pod.metadata?.labels ?? {};
  const name = pod.metadata?.name ?? '';
  const group = labels[LABEL_GROUP];
  const roleName = labels[LABEL_ROLE];
  const rid = labels[LABEL_ROLE_ID];
  if (!group || !roleName || !rid) return undefined;
  const go = parseOrdinal(group);
  const ro = parseOrdinal(rid);
  const po = parseOrdinal(name);
  if (!go || go.parent !== ms.metadata.name || !ro || ro.parent !== roleName || !po) return undefined;
  if (po.parent !== `${group}-${rid}`) return undefined;
  const ready = isPodReady(pod);
  const failure = podFailure(pod);
  return {
    pod,
    name,
    uid: pod.metadata?.uid ?? '',
    g: go.ordinal,
    group,
    roleName,
    roleId: rid,
    r: ro.ordinal,
    k: po.ordinal,
    isEntry: po.ordinal === 0,
    revision: labels[LABEL_REVISION] ?? '',
    roleHash: labels[LABEL_ROLE_HASH] ?? '',
    ready,
    failed: failure.failed,
    failedSince: failure.since,
    terminating: !!pod.metadata?.deletionTimestamp,
    deletionCost: deletionCost(pod),
    notReadyReason: ready ? undefined : (failure.reason ?? notReadyReason(pod)),
  };
}

export interface ObserveContext {
  ms: ModelServing;
  updateRevision: string;
  /** role name → template hash of the current spec; an instance is up to date when its hash matches */
  currentRoleHashes: ReadonlyMap<string, string>;
  /** The roles a revision was made from (ControllerRevisions + the current spec). */
  rolesOf(revision: string): Role[] | undefined;
}

function mostCommon(values: string[]): string {
  const counts = new Map<string, number>();
  for (const v of values) counts.set(v, (counts.get(v) ?? 0) + 1);
  let best = '';
  let bestN = -1;
  for (const [v, n] of [...counts].sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
    if (n > bestN) {
      best = v;
      bestN = n;
    }
  }
  return best;
}

function livePods(pods: PodView[]): PodView[] {
  const live = pods.filter((p) => !p.terminating);
  return live.length > 0 ? live : pods;
}

/** The revision label most live pods of an instance carry. */
function instanceRevision(pods: PodView[]): string {
  return mostCommon(livePods(pods).map((p) => p.revision));
}

/**
 * A group is up to date when every live pod has the current template hash of its role: under RoleRollingUpdate
 * the roles that did not change keep their pods (and their old revision label) yet count as updated, as upstream's
 * datastore does once no role is outdated. Otherwise the group keeps the most common outdated revision label.
 */
function groupRevision(pods: PodView[], ctx: ObserveContext): string {
  const live = livePods(pods);
  const specRoles = new Set(ctx.currentRoleHashes.keys());
  const present = new Set(live.map((p) => p.roleName));
  const hashesMatch =
    live.every((p) => ctx.currentRoleHashes.get(p.roleName) === p.roleHash) &&
    [...present].every((r) => specRoles.has(r));
  if (hashesMatch) return ctx.updateRevision;
  const other = live.map((p) => p.revision).filter((r) => r !== ctx.updateRevision);
  return other.length > 0 ? mostCommon(other) : mostCommon(live.map((p) => p.revision));
}

export function instancePhase(pods: PodView[], expected: number): InstancePhase {
  if (pods.length > 0 && pods.every((p) => p.terminating)) return 'Deleting';
  const live = pods.filter((p) => !p.terminating);
  if (live.some((p) => p.failed)) return 'Failed';
  if (live.length >= expected && live.every((p) => p.ready)) return 'Running';
  return 'Creating';
}

export function observe(ctx: ObserveContext, pods: Pod[]): GroupView[] {
  const groups = new Map<string, PodView[]>();
  for (const pod of pods) {
    if (!ownedBy(ctx.ms, pod)) continue;
    const v = viewPod(ctx.ms, pod);
    if (!v) continue;
    const list = groups.get(v.group) ?? [];
    list.push(v);
    groups.set(v.group, list);
  }
  const out: GroupView[] = [];
  for (const [name, gpods] of groups) {
    const g = gpods[0].g;
    const revision = groupRevision(gpods, ctx);
    const byInstance = new Map<string, PodView[]>();
    for (const p of gpods) {
      const key = `${p.roleName}/${p.roleId}`;
      const list = byInstance.get(key) ?? [];
      list.push(p);
      byInstance.set(key, list);
    }
    const roles = new Map<string, InstanceView[]>();
    for (const ipods of byInstance.values()) {
      ipods.sort((a, b) => a.k - b.k);
      const first = ipods.find((p) => !p.terminating) ?? ipods[0];
      const instRevision = instanceRevision(ipods);
      const template =
        ctx.rolesOf(instRevision)?.find((r) => r.name === first.roleName) ??
        ctx.ms.spec.template.roles.find((r) => r.name === first.roleName);
      const expectedPods = (template?.workerReplicas ?? 0) + 1;
      const inst: InstanceView = {
        roleName: first.roleName,
        roleId: first.roleId,
        r: first.r,
        pods: ipods,
        revision: instRevision,
        roleHash: first.roleHash,
        expectedPods,
        phase: instancePhase(ipods, expectedPods),
      };
      const list = roles.get(inst.roleName) ?? [];
      list.push(inst);
      roles.set(inst.roleName, list);
    }
    for (const list of roles.values()) list.sort((a, b) => a.r - b.r);
    const groupRoles = ctx.rolesOf(revision) ?? ctx.ms.spec.template.roles;
    let phase: GroupPhase;
    if (gpods.every((p) => p.terminating)) phase = 'Deleting';
    else {
      const live = (rn: string) => (roles.get(rn) ?? []).filter((i) => i.phase !== 'Deleting');
      const allRunning = groupRoles.every((role) => {
        const inst = live(role.name);
        return inst.length === (role.replicas ?? 1) && inst.every((i) => i.phase === 'Running');
      });
      if (allRunning) phase = 'Running';
      else {
        const existingRunning = [...roles.values()]
          .flat()
          .every((i) => i.phase === 'Running' || i.phase === 'Deleting');
        phase = existingRunning ? 'Scaling' : 'Creating';
      }
    }
    out.push({
      name,
      g,
      pods: gpods,
      roles,
      revision,
      phase,
      deletionCost: gpods.reduce((s, p) => s + p.deletionCost, 0),
    });
  }
  return out.sort((a, b) => a.g - b.g);
}
