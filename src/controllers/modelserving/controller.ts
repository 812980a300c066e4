// The I/O shell of the ModelServing controller: informer events → work queue → N workers → plan (pure) →
// API writes. Everything it keeps in memory is an optimisation or an edge signal, never the truth:
//  - expectations: writes issued but not yet seen in the cache (so a stale cache is not acted on);
//  - pod deletions seen on the watch that were not ours (the RoleRecreate / ServingGroupRecreate trigger; after
//    a restart the planner also infers them from what is left of an instance).
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import { runWorkers } from '../workers.js';
import { withDefaults } from './api-compat.js';
import {
  type InformerLike,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeClientLike,
  type ObjectLike,
  type ResourceRefLike,
  type StoreLike,
  type WorkQueueLike,
} from './io.js';
import { API_VERSION, KIND, LABEL_GROUP, LABEL_NAME, LABEL_ROLE_ID } from './naming.js';
import { type Action, instanceKey, type Plan, type PlanEvent, planReconcile } from './plan.js';
import type { PluginFactory } from './plugins/types.js';
import { statusEqual } from './status.js';
import type { ControllerRevision, ModelServing, PodDisruptionBudget, PodGroup } from './types.js';

const ref = (group: string, version: string, plural: string, kind: string): ResourceRefLike =>
  Object.freeze({ group, version, plural, kind, namespaced: true });
export const REFS = {
  modelServings: ref('workload.serving.volcano.sh', 'v1alpha1', 'modelservings', 'ModelServing'),
  pods: ref('', 'v1', 'pods', 'Pod'),
  services: ref('', 'v1', 'services', 'Service'),
  podGroups: ref('scheduling.volcano.sh', 'v1beta1', 'podgroups', 'PodGroup'),
  controllerRevisions: ref('apps', 'v1', 'controllerrevisions', 'ControllerRevision'),
  podDisruptionBudgets: ref('policy', 'v1', 'poddisruptionbudgets', 'PodDisruptionBudget'),
  events: ref('', 'v1', 'events', 'Event'),
} as const;

/**
 * The API permissions this controller needs, and no more (deploy/controller-manager/rbac.yaml must say the
 * same; a test keeps them equal, another checks every call the controller makes is covered).
 */
export const RBAC_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  // create/update: the LeaderWorkerSet adapter (lws-controller.ts) writes the ModelServing of each LWS
  {
    apiGroups: ['workload.serving.volcano.sh'],
    resources: ['modelservings'],
    verbs: ['list', 'watch', 'create', 'update'],
  },
  { apiGroups: ['leaderworkerset.x-k8s.io'], resources: ['leaderworkersets'], verbs: ['list', 'watch'] },
  { apiGroups: ['leaderworkerset.x-k8s.io'], resources: ['leaderworkersets/status'], verbs: ['update'] },
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['modelservings/status'], verbs: ['update'] },
  { apiGroups: [''], resources: ['pods'], verbs: ['list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['services'], verbs: ['list', 'watch', 'create', 'delete'] },
  { apiGroups: [''], resources: ['events'], verbs: ['create'] },
  {
    apiGroups: ['apps'],
    resources: ['controllerrevisions'],
    verbs: ['list', 'watch', 'create', 'update', 'delete'],
  },
  {
    apiGroups: ['scheduling.volcano.sh'],
    resources: ['podgroups'],
    verbs: ['list', 'watch', 'create', 'update', 'delete'],
  },
  {
    apiGroups: ['policy'],
    resources: ['poddisruptionbudgets'],
    verbs: ['list', 'watch', 'create', 'update', 'delete'],
  },
  { apiGroups: ['apiextensions.k8s.io'], resources: ['customresourcedefinitions'], verbs: ['get'] },
];

/** Index of children by owning ModelServing key (`ns/name`), from the name label every child carries. */
export const BY_MODELSERVING = 'modelserving';
export function modelServingIndex(o: ObjectLike): string[] {
  const name = o.metadata?.labels?.[LABEL_NAME];
  return name ? [`${o.metadata?.namespace ?? ''}/${name}`] : [];
}
/** Label selector for the child informers: only objects that belong to some ServingGroup or ModelServing. */
export const CHILD_SELECTOR = LABEL_NAME;

export interface ControllerMetrics {
  reconcile(result: 'success' | 'error' | 'requeue' | 'skipped', seconds: number): void;
  apiRequest(verb: string, resource: string, ok: boolean): void;
}

/** Runs one API call and counts it (verb, resource, success) in the controller's metrics. */
export async function countedApiCall<T>(
  metrics: ControllerMetrics | undefined,
  verb: string,
  r: ResourceRefLike,
  fn: () => Promise<T>,
): Promise<T> {
  try {
    const v = await fn();
    metrics?.apiRequest(verb, r.plural, true);
    return v;
  } catch (err) {
    metrics?.apiRequest(verb, r.plural, false);
    throw err;
  }
}

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface ModelServingControllerOptions {
  client: KubeClientLike;
  modelServings: InformerLike<ModelServing>;
  pods: InformerLike<Pod>;
  services: InformerLike<Service>;
  controllerRevisions: InformerLike<ControllerRevision>;
  /** present when the Volcano PodGroup CRD is served */
  podGroups?: InformerLike<PodGroup>;
  /** present when policy/v1 PodDisruptionBudgets are served (eviction budgets) */
  podDisruptionBudgets?: InformerLike<PodDisruptionBudget>;
  subGroupPolicySupported?: boolean;
  queue: WorkQueueLike<string>;
  workers?: number;
  now?: () => number;
  log?: Logger;
  metrics?: ControllerMetrics;
  plugins?: ReadonlyMap<string, PluginFactory>;
  /** how long unfulfilled expectations hold a ModelServing back before we trust the cache anyway */
  expectationTimeoutMs?: number;
  /** max concurrent pod creations per reconcile */
  createConcurrency?: number;
}

interface Expectation {
  creates: Set<string>;
  deletes: Map<string, string | undefined>;
  at: number;
}

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };

