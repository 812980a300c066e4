// The deployment and replicaset controllers of kube-controller-manager, in process: a Deployment owns one
// ReplicaSet per pod template (label pod-template-hash), a ReplicaSet keeps its number of pods. Both write status
// the way `kubectl rollout status` and `kubectl get` read it. Rollouts are a simplified RollingUpdate: the new
// ReplicaSet gets every replica at once and the old ones go to zero once the new one is ready (Recreate: at once).
// Decisions are pure functions (planDeployment, planReplicaSet); WorkloadController is the thin I/O shell.
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { ApiCore } from './core.js';
import { scaled } from './disruption.js';
import { ApiError } from './errors.js';
import type { StoreEvent } from './store.js';
import { clone, type Obj, rfc3339 } from './util.js';

const DEPLOY_RK = 'apps/deployments';
const RS_RK = 'apps/replicasets';
const POD_RK = '/pods';
const MANAGER = { fieldManager: 'kube-controller-manager' };
export const HASH_LABEL = 'pod-template-hash';
const REVISION = 'deployment.kubernetes.io/revision';

// ---- pure decisions ----------------------------------------------------------------------------------------

/** A stable short hash of a pod template (the pod-template-hash label). */
export function templateHash(template: unknown): string {
  return createHash('sha256').update(stableJson(template)).digest('hex').slice(0, 10);
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((v as Obj)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

const ownedBy = (o: Obj, owner: Obj) =>
  (o.metadata?.ownerReferences ?? []).some((r: Obj) => r?.uid === owner.metadata.uid && r.controller);

function controllerRef(owner: Obj, kind: string): Obj {
  return {
    apiVersion: 'apps/v1',
    kind,
    name: owner.metadata.name,
    uid: owner.metadata.uid,
    controller: true,
    blockOwnerDeletion: true,
  };
}

const isReady = (p: Obj) => (p.status?.conditions ?? []).some((c: Obj) => c?.type === 'Ready' && c.status === 'True');
const isActive = (p: Obj) =>
  !p.metadata?.deletionTimestamp && p.status?.phase !== 'Succeeded' && p.status?.phase !== 'Failed';

function selectorString(sel: Obj | undefined): string {
  return Object.entries(sel?.matchLabels ?? {})
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

export type DeploymentAction =
  | { op: 'createReplicaSet'; rs: Obj }
  | { op: 'scaleReplicaSet'; name: string; replicas: number };

export interface DeploymentPlan {
  actions: DeploymentAction[];
  status: Obj;
}

/** What the deployment controller does for one Deployment, given the ReplicaSets of its namespace. */
export function planDeployment(dep: Obj, replicaSets: Obj[]): DeploymentPlan {
  const spec = dep.spec ?? {};
  const desired: number = spec.replicas ?? 1;
  const hash = templateHash(spec.template);
  const owned = replicaSets.filter((rs) => ownedBy(rs, dep));
  const current = owned.find((rs) => rs.metadata.labels?.[HASH_LABEL] === hash);
  const actions: DeploymentAction[] = [];
  if (!current) {
    const revision = Math.max(0, ...owned.map((rs) => Number(rs.metadata.annotations?.[REVISION] ?? 0))) + 1;
    const labels = { ...(spec.template?.metadata?.labels ?? {}), [HASH_LABEL]: hash };
    const template = clone(spec.template ?? {});
    template.metadata = { ...(template.metadata ?? {}), labels };
    actions.push({
      op: 'createReplicaSet',
      rs: {
        apiVersion: 'apps/v1',
        kind: 'ReplicaSet',
        metadata: {
          name: `${dep.metadata.name}-${hash}`,
          namespace: dep.metadata.namespace,
          labels,
          annotations: { [REVISION]: String(revision) },
          ownerReferences: [controllerRef(dep, 'Deployment')],
        },
        spec: {
          replicas: desired,
          selector: {
            ...(spec.selector ?? {}),
            matchLabels: { ...(spec.selector?.matchLabels ?? {}), [HASH_LABEL]: hash },
          },
          template,
        },
      },
    });
  } else if ((current.spec?.replicas ?? 1) !== desired && !spec.paused)
    actions.push({ op: 'scaleReplicaSet', name: current.metadata.name, replicas: desired });
  const recreate = spec.strategy?.type === 'Recreate';
  const newReady = current?.status?.readyReplicas ?? 0;
  for (const old of owned) {
    if (old === current || (old.spec?.replicas ?? 1) === 0) continue;
    if (recreate || (current && newReady >= desired))
      actions.push({ op: 'scaleReplicaSet', name: old.metadata.name, replicas: 0 });
  }
  const sum = (f: (rs: Obj) => number) => owned.reduce((n, rs) => n + f(rs), 0);
  const available = sum((rs) => rs.status?.availableReplicas ?? 0);
  const updated = current?.status?.replicas ?? 0;
  const maxUnavailable = scaled(spec.strategy?.rollingUpdate?.maxUnavailable ?? '25%', desired, false) ?? 0;
  const done =
    updated === desired && available >= desired && owned.every((rs) => rs === current || !rs.status?.replicas);
  return {
    actions,
    status: {
      observedGeneration: dep.metadata.generation ?? 1,
      replicas: sum((rs) => rs.status?.replicas ?? 0),
      updatedReplicas: updated,
      readyReplicas: sum((rs) => rs.status?.readyReplicas ?? 0),
      availableReplicas: available,
      unavailableReplicas: Math.max(0, desired - available),
      selector: selectorString(spec.selector),
      conditions: [
        {
          type: 'Available',
          status: available >= desired - maxUnavailable ? 'True' : 'False',
          reason: available >= desired - maxUnavailable ? 'MinimumReplicasAvailable' : 'MinimumReplicasUnavailable',
          message:
            available >= desired - maxUnavailable
              ? 'Deployment has minimum availability.'
              : 'Deployment does not have minimum availability.',
        },
        {
          type: 'Progressing',
          status: 'True',
          reason: done ? 'NewReplicaSetAvailable' : 'ReplicaSetUpdated',
          message: `ReplicaSet "${dep.metadata.name}-${hash}" ${done ? 'has successfully progressed' : 'is progressing'}.`,
        },
      ],
    },
  };
}

export interface ReplicaSetPlan {
  create: Obj[];
  deleteNames: string[];
  status: Obj;
}

/** What the replicaset controller does for one ReplicaSet, given the pods of its namespace. */
export function planReplicaSet(rs: Obj, pods: Obj[]): ReplicaSetPlan {
  const desired: number = rs.spec?.replicas ?? 1;
  const mine = pods.filter((p) => ownedBy(p, rs) && isActive(p));
  const create: Obj[] = [];
  for (let i = mine.length; i < desired; i++) {
    const t = rs.spec?.template ?? {};
    create.push({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: `${rs.metadata.name}-`,
        namespace: rs.metadata.namespace,
        labels: { ...(t.metadata?.labels ?? {}) },
        annotations: { ...(t.metadata?.annotations ?? {}) },
        ownerReferences: [controllerRef(rs, 'ReplicaSet')],
      },
      spec: clone(t.spec ?? {}),
    });
  }
  // Extra pods go unscheduled first, then not ready, then the newest (the replicaset controller's ranking).
  const rank = (p: Obj) => (p.spec?.nodeName ? 0 : 2) + (isReady(p) ? 0 : 1);
  const victims = [...mine]
    .sort(
      (a, b) =>
        rank(b) - rank(a) || String(b.metadata.creationTimestamp).localeCompare(String(a.metadata.creationTimestamp)),
    )
    .slice(0, Math.max(0, mine.length - desired));
  const ready = mine.filter(isReady).length;
  return {
    create,
    deleteNames: victims.map((p) => p.metadata.name),
    status: {
      observedGeneration: rs.metadata.generation ?? 1,
      replicas: mine.length,
      fullyLabeledReplicas: mine.length,
      readyReplicas: ready,
      availableReplicas: ready,
      selector: selectorString(rs.spec?.selector),
    },
  };
}

// ---- the I/O shell -----------------------------------------------------------------------------------------

export class WorkloadController {
  private unsubscribe: (() => void) | undefined;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly core: ApiCore,
    private readonly log?: Logger,
  ) {}

  start(): void {
    this.unsubscribe = this.core.store.subscribe((ev: StoreEvent) => {
      if (ev.rk !== DEPLOY_RK && ev.rk !== RS_RK && ev.rk !== POD_RK) return;
      if (ev.rk === POD_RK && !(ev.obj.metadata?.ownerReferences ?? []).some((r: Obj) => r?.kind === 'ReplicaSet'))
        return;
      this.mark(ev.obj.metadata?.namespace ?? '');
    });
    for (const d of this.core.store.list(DEPLOY_RK)) this.mark(d.metadata.namespace);
    for (const r of this.core.store.list(RS_RK)) this.mark(r.metadata.namespace);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
  }

  private mark(ns: string, delayMs = 10): void {
    if (this.stopped) return;
    this.dirty.add(ns);
    this.timer ??= setTimeout(() => void this.flush(), delayMs);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    if (this.running) {
      this.timer = setTimeout(() => void this.flush(), 20);
      return;
    }
    this.running = true;
    const namespaces = [...this.dirty];
    this.dirty.clear();
    try {
      for (const ns of namespaces) {
        if (this.stopped) return;
        try {
          await this.reconcileNamespace(ns);
        } catch (e) {
          // Conflicts and races with deletion: try the namespace again shortly.
          if (!(e instanceof ApiError)) this.log?.warn({ err: e, namespace: ns }, 'workload controller failed');
          setTimeout(() => this.mark(ns), 200).unref();
        }
      }
    } finally {
      this.running = false;
    }
  }

  private type(group: string, plural: string) {
    const t = this.core.registry.builtin(group, plural);
    if (!t) throw new Error(`${group}/${plural} is not served`);
    return t;
  }

  private async reconcileNamespace(ns: string): Promise<void> {
    const depT = this.type('apps', 'deployments');
    const rsT = this.type('apps', 'replicasets');
    const podT = this.type('', 'pods');
    const live = (o: Obj) => !o.metadata.deletionTimestamp;
    for (const dep of this.core.list(depT, ns).items.filter(live)) {
      const plan = planDeployment(dep, this.core.list(rsT, ns).items);
      for (const a of plan.actions) {
        if (a.op === 'createReplicaSet') await this.core.create(rsT, 'v1', ns, a.rs, MANAGER);
        else {
          const cur = this.core.get(rsT, ns, a.name);
          await this.core.update(
            rsT,
            'v1',
            ns,
            a.name,
            { ...cur, spec: { ...cur.spec, replicas: a.replicas } },
            MANAGER,
          );
        }
      }
      await this.writeStatus(depT, ns, dep, plan.status);
    }
    for (const rs of this.core.list(rsT, ns).items.filter(live)) {
      const plan = planReplicaSet(rs, this.core.list(podT, ns).items);
      for (const pod of plan.create) await this.core.create(podT, 'v1', ns, pod, MANAGER);
      for (const name of plan.deleteNames) await this.core.delete(podT, ns, name, {});
      await this.writeStatus(rsT, ns, rs, plan.status);
    }
  }

  private async writeStatus(t: ReturnType<WorkloadController['type']>, ns: string, o: Obj, status: Obj): Promise<void> {
    const old = o.status ?? {};
    const conditions = (status.conditions ?? []).map((c: Obj) => {
      const prev = (old.conditions ?? []).find((p: Obj) => p.type === c.type);
      const now = rfc3339(this.core.now());
      const same = prev && prev.status === c.status;
      return {
        ...c,
        lastUpdateTime: same && prev.reason === c.reason ? prev.lastUpdateTime : now,
        lastTransitionTime: same ? prev.lastTransitionTime : now,
      };
    });
    const next = status.conditions ? { ...status, conditions } : status;
    if (JSON.stringify(next) === JSON.stringify(old)) return;
    await this.core.update(
      t,
      'v1',
      ns,
      o.metadata.name,
      { ...o, apiVersion: 'apps/v1', status: next },
      MANAGER,
      'status',
    );
  }
}
