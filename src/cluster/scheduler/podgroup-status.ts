// PodGroup status as Volcano maintains it: phase (Pending → Inqueue → Running, Unknown, Completed), member counts
// and the Scheduled/Unschedulable conditions. Pure.
import type { Pod } from 'kubernetes-types/core/v1.js';

export interface PodGroupCondition {
  type: 'Scheduled' | 'Unschedulable';
  status: 'True' | 'False';
  transitionID?: string;
  lastTransitionTime?: string;
  reason?: string;
  message?: string;
}

export interface PodGroupStatus {
  phase?: 'Pending' | 'Inqueue' | 'Running' | 'Unknown' | 'Completed';
  running?: number;
  succeeded?: number;
  failed?: number;
  conditions?: PodGroupCondition[];
}

export interface PodGroupStatusInput {
  previous: PodGroupStatus | undefined;
  minMember: number;
  members: Pod[];
  /** The enqueue check passed this cycle (minResources fit). */
  admitted: boolean;
  /** The gang could not be placed this cycle: why (reason + message); undefined when it was or nothing to do. */
  unschedulable?: { reason: string; message: string };
  /** Members bound this cycle (not yet visible on the pods). */
  newlyBound: number;
  now: string;
}

const phaseOf = (p: Pod) => p.status?.phase ?? 'Pending';

export function computePodGroupStatus(i: PodGroupStatusInput): PodGroupStatus {
  const prevPhase = i.previous?.phase ?? 'Pending';
  const running = i.members.filter((p) => phaseOf(p) === 'Running').length;
  const succeeded = i.members.filter((p) => phaseOf(p) === 'Succeeded').length;
  const failed = i.members.filter((p) => phaseOf(p) === 'Failed').length;
  // Volcano counts bound/binding/running and succeeded members as "allocated".
  const allocated = i.members.filter((p) => !!p.spec?.nodeName && phaseOf(p) !== 'Failed').length + i.newlyBound;

  let phase: PodGroupStatus['phase'];
  if (i.members.length > 0 && succeeded === i.members.length && succeeded >= i.minMember) phase = 'Completed';
  else if (allocated >= i.minMember && allocated > 0) phase = 'Running';
  else if (running > 0 && i.unschedulable) phase = 'Unknown';
  else if (prevPhase === 'Pending') phase = i.admitted ? 'Inqueue' : 'Pending';
  else phase = prevPhase === 'Running' || prevPhase === 'Unknown' || prevPhase === 'Completed' ? 'Inqueue' : prevPhase;
  if (i.minMember === 0 && i.members.length === 0)
    phase = prevPhase === 'Pending' && i.admitted ? 'Inqueue' : prevPhase;

  const conditions: PodGroupCondition[] = [];
  const prevCond = (t: string) => i.previous?.conditions?.find((c) => c.type === t);
  const keepTime = (t: string, status: string) => {
    const p = prevCond(t);
    return p && p.status === status && p.lastTransitionTime ? p.lastTransitionTime : i.now;
  };
  if (i.unschedulable && phase !== 'Running' && phase !== 'Completed') {
    conditions.push({
      type: 'Unschedulable',
      status: 'True',
      reason: i.unschedulable.reason,
      message: i.unschedulable.message,
      lastTransitionTime: keepTime('Unschedulable', 'True'),
      transitionID: prevCond('Unschedulable')?.transitionID ?? `${i.now}`,
    });
  } else if (phase === 'Running' || phase === 'Completed') {
    conditions.push({
      type: 'Scheduled',
      status: 'True',
      reason: 'tasks in gang are ready to be scheduled',
      message: '',
      lastTransitionTime: keepTime('Scheduled', 'True'),
      transitionID: prevCond('Scheduled')?.transitionID ?? `${i.now}`,
    });
  }
  return { phase, running, succeeded, failed, conditions };
}

/** Compares statuses ignoring timestamps, so unchanged groups cause no writes. */
export function sameStatus(a: PodGroupStatus | undefined, b: PodGroupStatus): boolean {
  const strip = (s: PodGroupStatus | undefined) =>
    JSON.stringify({
      phase: s?.phase,
      running: s?.running ?? 0,
      succeeded: s?.succeeded ?? 0,
      failed: s?.failed ?? 0,
      conditions: (s?.conditions ?? []).map((c) => [c.type, c.status, c.reason, c.message]),
    });
  return strip(a) === strip(b);
}