function ownerKey(o: ObjectLike): string | undefined {
  const owner = (o.metadata?.ownerReferences ?? []).find((r) => r.kind === KIND && r.controller);
  if (!owner?.apiVersion.startsWith('workload.serving.volcano.sh/')) return undefined;
  return `${o.metadata?.namespace ?? ''}/${owner.name}`;
}

function splitKey(key: string): { namespace: string; name: string } {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
}

export class ModelServingController {
  readonly name = 'modelserving';
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly expectations = new Map<string, Expectation>();
  private readonly brokenInstances = new Map<string, Set<string>>();
  /** UIDs of pods we deleted and whose DELETED event has not arrived yet */
  private readonly ourDeletes = new Set<string>();
  /** the server dropped status.servingGroups once (a CRD without it): compare without it from then on */
  private statusPrunesGroups = false;

  constructor(private readonly o: ModelServingControllerOptions) {
    this.log = o.log ?? silent;
    this.now = o.now ?? Date.now;
    this.register();
  }

  private enqueue(key: string | undefined): void {
    if (key) this.o.queue.add(key);
  }

  private register(): void {
    const ms = this.o.modelServings;
    ms.on('add', (m) => this.enqueue(this.keyOf(m)));
    ms.on('update', (a, b) => {
      // Our own status writes come back as updates: only spec, annotations, labels or deletion matter.
      if (
        a.metadata?.generation !== b.metadata?.generation ||
        JSON.stringify(a.metadata?.annotations ?? {}) !== JSON.stringify(b.metadata?.annotations ?? {}) ||
        a.metadata?.deletionTimestamp !== b.metadata?.deletionTimestamp ||
        a.metadata?.uid !== b.metadata?.uid ||
        a === b // periodic resync
      )
        this.enqueue(this.keyOf(b));
    });
    ms.on('delete', (m) => {
      const key = this.keyOf(m);
      this.expectations.delete(key);
      this.brokenInstances.delete(key);
    });
    const child = (o: ObjectLike) => this.enqueue(ownerKey(o));
    for (const inf of [
      this.o.pods,
      this.o.services,
      this.o.podGroups,
      this.o.controllerRevisions,
      this.o.podDisruptionBudgets,
    ] as (InformerLike<ObjectLike> | undefined)[]) {
      if (!inf) continue;
      inf.on('add', child);
      inf.on('update', (_a, b) => child(b));
      inf.on('delete', child);
    }
    this.o.pods.on('delete', (p) => this.podDeleted(p));
  }

