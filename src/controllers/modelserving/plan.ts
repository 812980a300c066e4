// The reconcile decision for one ModelServing, as a pure function of what the cluster holds:
// snapshot (ModelServing, its pods, services, PodGroups, ControllerRevisions, the time) → actions + status.
// Steps follow upstream's syncModelServing (§2.5): group replicas (+ PodGroups), role replicas (+ recovery),
// rolling update, headless services, status. The I/O shell executes the actions in order.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { type BudgetAction, budgetActions, desiredBudgets } from './disruption-budget.js';
import { scaledValue } from './intstr.js';
import { groupName, LABEL_GROUP, LABEL_NAME, LABEL_REVISION, LABEL_ROLE_ID, parseOrdinal, roleId } from './naming.js';
import { type GroupView, type InstanceView, observe, ownedBy, type PodView } from './observe.js';
import { type ControllerOptions, DEFAULT_OPTIONS, readOptions, restartBackoffMs } from './options.js';
import { buildPluginChain, type PluginChain } from './plugins/registry.js';
import type { PluginFactory } from './plugins/types.js';
import { buildPodGroup, mergePodGroup, podGroupNeedsUpdate, usesPodGroup } from './podgroup.js';
import { buildHeadlessService, buildRoleInstancePods, groupSize, needsService } from './pods.js';
import {
  buildControllerRevision,
  modelServingRevision,
  renumberControllerRevision,
  rolesFromControllerRevision,
  roleTemplateHash,
} from './revision.js';
import { pickForScaleDown } from './scaledown.js';
import { computeStatus, type RestartRecord } from './status.js';
import type { ModelServing, ModelServingStatus, PodGroup, Role } from './types.js';

export type Action =
  | { type: 'createControllerRevision'; object: ControllerRevision }
  | { type: 'updateControllerRevision'; object: ControllerRevision }
  | { type: 'deleteControllerRevision'; name: string }
  | { type: 'createPodGroup'; object: PodGroup }
  | { type: 'updatePodGroup'; object: PodGroup }
  | { type: 'deletePodGroup'; name: string }
  | { type: 'createPod'; object: Pod; group: string; roleId: string }
  | { type: 'deletePod'; name: string; uid?: string; reason: string }
  | { type: 'createService'; object: Service }
  | { type: 'deleteService'; name: string }
  | BudgetAction;

export interface PlanEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface PlanInput {
  /** the ModelServing with defaults applied */
  ms: ModelServing;
  /** pods, services, PodGroups and ControllerRevisions of this namespace that carry our name label */
  pods: Pod[];
  services: Service[];
  podGroups: PodGroup[];
  controllerRevisions: ControllerRevision[];
  /** the podgroups.scheduling.volcano.sh CRD is served */
  podGroupCrdServed: boolean;
  /** the PodGroup CRD has spec.subGroupPolicy (Volcano ≥ 1.14) */
  subGroupPolicySupported: boolean;
  /** PodDisruptionBudgets carrying our name label; undefined when policy/v1 is not served (no budgets then) */
  podDisruptionBudgets?: PodDisruptionBudget[];
  /** ms since epoch */
  now: number;
  /** `<group>/<roleId>` of instances whose pod was deleted by someone else (seen by the shell's pod watch) */
  brokenInstances?: ReadonlySet<string>;
  plugins?: ReadonlyMap<string, PluginFactory>;
}

export interface Plan {
  actions: Action[];
  events: PlanEvent[];
  status: ModelServingStatus;
  /** reconcile again after this long even if nothing changes (grace periods, back-off, name clashes) */
  requeueAfterMs?: number;
  updateRevision: string;
}

export function instanceKey(group: string, rid: string): string {
  return `${group}/${rid}`;
}

const RECREATE_BACKOFF_RESET_MIN_MS = 60_000;

