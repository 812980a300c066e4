// Test helpers: ModelServing fixtures and a tiny in-memory cluster that applies plans, so tests can drive
// the pure planner through whole scenarios (scale, rollout, failures) without any I/O.
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { LABEL_GROUP } from './naming.js';
import { type Plan, type PlanInput, planReconcile } from './plan.js';
import type { ModelServing, PodGroup, Role } from './types.js';

/** kubernetes-types marks server-set fields readonly; the fake cluster sets them. */
export const mut = (o: unknown): any => o;

export function role(
  name: string,
  replicas: number,
  workers: number,
  image = 'engine:v1',
  extra: Partial<Role> = {},
): Role {
  const r: Role = {
    name,
    replicas,
    entryTemplate: { spec: { containers: [{ name: 'leader', image }] } },
    workerReplicas: workers,
    ...extra,
  };
  if (workers > 0 || extra.workerTemplate) r.workerTemplate ??= { spec: { containers: [{ name: 'worker', image }] } };
  return r;
}

export function modelServing(
  name: string,
  replicas: number,
  roles: Role[],
  spec: Partial<ModelServing['spec']> = {},
): ModelServing {
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: { name, namespace: 'default', uid: `uid-${name}`, generation: 1 },
    spec: { replicas, schedulerName: 'volcano', template: { roles }, ...spec },
  };
}

export function setImage(ms: ModelServing, roleName: string, image: string): void {
  const r = ms.spec.template.roles.find((x) => x.name === roleName)!;
  r.entryTemplate.spec!.containers[0].image = image;
  if (r.workerTemplate) r.workerTemplate.spec!.containers[0].image = image;
  mut(ms.metadata).generation = (ms.metadata.generation ?? 1) + 1;
}

export interface MiniClusterOptions {
  podGroupCrd?: boolean;
  subGroupPolicy?: boolean;
  /** deletions leave the pod terminating until `finishDeletions()` */
  gracefulDelete?: boolean;
}

export class MiniCluster {
  pods = new Map<string, Pod>();
  services = new Map<string, Service>();
  podGroups = new Map<string, PodGroup>();
  revisions = new Map<string, ControllerRevision>();
  budgets = new Map<string, PodDisruptionBudget>();
  now = Date.parse('2026-01-01T00:00:00Z');
  writes = 0;
  private uid = 0;
  broken = new Set<string>();

  constructor(private readonly opts: MiniClusterOptions = {}) {}

  input(ms: ModelServing): PlanInput {
    return {
      ms,
      pods: [...this.pods.values()],
      services: [...this.services.values()],
      podGroups: [...this.podGroups.values()],
      controllerRevisions: [...this.revisions.values()],
      podDisruptionBudgets: [...this.budgets.values()],
      podGroupCrdServed: this.opts.podGroupCrd ?? false,
      subGroupPolicySupported: this.opts.subGroupPolicy ?? false,
      now: this.now,
      brokenInstances: this.broken,
    };
  }

  plan(ms: ModelServing): Plan {
    return planReconcile(structuredClone(this.input(ms)));
  }

  apply(ms: ModelServing, plan: Plan): void {
    const ts = new Date(this.now).toISOString();
    for (const a of plan.actions) {
      this.writes++;
      switch (a.type) {
        case 'createPod': {
          const pod = structuredClone(a.object);
          mut(pod.metadata).uid = `pod-${++this.uid}`;
          mut(pod.metadata).creationTimestamp = ts;
          mut(pod).status = { phase: 'Pending' };
          if (this.pods.has(pod.metadata!.name!)) throw new Error(`duplicate pod ${pod.metadata!.name}`);
          this.pods.set(pod.metadata!.name!, pod);
          break;
        }
        case 'deletePod': {
          const pod = this.pods.get(a.name);
          if (!pod) break;
          if (this.opts.gracefulDelete) mut(pod.metadata).deletionTimestamp = ts;
          else this.pods.delete(a.name);
          break;
        }
        case 'createService':
          this.services.set(a.object.metadata!.name!, structuredClone(a.object));
          break;
        case 'deleteService':
          this.services.delete(a.name);
          break;
        case 'createPodGroup':
        case 'updatePodGroup':
          this.podGroups.set(a.object.metadata.name, structuredClone(a.object));
          break;
        case 'deletePodGroup':
          this.podGroups.delete(a.name);
          break;
        case 'createControllerRevision':
        case 'updateControllerRevision':
          this.revisions.set(a.object.metadata!.name!, structuredClone(a.object));
          break;
        case 'deleteControllerRevision':
          this.revisions.delete(a.name);
          break;
        case 'createPodDisruptionBudget':
        case 'updatePodDisruptionBudget':
          this.budgets.set(a.object.metadata!.name!, structuredClone(a.object));
          break;
        case 'deletePodDisruptionBudget':
          this.budgets.delete(a.name);
          break;
      }
    }
    if (JSON.stringify(ms.status ?? {}) !== JSON.stringify(plan.status)) this.writes++;
    ms.status = plan.status;
    this.broken.clear();
  }

  /** One reconcile: plan, apply, return the plan. */
  step(ms: ModelServing): Plan {
    const plan = this.plan(ms);
    this.apply(ms, plan);
    return plan;
  }

  finishDeletions(): void {
    for (const [name, pod] of this.pods) if (pod.metadata?.deletionTimestamp) this.pods.delete(name);
  }

  setReady(name: string, ready = true): void {
    const pod = this.pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    mut(pod).status = {
      phase: 'Running',
      conditions: [
        { type: 'Ready', status: ready ? 'True' : 'False', lastTransitionTime: new Date(this.now).toISOString() },
      ],
      containerStatuses: [{ name: 'c', ready, restartCount: 0, image: 'x', imageID: 'x' }],
    };
  }

  readyAll(filter: (p: Pod) => boolean = () => true): void {
    for (const [name, pod] of this.pods) if (!pod.metadata?.deletionTimestamp && filter(pod)) this.setReady(name);
  }

  crash(name: string): void {
    const pod = this.pods.get(name)!;
    mut(pod).status = {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: new Date(this.now).toISOString() }],
      containerStatuses: [
        {
          name: 'c',
          ready: false,
          restartCount: 1,
          image: 'x',
          imageID: 'x',
          state: { waiting: { reason: 'CrashLoopBackOff' } },
        },
      ],
    };
  }

  /** Someone else deletes a pod; the shell's watch would flag its instance. */
  externalDelete(name: string): void {
    const pod = this.pods.get(name)!;
    this.pods.delete(name);
    const labels = pod.metadata!.labels!;
    this.broken.add(`${labels[LABEL_GROUP]}/${labels['modelserving.volcano.sh/role-id']}`);
  }

  /** Reconcile until a plan has no actions (pods made ready after each step when `ready`). */
  converge(ms: ModelServing, opts: { ready?: boolean; max?: number } = {}): number {
    for (let i = 0; i < (opts.max ?? 50); i++) {
      const plan = this.step(ms);
      this.finishDeletions();
      if (opts.ready ?? true) this.readyAll();
      if (plan.actions.length === 0) {
        // one more pass so the status reflects readiness
        const again = this.step(ms);
        if (again.actions.length === 0) return i;
      }
    }
    throw new Error('did not converge');
  }

  podNames(): string[] {
    return [...this.pods.keys()].sort();
  }

  groupsOf(): string[] {
    return [...new Set([...this.pods.values()].map((p) => p.metadata!.labels![LABEL_GROUP]))].sort();
  }
}