  private keyOf(m: ObjectLike): string {
    return `${m.metadata?.namespace ?? ''}/${m.metadata?.name ?? ''}`;
  }

  /** A pod of ours vanished: if we did not delete it, its role instance is broken (recovery policy applies). */
  private podDeleted(p: Pod): void {
    const key = ownerKey(p);
    const uid = p.metadata?.uid ?? '';
    if (!key) return;
    if (this.ourDeletes.delete(uid)) return;
    const labels = p.metadata?.labels ?? {};
    if (!labels[LABEL_GROUP] || !labels[LABEL_ROLE_ID]) return;
    const set = this.brokenInstances.get(key) ?? new Set<string>();
    set.add(instanceKey(labels[LABEL_GROUP], labels[LABEL_ROLE_ID]));
    this.brokenInstances.set(key, set);
  }

  /** Have the writes we made for this ModelServing shown up in the cache? */
  private expectationsMet(key: string): boolean {
    const e = this.expectations.get(key);
    if (!e) return true;
    const { namespace } = splitKey(key);
    for (const name of e.creates) if (this.o.pods.get(namespace, name)) e.creates.delete(name);
    for (const [name, uid] of e.deletes) {
      const p = this.o.pods.get(namespace, name);
      if (!p || p.metadata?.deletionTimestamp || (uid && p.metadata?.uid !== uid)) e.deletes.delete(name);
    }
    if ((e.creates.size === 0 && e.deletes.size === 0) || this.now() - e.at > (this.o.expectationTimeoutMs ?? 30_000)) {
      this.expectations.delete(key);
      return true;
    }
    return false;
  }

  /** Runs N workers until the signal aborts (then the queue is shut down and workers drain). */
  run(signal: AbortSignal): Promise<void> {
    return runWorkers(this.o.queue, this.o.workers, signal, (key) => this.process(key));
  }

  /** Enqueue every ModelServing (after the caches synced, like upstream's syncAll). */
  enqueueAll(): void {
    for (const m of this.o.modelServings.list()) this.enqueue(this.keyOf(m));
  }

  private async process(key: string): Promise<void> {
    const t0 = performance.now();
    try {
      const result = await this.reconcile(key);
      this.o.metrics?.reconcile(result, (performance.now() - t0) / 1000);
    } catch (err) {
      // One object failing never stops the others: log, back off this key, carry on.
      this.log.error({ key, err: (err as Error).message }, 'reconcile failed');
      this.o.metrics?.reconcile('error', (performance.now() - t0) / 1000);
      this.o.queue.addRateLimited(key);
    }
  }

  /** One reconcile of one ModelServing. Exposed for tests. */
  async reconcile(key: string): Promise<'success' | 'requeue' | 'skipped'> {
    const { namespace, name } = splitKey(key);
    const obj = this.o.modelServings.get(namespace, name);
    if (!obj) {
      this.expectations.delete(key);
      this.brokenInstances.delete(key);
      this.o.queue.forget(key);
      return 'skipped';
    }
    if (obj.metadata.deletionTimestamp) return 'skipped'; // garbage collection removes the children
    if (!this.expectationsMet(key)) {
      this.o.queue.addAfter(key, 1000);
      return 'skipped';
    }
    const ms = withDefaults(obj);
    const byMs = <T>(s: StoreLike<T> | undefined) => (s ? s.byIndex(BY_MODELSERVING, key) : []);
    const broken = this.brokenInstances.get(key);
    this.brokenInstances.delete(key);
    const plan = planReconcile({
      ms,
      pods: byMs(this.o.pods),
      services: byMs(this.o.services),
      podGroups: byMs(this.o.podGroups),
      controllerRevisions: byMs(this.o.controllerRevisions),
      podGroupCrdServed: this.o.podGroups !== undefined,
      podDisruptionBudgets: this.o.podDisruptionBudgets ? byMs(this.o.podDisruptionBudgets) : undefined,
      subGroupPolicySupported: this.o.subGroupPolicySupported ?? false,
      now: this.now(),
      brokenInstances: broken,
      plugins: this.o.plugins,
    });
    const errors = await this.execute(key, ms, plan);
    await this.emitEvents(obj, plan.events);
    try {
      await this.writeStatus(obj, plan);
    } catch (err) {
      if (isConflict(err) || isNotFound(err)) {
        this.o.queue.addAfter(key, 100);
      } else errors.push(err);
    }
    if (errors.length > 0) {
      // Put back what the watch told us, so a failed pass does not lose a recovery trigger.
      if (broken) this.brokenInstances.set(key, new Set([...broken, ...(this.brokenInstances.get(key) ?? [])]));
      throw new AggregateError(errors, `${key}: ${errors.length} write(s) failed: ${(errors[0] as Error).message}`);
    }
    this.o.queue.forget(key);
    if (plan.requeueAfterMs !== undefined) {
      this.o.queue.addAfter(key, plan.requeueAfterMs);
      return 'requeue';
    }
    return 'success';
  }