export function planReconcile(input: PlanInput): Plan {
  const { ms, now } = input;
  const msName = ms.metadata.name;
  const actions: Action[] = [];
  const events: PlanEvent[] = [];
  let requeueAfterMs: number | undefined;
  const requeue = (ms_: number) => {
    const v = Math.max(1, Math.ceil(ms_));
    requeueAfterMs = requeueAfterMs === undefined ? v : Math.min(requeueAfterMs, v);
  };

  let options: ControllerOptions;
  try {
    options = readOptions(ms);
  } catch (err) {
    options = DEFAULT_OPTIONS;
    events.push({ type: 'Warning', reason: 'InvalidAnnotation', message: (err as Error).message });
  }
  let chain: PluginChain | undefined;
  let chainError: string | undefined;
  try {
    chain = buildPluginChain(ms, input.plugins);
  } catch (err) {
    chainError = (err as Error).message;
  }

  const specRoles = ms.spec.template.roles;
  const replicas = ms.spec.replicas ?? 1;
  const updateRevision = modelServingRevision(specRoles);
  const currentRoleHashes = new Map(specRoles.map((r) => [r.name, roleTemplateHash(r)]));
  const rolloutType = ms.spec.rolloutStrategy?.type ?? 'ServingGroupRollingUpdate';
  const rollingCfg = ms.spec.rolloutStrategy?.rollingUpdateConfiguration;
  const partition =
    rolloutType === 'ServingGroupRollingUpdate' ? scaledValue(rollingCfg?.partition, replicas, true, 0) : 0;
  const recovery = ms.spec.recoveryPolicy ?? 'RoleRecreate';
  const gang = usesPodGroup(ms, input.podGroupCrdServed);

  // ControllerRevisions: revision → roles recorded in it.
  const ownedCRs = input.controllerRevisions.filter((cr) => ownedBy(ms, cr));
  const crByRevision = new Map<string, { cr: ControllerRevision; roles?: Role[] }>();
  for (const cr of ownedCRs) {
    const rev = cr.metadata?.labels?.[LABEL_REVISION];
    if (rev) crByRevision.set(rev, { cr, roles: rolesFromControllerRevision(cr) });
  }
  /**
   * Pod shape from the revision, counts (replicas, rolling knobs) from the current spec: a replicas change does
   * not make a new revision, so the recorded roles may carry stale counts.
   */
  const rolesOf = (revision: string): Role[] | undefined => {
    if (revision === updateRevision) return specRoles;
    const recorded = crByRevision.get(revision)?.roles;
    if (!recorded) return undefined;
    return recorded.map((r) => {
      const cur = specRoles.find((s) => s.name === r.name);
      return cur ? { ...r, replicas: cur.replicas, maxUnavailable: cur.maxUnavailable, partition: cur.partition } : r;
    });
  };
  const roleTemplateFor = (revision: string, roleName: string): Role | undefined =>
    rolesOf(revision)?.find((r) => r.name === roleName) ?? specRoles.find((r) => r.name === roleName);

  const groups = observe({ ms, updateRevision, currentRoleHashes, rolesOf }, input.pods);
  const podsByName = new Map(input.pods.map((p) => [p.metadata?.name ?? '', p]));

  // Bookkeeping of what this plan already decided.
  const deletedGroups = new Set<string>();
  const deletedInstances = new Set<string>();
  const deletedPods = new Set<string>();
  const deletedServices = new Set<string>();
  const createdInstances = new Map<string, { g: number; role: Role; r: number; revision: string }>();
  const createdPodNames = new Set<string>();
  const revisionsCreated = new Set<string>();

  // Restart records live in status so that back-off survives a controller restart.
  const restarts = new Map<string, RestartRecord>();
  for (const sg of ms.status?.servingGroups ?? [])
    if (sg.restarts) restarts.set(sg.name, { restarts: sg.restarts, lastRestartTime: sg.lastRestartTime });
  const recordRestart = (group: string) => {
    const prev = restarts.get(group);
    restarts.set(group, { restarts: (prev?.restarts ?? 0) + 1, lastRestartTime: new Date(now).toISOString() });
  };
  const backoffRemaining = (group: string): number => {
    const rec = restarts.get(group);
    if (!rec?.restarts || !rec.lastRestartTime) return 0;
    const wait = restartBackoffMs(rec.restarts, options);
    return Math.max(0, Date.parse(rec.lastRestartTime) + wait - now);
  };

  // ---- helpers that emit actions -------------------------------------------------------------------------

  const servicesByName = new Map(input.services.filter((s) => ownedBy(ms, s)).map((s) => [s.metadata?.name ?? '', s]));
  const servicesOf = (group: string, rid?: string) =>
    [...servicesByName.values()].filter(
      (s) =>
        s.metadata?.labels?.[LABEL_GROUP] === group &&
        (rid === undefined || s.metadata?.labels?.[LABEL_ROLE_ID] === rid),
    );
  const deleteService = (name: string) => {
    if (deletedServices.has(name)) return;
    deletedServices.add(name);
    actions.push({ type: 'deleteService', name });
  };
  const deletePod = (p: PodView, reason: string) => {
    if (p.terminating || deletedPods.has(p.name)) return;
    deletedPods.add(p.name);
    actions.push({ type: 'deletePod', name: p.name, uid: p.uid || undefined, reason });
  };

  const deleteGroup = (group: GroupView, reason: string) => {
    if (deletedGroups.has(group.name)) return;
    deletedGroups.add(group.name);
    if (gang || input.podGroups.some((pg) => pg.metadata.name === group.name)) {
      if (input.podGroups.some((pg) => pg.metadata.name === group.name && ownedBy(ms, pg)))
        actions.push({ type: 'deletePodGroup', name: group.name });
    }
    for (const p of group.pods) deletePod(p, reason);
    for (const s of servicesOf(group.name)) deleteService(s.metadata?.name ?? '');
    events.push({ type: 'Normal', reason: 'ServingGroupDeleting', message: `ServingGroup ${group.name}: ${reason}` });
  };

  const deleteInstance = (group: GroupView, inst: InstanceView, reason: string) => {
    const key = instanceKey(group.name, inst.roleId);
    if (deletedInstances.has(key)) return;
    deletedInstances.add(key);
    for (const p of inst.pods) deletePod(p, reason);
    for (const s of servicesOf(group.name, inst.roleId)) deleteService(s.metadata?.name ?? '');
    events.push({ type: 'Normal', reason: 'RoleDeleting', message: `Role ${group.name}/${inst.roleId}: ${reason}` });
  };

  const ensureRevisionRecorded = (revision: string) => {
    if (revision !== updateRevision || crByRevision.has(revision) || revisionsCreated.has(revision)) return;
    revisionsCreated.add(revision);
    const next = Math.max(0, ...ownedCRs.map((cr) => cr.revision ?? 0)) + 1;
    actions.push({ type: 'createControllerRevision', object: buildControllerRevision(ms, revision, specRoles, next) });
  };

  /** Creates the pods `ks` of an instance; returns false when something (plugin, name clash) stopped it. */
  const createPods = (g: number, role: Role, r: number, revision: string, ks: number[]): boolean => {
    if (ks.length === 0) return true;
    if (chainError) {
      events.push({ type: 'Warning', reason: 'PluginError', message: chainError });
      return false;
    }
    const group = groupName(msName, g);
    const rid = roleId(role.name, r);
    const pods = buildRoleInstancePods(ms, { g, role, r, revision, roleHash: roleTemplateHash(role), gang });
    for (const pod of pods) {
      const k = parseOrdinal(pod.metadata?.name ?? '')?.ordinal ?? 0;
      if (!ks.includes(k)) continue;
      const name = pod.metadata?.name ?? '';
      const existing = podsByName.get(name);
      if (existing) {
        if (!ownedBy(ms, existing)) {
          // A pod of a deleted ModelServing with the same name is still going away.
          events.push({ type: 'Warning', reason: 'PodNameTaken', message: `pod ${name} exists and is not ours` });
          requeue(1000);
        }
        continue;
      }
      if (createdPodNames.has(name)) continue;
      try {
        chain?.onPodCreate({ ms, groupName: group, roleName: role.name, roleId: rid, isEntry: k === 0, pod });
      } catch (err) {
        events.push({ type: 'Warning', reason: 'PluginError', message: `pod ${name}: ${(err as Error).message}` });
        return false;
      }
      ensureRevisionRecorded(revision);
      createdPodNames.add(name);
      actions.push({ type: 'createPod', object: pod, group, roleId: rid });
    }
    return true;
  };

  /** The pods an instance should have now, given the worker startup policy. */
  const wantedKs = (role: Role, entryReady: boolean): number[] => {
    const ks = [0];
    if (options.workerStartup === 'LeaderCreated' || entryReady) for (let k = 1; k < groupSize(role); k++) ks.push(k);
    return ks;
  };

  const createInstance = (g: number, role: Role, r: number, revision: string) => {
    const group = groupName(msName, g);
    const rid = roleId(role.name, r);
    if (createPods(g, role, r, revision, wantedKs(role, false))) {
      createdInstances.set(instanceKey(group, rid), { g, role, r, revision });
      events.push({ type: 'Normal', reason: 'RoleCreating', message: `Role ${group}/${rid} is being created` });
    }
  };

  /** The historical revision used below a partition: status.currentRevision, else another recorded revision. */
  const historicalRevision = (): string | undefined => {
    const cur = ms.status?.currentRevision;
    if (cur && cur !== updateRevision && crByRevision.get(cur)?.roles) return cur;
    const others = ownedCRs
      .filter((cr) => {
        const rev = cr.metadata?.labels?.[LABEL_REVISION];
        return rev && rev !== updateRevision && crByRevision.get(rev)?.roles;
      })
      .sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
    return others[0]?.metadata?.labels?.[LABEL_REVISION];
  };

  // ---- step 1: ServingGroup replicas --------------------------------------------------------------------

  const liveGroups = () => groups.filter((gr) => gr.phase !== 'Deleting' && !deletedGroups.has(gr.name));
  const protectedGroups = new Set(
    groups
      .filter((gr) => gr.phase !== 'Deleting')
      .slice(0, partition)
      .map((gr) => gr.name),
  );

  const live0 = liveGroups();
  if (live0.length > replicas) {
    const picks = pickForScaleDown(
      live0.map((gr) => ({
        index: gr.g,
        running: gr.phase === 'Running',
        deletionCost: gr.deletionCost,
        protected: protectedGroups.has(gr.name),
        gr,
      })),
      live0.length - replicas,
    );
    for (const p of picks) deleteGroup(p.gr, 'scale down');
  }

  const newGroups: number[] = [];
  if (groups.length < replicas) {
    const occupied = new Set(groups.map((gr) => gr.g));
    let toCreate = replicas - groups.length;
    for (let g = 0; g < replicas && toCreate > 0; g++) {
      if (occupied.has(g)) continue;
      toCreate--;
      const name = groupName(msName, g);
      const wait = backoffRemaining(name);
      if (wait > 0) {
        requeue(wait);
        continue;
      }
      let revision = updateRevision;
      if (g < partition) {
        const cur = ms.status?.currentRevision;
        if (cur && rolesOf(cur)) revision = cur;
      }
      newGroups.push(g);
      const roles = rolesOf(revision) ?? specRoles;
      if (gang && !input.podGroups.some((pg) => pg.metadata.name === name))
        actions.push({ type: 'createPodGroup', object: buildPodGroup(ms, g, roles, input.subGroupPolicySupported) });
      roles.forEach((role, i) => {
        // With role startup InOrder only the first role starts in a new group.
        if (options.roleStartup === 'InOrder' && i > 0) return;
        for (let r = 0; r < (role.replicas ?? 1); r++) createInstance(g, role, r, revision);
      });
    }
  }

  // PodGroups of the groups that stay.
  if (gang) {
    for (const gr of liveGroups()) {
      const desired = buildPodGroup(ms, gr.g, rolesOf(gr.revision) ?? specRoles, input.subGroupPolicySupported);
      const existing = input.podGroups.find((pg) => pg.metadata.name === gr.name);
      if (!existing) actions.push({ type: 'createPodGroup', object: desired });
      else if (!ownedBy(ms, existing)) {
        events.push({ type: 'Warning', reason: 'PodGroupTaken', message: `PodGroup ${gr.name} is not ours` });
        requeue(1000);
      } else if (podGroupNeedsUpdate(existing, desired))
        actions.push({ type: 'updatePodGroup', object: mergePodGroup(existing, desired) });
    }
  }
  // PodGroups nobody needs: no gang any more, or their group is gone.
  const wantedPodGroups = new Set(
    gang ? [...liveGroups().map((gr) => gr.name), ...newGroups.map((g) => groupName(msName, g))] : [],
  );
  for (const pg of input.podGroups) {
    if (!ownedBy(ms, pg) || wantedPodGroups.has(pg.metadata.name)) continue;
    if (pg.metadata.deletionTimestamp) continue;
    if (actions.some((a) => a.type === 'deletePodGroup' && a.name === pg.metadata.name)) continue;
    actions.push({ type: 'deletePodGroup', name: pg.metadata.name });
  }

  // ---- step 2: role replicas and recovery ------------------------------------------------------------------

  const rolePartitionOf = (role: Role) =>
    rolloutType === 'RoleRollingUpdate' ? scaledValue(role.partition, role.replicas ?? 1, true, 0) : 0;

  for (const gr of liveGroups()) {
    const groupRoles = protectedGroups.has(gr.name) ? (rolesOf(gr.revision) ?? specRoles) : specRoles;
    const groupWait = backoffRemaining(gr.name);
    let previousRolesRunning = true;
    for (const role of groupRoles) {
      if (deletedGroups.has(gr.name)) break;
      const mayStart = options.roleStartup === 'Parallel' || previousRolesRunning;
      const all = gr.roles.get(role.name) ?? [];
      const roleReplicas = role.replicas ?? 1;
      // An instance whose only pods were deleted by someone else leaves no trace but the watch event.
      for (let r = 0; r < roleReplicas; r++) {
        const rid = roleId(role.name, r);
        if (!input.brokenInstances?.has(instanceKey(gr.name, rid)) || all.some((i) => i.roleId === rid)) continue;
        if (recovery === 'None') continue;
        recordRestart(gr.name);
        if (recovery === 'ServingGroupRecreate') deleteGroup(gr, `the pods of role ${rid} were deleted`);
      }
      if (deletedGroups.has(gr.name)) break;
      // recovery and missing pods
      for (const inst of all) {
        if (inst.phase === 'Deleting' || deletedGroups.has(gr.name)) continue;
        const key = instanceKey(gr.name, inst.roleId);
        const live = inst.pods.filter((p) => !p.terminating);
        const failedPods = live.filter((p) => p.failed);
        const template = roleTemplateFor(inst.revision, role.name) ?? role;
        if (failedPods.length > 0) {
          const since = Math.max(...failedPods.map((p) => p.failedSince ?? now));
          const graceMs = (ms.spec.template.restartGracePeriodSeconds ?? 0) * 1000;
          if (now < since + graceMs) {
            requeue(since + graceMs - now);
            continue;
          }
          const why = `pod ${failedPods[0].name} failed (${failedPods[0].notReadyReason ?? 'error'})`;
          recordRestart(gr.name);
          if (recovery === 'ServingGroupRecreate') deleteGroup(gr, why);
          else if (recovery === 'RoleRecreate') deleteInstance(gr, inst, why);
          else for (const p of failedPods) deletePod(p, why);
          continue;
        }
        const ks = new Set(live.map((p) => p.k));
        const hasTerminating = inst.pods.some((p) => p.terminating);
        const workersPresent = [...ks].some((k) => k > 0);
        const missingWorker = [...Array(template.workerReplicas ?? 0).keys()].some((i) => !ks.has(i + 1));
        // A pod gone from an instance that had been fully made (seen by the watch, or visible in what is left).
        const broken =
          input.brokenInstances?.has(key) || hasTerminating || (workersPresent && (!ks.has(0) || missingWorker));
        if (broken && recovery !== 'None') {
          const why = 'a pod of the role instance was deleted';
          recordRestart(gr.name);
          if (recovery === 'ServingGroupRecreate') deleteGroup(gr, why);
          else deleteInstance(gr, inst, why);
          continue;
        }
        if (groupWait > 0) {
          requeue(groupWait);
          continue;
        }
        if (!mayStart) continue;
        const entry = live.find((p) => p.k === 0);
        const missing = wantedKs(template, !!entry?.ready).filter((k) => !inst.pods.some((p) => p.k === k));
        createPods(gr.g, template, inst.r, inst.revision, missing);
      }
      if (deletedGroups.has(gr.name)) break;
      const liveInst = all.filter(
        (i) => i.phase !== 'Deleting' && !deletedInstances.has(instanceKey(gr.name, i.roleId)),
      );
      const rolePartition = rolePartitionOf(role);
      // scale up: fill free ordinals below role.replicas; Deleting instances keep their ordinal
      const reserved = all.filter(
        (i) => i.phase === 'Deleting' || deletedInstances.has(instanceKey(gr.name, i.roleId)),
      );
      let toCreate = roleReplicas - liveInst.length - reserved.length;
      if (toCreate > 0 && mayStart) {
        if (groupWait > 0) requeue(groupWait);
        else {
          const occupied = new Set(all.map((i) => i.r));
          for (let r = 0; r < roleReplicas && toCreate > 0; r++) {
            if (occupied.has(r)) continue;
            toCreate--;
            let revision = protectedGroups.has(gr.name) ? gr.revision : updateRevision;
            let template = protectedGroups.has(gr.name) ? role : (specRoles.find((s) => s.name === role.name) ?? role);
            if (r < rolePartition) {
              const hist = historicalRevision();
              const histRole = hist ? rolesOf(hist)?.find((x) => x.name === role.name) : undefined;
              if (hist && histRole) {
                revision = hist;
                template = histRole;
              }
            }
            createInstance(gr.g, template, r, revision);
          }
        }
      }
      // scale down
      if (liveInst.length > roleReplicas) {
        const picks = pickForScaleDown(
          liveInst.map((i) => ({
            index: i.r,
            running: i.phase === 'Running',
            deletionCost: i.pods.reduce((s, p) => s + p.deletionCost, 0),
            protected: i.r < rolePartition,
            i,
          })),
          liveInst.length - roleReplicas,
        );
        for (const p of picks) deleteInstance(gr, p.i, 'scale down');
      }
      const roleRunning =
        liveInst.length >= roleReplicas &&
        liveInst.every((i) => i.phase === 'Running') &&
        !liveInst.some((i) => deletedInstances.has(instanceKey(gr.name, i.roleId)));
      previousRolesRunning = previousRolesRunning && roleRunning;
    }
  }

  // ---- step 3: rolling update ------------------------------------------------------------------------------

  if (rolloutType === 'ServingGroupRollingUpdate') {
    const sorted = groups.filter((gr) => gr.phase !== 'Deleting');
    if (partition < sorted.length) {
      const maxUnavailable = scaledValue(rollingCfg?.maxUnavailable, replicas, false, 1);
      const minAvailable = replicas - maxUnavailable;
      const candidates = sorted.slice(partition).filter((gr) => !deletedGroups.has(gr.name));
      const outdated = candidates.filter((gr) => gr.revision !== updateRevision).sort((a, b) => b.g - a.g);
      const available = liveGroups().filter((gr) => gr.phase === 'Running').length;
      // Unready outdated groups serve nothing: replacing them cannot lower availability.
      for (const gr of outdated.filter((x) => x.phase !== 'Running')) deleteGroup(gr, 'rolling update');
      let budget = available - minAvailable;
      for (const gr of outdated.filter((x) => x.phase === 'Running')) {
        if (budget <= 0) break;
        deleteGroup(gr, 'rolling update');
        budget--;
      }
    }
  } else {
    planRoleRollingUpdate();
  }

  function planRoleRollingUpdate() {
    const considered = liveGroups()
      .filter((gr) => !protectedGroups.has(gr.name))
      .filter((gr) => !newGroups.includes(gr.g));
    const isOutdated = (inst: InstanceView, role: Role): boolean | undefined => {
      let hash = inst.roleHash;
      if (!hash) {
        const t = crByRevision.get(inst.revision)?.roles?.find((r) => r.name === role.name);
        if (!t) return undefined;
        hash = roleTemplateHash(t);
      }
      return hash !== currentRoleHashes.get(role.name);
    };
    // Cross-role skew: how far each role's update may run ahead of the slowest one.
    const skewCap = new Map<string, number>();
    if (options.roleMaxSkew !== undefined) {
      const progress = specRoles.map((role) => {
        let n = 0;
        let done = 0;
        let started = 0;
        let outdatedLeft = 0;
        for (const gr of considered) {
          n += role.replicas ?? 1;
          for (const inst of gr.roles.get(role.name) ?? []) {
            const deleting = inst.phase === 'Deleting' || deletedInstances.has(instanceKey(gr.name, inst.roleId));
            const out = isOutdated(inst, role);
            if (deleting) started++;
            else if (out === false) {
              started++;
              if (inst.phase === 'Running') done++;
            } else if (out) outdatedLeft++;
          }
        }
        return { role, n, done, started, outdatedLeft };
      });
      const active = progress.filter((p) => p.n > 0);
      const minDone = Math.min(...active.map((p) => p.done / p.n));
      for (const p of active)
        skewCap.set(p.role.name, Math.max(0, Math.floor((minDone + options.roleMaxSkew) * p.n + 1e-9) - p.started));
      const stuck =
        active.every((p) => p.outdatedLeft === 0 || (skewCap.get(p.role.name) ?? 0) <= 0) &&
        active.every((p) => p.started === p.done);
      if (stuck) {
        // Nothing in flight and nobody may move: let the least advanced role with the finest step go by one.
        const next = active
          .filter((p) => p.outdatedLeft > 0)
          .sort((a, b) => a.done / a.n - b.done / b.n || b.n - a.n)[0];
        if (next) skewCap.set(next.role.name, 1);
      }
    }
    for (const gr of considered) {
      for (const [roleName, instances] of gr.roles) {
        if (currentRoleHashes.has(roleName)) continue;
        for (const inst of instances)
          if (inst.phase !== 'Deleting') deleteInstance(gr, inst, `role ${roleName} is no longer in the spec`);
      }
      for (const role of specRoles) {
        const roleReplicas = role.replicas ?? 1;
        const instances = (gr.roles.get(role.name) ?? []).filter(
          (i) => i.phase !== 'Deleting' && !deletedInstances.has(instanceKey(gr.name, i.roleId)),
        );
        const rolePartition = rolePartitionOf(role);
        const outdated = instances
          .filter((i) => i.r >= rolePartition && isOutdated(i, role) === true)
          .sort((a, b) => Number(a.phase === 'Running') - Number(b.phase === 'Running') || b.r - a.r);
        if (outdated.length === 0) continue;
        const maxUnavailable = scaledValue(role.maxUnavailable, roleReplicas, false, 1);
        const minAvailable = Math.max(0, roleReplicas - maxUnavailable);
        const available = instances.filter((i) => i.phase === 'Running').length;
        let budget = available - minAvailable;
        for (const inst of outdated) {
          const cap = skewCap.get(role.name);
          if (cap !== undefined && cap <= 0) break;
          if (inst.phase === 'Running') {
            if (budget <= 0) break;
            budget--;
          }
          deleteInstance(gr, inst, 'role rolling update');
          if (cap !== undefined) skewCap.set(role.name, cap - 1);
        }
      }
    }
  }

  // Nothing is created in a group or instance this plan deletes (a later step may have decided that):
  // a pod created after the deletion was listed would outlive it and keep the group half alive.
  for (let i = actions.length - 1; i >= 0; i--) {
    const a = actions[i];
    if (a.type !== 'createPod') continue;
    if (!deletedGroups.has(a.group) && !deletedInstances.has(instanceKey(a.group, a.roleId))) continue;
    actions.splice(i, 1);
    createdPodNames.delete(a.object.metadata?.name ?? '');
    createdInstances.delete(instanceKey(a.group, a.roleId));
  }

  // ---- step 4: headless services -----------------------------------------------------------------------------

  const wantedServices = new Map<string, Service>();
  for (const gr of liveGroups()) {
    for (const [roleName, instances] of gr.roles) {
      for (const inst of instances) {
        if (inst.phase === 'Deleting' || deletedInstances.has(instanceKey(gr.name, inst.roleId))) continue;
        const template = roleTemplateFor(inst.revision, roleName);
        if (!template || !needsService(template)) continue;
        const svc = buildHeadlessService(ms, gr.g, roleName, inst.r);
        wantedServices.set(svc.metadata?.name ?? '', svc);
      }
    }
  }
  for (const c of createdInstances.values()) {
    if (deletedGroups.has(groupName(msName, c.g)) || !needsService(c.role)) continue;
    const svc = buildHeadlessService(ms, c.g, c.role.name, c.r);
    wantedServices.set(svc.metadata?.name ?? '', svc);
  }
  for (const [name, svc] of wantedServices)
    if (!servicesByName.has(name)) actions.push({ type: 'createService', object: svc });
  for (const [name, svc] of servicesByName) {
    if (wantedServices.has(name) || svc.metadata?.deletionTimestamp) continue;
    // Services of a group we do not know (no pods) are leftovers, e.g. of a crash mid-deletion.
    deleteService(name);
  }

  // ---- step 5: status ---------------------------------------------------------------------------------------

  // Groups deleted by this plan count as Deleting from now on; groups and instances it creates as Creating.
  for (const gr of groups) if (deletedGroups.has(gr.name)) gr.phase = 'Deleting';
  for (const c of createdInstances.values()) {
    const name = groupName(msName, c.g);
    let gr = groups.find((x) => x.name === name);
    if (!gr) {
      gr = { name, g: c.g, pods: [], roles: new Map(), revision: c.revision, phase: 'Creating', deletionCost: 0 };
      groups.push(gr);
    } else if (gr.phase === 'Running') gr.phase = 'Scaling';
    const list = gr.roles.get(c.role.name) ?? [];
    list.push({
      roleName: c.role.name,
      roleId: roleId(c.role.name, c.r),
      r: c.r,
      pods: [],
      revision: c.revision,
      roleHash: roleTemplateHash(c.role),
      expectedPods: groupSize(c.role),
      phase: 'Creating',
    });
    list.sort((a, b) => a.r - b.r);
    gr.roles.set(c.role.name, list);
  }
  groups.sort((a, b) => a.g - b.g);
  for (const gr of groups)
    for (const insts of gr.roles.values())
      for (const inst of insts) if (deletedInstances.has(instanceKey(gr.name, inst.roleId))) inst.phase = 'Deleting';
  // A group that stayed healthy well past its back-off window starts counting restarts from zero again.
  for (const gr of groups) {
    const rec = restarts.get(gr.name);
    if (!rec?.lastRestartTime || gr.phase !== 'Running') continue;
    const quiet = Math.max(2 * options.backoffMaxMs, RECREATE_BACKOFF_RESET_MIN_MS);
    if (now - Date.parse(rec.lastRestartTime) > quiet) restarts.delete(gr.name);
  }
  // Keep restart records of groups that are gone but about to be recreated (ServingGroupRecreate).
  const status = computeStatus({
    ms,
    groups,
    updateRevision,
    partition,
    now,
    restarts,
    groupNamesToKeep: new Set([...restarts.keys()].filter((n) => (parseOrdinal(n)?.ordinal ?? replicas) < replicas)),
  });

  // RoleRunning events on transitions, remembered through status (no in-memory history needed). When the
  // stored status has no servingGroups (a CRD schema that prunes them) there is no memory: stay silent
  // rather than repeat the event on every reconcile.
  const remembered = ms.status?.servingGroups !== undefined;
  const before = new Map<string, string>();
  for (const sg of ms.status?.servingGroups ?? [])
    for (const r of sg.roles ?? []) before.set(instanceKey(sg.name, r.name), r.phase);
  for (const sg of status.servingGroups ?? [])
    for (const r of sg.roles)
      if (remembered && r.phase === 'Running' && before.get(instanceKey(sg.name, r.name)) !== 'Running')
        events.push({ type: 'Normal', reason: 'RoleRunning', message: `Role ${sg.name}/${r.name} is running` });

  // ---- eviction budget: PodDisruptionBudgets from kthena.io/eviction-budget (disruption-budget.ts) ----------

  if (input.podDisruptionBudgets)
    actions.push(
      ...budgetActions(
        desiredBudgets(ms, options.evictionBudget),
        input.podDisruptionBudgets.filter((b) => ownedBy(ms, b)),
      ),
    );

  // ---- ControllerRevisions: keep current, update, those pods still use, and a bounded history ---------------

  // Every template the spec ever had is recorded, even when no pod was made from it (partition, 0 replicas),
  // so the history `kthena rollout history` shows has one numbered revision per template change. Going back to
  // a recorded template (a rollback, or the same edit undone by hand) renumbers that revision as the newest.
  const highest = Math.max(0, ...ownedCRs.map((cr) => cr.revision ?? 0));
  const recordedUpdate = crByRevision.get(updateRevision)?.cr;
  if (!recordedUpdate) ensureRevisionRecorded(updateRevision);
  else if ((recordedUpdate.revision ?? 0) < highest)
    actions.push({
      type: 'updateControllerRevision',
      object: renumberControllerRevision(recordedUpdate, highest + 1, ms),
    });

  const inUse = new Set<string>([updateRevision]);
  if (status.currentRevision) inUse.add(status.currentRevision);
  for (const p of input.pods) {
    const rev = p.metadata?.labels?.[LABEL_REVISION];
    if (rev && p.metadata?.labels?.[LABEL_NAME] === msName) inUse.add(rev);
  }
  const history = ownedCRs
    .filter((cr) => !inUse.has(cr.metadata?.labels?.[LABEL_REVISION] ?? ''))
    .sort((a, b) => (b.revision ?? 0) - (a.revision ?? 0));
  for (const cr of history.slice(options.revisionHistoryLimit))
    actions.push({ type: 'deleteControllerRevision', name: cr.metadata?.name ?? '' });

  return { actions, events, status, requeueAfterMs, updateRevision };
}