  private call<T>(verb: string, r: ResourceRefLike, fn: () => Promise<T>): Promise<T> {
    return countedApiCall(this.o.metrics, verb, r, fn);
  }

  private async execute(key: string, ms: ModelServing, plan: Plan): Promise<unknown[]> {
    const ns = ms.metadata.namespace ?? 'default';
    const errors: unknown[] = [];
    const exp: Expectation = { creates: new Set(), deletes: new Map(), at: this.now() };
    for (const a of plan.actions) {
      if (a.type === 'createPod') exp.creates.add(a.object.metadata?.name ?? '');
      if (a.type === 'deletePod') exp.deletes.set(a.name, a.uid);
    }
    if (exp.creates.size > 0 || exp.deletes.size > 0) this.expectations.set(key, exp);
    const run = async (a: Action) => {
      try {
        await this.apply(ns, a);
      } catch (err) {
        if (a.type === 'createPod') exp.creates.delete(a.object.metadata?.name ?? '');
        if (a.type === 'deletePod') exp.deletes.delete(a.name);
        errors.push(err);
        this.log.warn({ key, action: a.type, err: (err as Error).message }, 'write failed');
      }
    };
    // Consecutive pod creations go out in parallel (bounded); everything else in plan order.
    const limit = Math.max(1, this.o.createConcurrency ?? 8);
    let i = 0;
    while (i < plan.actions.length) {
      const a = plan.actions[i];
      if (a.type !== 'createPod') {
        await run(a);
        i++;
        continue;
      }
      let j = i;
      while (j < plan.actions.length && plan.actions[j].type === 'createPod') j++;
      const batch = plan.actions.slice(i, j);
      for (let k = 0; k < batch.length; k += limit) await Promise.all(batch.slice(k, k + limit).map(run));
      i = j;
    }
    return errors;
  }

  private async apply(ns: string, a: Action): Promise<void> {
    const c = this.o.client;
    const ignore = (pred: (e: unknown) => boolean) => (err: unknown) => {
      if (!pred(err)) throw err;
    };
    switch (a.type) {
      case 'createPod':
        await this.call('create', REFS.pods, () => c.create(REFS.pods, a.object, { namespace: ns })).catch(
          ignore(isAlreadyExists),
        );
        return;
      case 'deletePod':
        if (a.uid) this.ourDeletes.add(a.uid);
        await this.call('delete', REFS.pods, () =>
          c.delete(REFS.pods, a.name, ns, { preconditions: a.uid ? { uid: a.uid } : undefined }),
        ).catch((err: unknown) => {
          if (a.uid) this.ourDeletes.delete(a.uid);
          // gone already, or a different pod now has the name (precondition failed): nothing to do
          if (!isNotFound(err) && !isConflict(err)) throw err;
        });
        return;
      case 'createService':
        await this.call('create', REFS.services, () => c.create(REFS.services, a.object, { namespace: ns })).catch(
          ignore(isAlreadyExists),
        );
        return;
      case 'deleteService':
        await this.call('delete', REFS.services, () => c.delete(REFS.services, a.name, ns)).catch(ignore(isNotFound));
        return;
      case 'createPodGroup':
        await this.call('create', REFS.podGroups, () => c.create(REFS.podGroups, a.object, { namespace: ns })).catch(
          ignore(isAlreadyExists),
        );
        return;
      case 'updatePodGroup':
        await this.call('update', REFS.podGroups, () => c.replace(REFS.podGroups, a.object));
        return;
      case 'deletePodGroup':
        await this.call('delete', REFS.podGroups, () => c.delete(REFS.podGroups, a.name, ns)).catch(ignore(isNotFound));
        return;
      case 'createControllerRevision':
        await this.call('create', REFS.controllerRevisions, () =>
          c.create(REFS.controllerRevisions, a.object, { namespace: ns }),
        ).catch(ignore(isAlreadyExists));
        return;
      case 'updateControllerRevision':
        // resourceVersion in the object: a concurrent change fails with a conflict and the reconcile retries.
        await this.call('update', REFS.controllerRevisions, () => c.replace(REFS.controllerRevisions, a.object));
        return;
      case 'createPodDisruptionBudget':
        await this.call('create', REFS.podDisruptionBudgets, () =>
          c.create(REFS.podDisruptionBudgets, a.object, { namespace: ns }),
        ).catch(ignore(isAlreadyExists));
        return;
      case 'updatePodDisruptionBudget':
        await this.call('update', REFS.podDisruptionBudgets, () => c.replace(REFS.podDisruptionBudgets, a.object));
        return;
      case 'deletePodDisruptionBudget':
        await this.call('delete', REFS.podDisruptionBudgets, () =>
          c.delete(REFS.podDisruptionBudgets, a.name, ns),
        ).catch(ignore(isNotFound));
        return;
      case 'deleteControllerRevision':
        await this.call('delete', REFS.controllerRevisions, () => c.delete(REFS.controllerRevisions, a.name, ns)).catch(
          ignore(isNotFound),
        );
        return;
    }
  }

  private async writeStatus(obj: ModelServing, plan: Plan): Promise<void> {
    const strip = (s: ModelServing['status']) => {
      if (!s || !this.statusPrunesGroups) return s;
      const { servingGroups: _g, ...rest } = s;
      return rest;
    };
    if (statusEqual(strip(obj.status), strip(plan.status))) return;
    const body = { apiVersion: API_VERSION, kind: KIND, metadata: obj.metadata, spec: obj.spec, status: plan.status };
    const stored = await this.call('update', REFS.modelServings, () =>
      this.o.client.replace<ModelServing>(REFS.modelServings, body, { subresource: 'status' }),
    );
    if (plan.status.servingGroups && stored?.status && stored.status.servingGroups === undefined) {
      if (!this.statusPrunesGroups)
        this.log.warn(
          {},
          'the ModelServing CRD prunes status.servingGroups; role-level status and restart back-off are not persisted',
        );
      this.statusPrunesGroups = true;
    }
  }

  private async emitEvents(obj: ModelServing, events: PlanEvent[]): Promise<void> {
    const ns = obj.metadata.namespace ?? 'default';
    const ts = new Date(this.now()).toISOString();
    for (const ev of events) {
      const event = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: {
          name: `${obj.metadata.name}.${this.now().toString(16)}${Math.random().toString(16).slice(2, 8)}`,
          namespace: ns,
        },
        involvedObject: {
          apiVersion: API_VERSION,
          kind: KIND,
          name: obj.metadata.name,
          namespace: ns,
          uid: obj.metadata.uid,
          resourceVersion: obj.metadata.resourceVersion,
        },
        reason: ev.reason,
        message: ev.message,
        type: ev.type,
        source: { component: 'modelserving-controller' },
        reportingComponent: 'modelserving-controller',
        firstTimestamp: ts,
        lastTimestamp: ts,
        count: 1,
      };
      // Events are best effort: a failure is logged, never fails the reconcile.
      await this.call('create', REFS.events, () => this.o.client.create(REFS.events, event, { namespace: ns })).catch(
        (err: unknown) => this.log.debug({ err: (err as Error).message }, 'event not recorded'),
      );
    }
  }
}
