// The I/O shell of the ModelBooster controller: informer events → work queue → workers → generate + plan (pure) →
// API writes → status. Children are found through the informers (label managed-by, indexed by model-uid); a
// foreign object holding a wanted name is only ever read, never written or deleted.
import { type ControllerMetrics, countedApiCall, type Logger } from '../modelserving/controller.js';
import {
  type InformerLike,
  isAlreadyExists,
  isConflict,
  isNotFound,
  type KubeClientLike,
  type WorkQueueLike,
} from '../modelserving/io.js';
import { runWorkers } from '../workers.js';
import { generateChildren } from './children.js';
import {
  BOOSTER_KIND,
  BOOSTER_REFS,
  type BoosterImages,
  DEFAULT_IMAGES,
  LABEL_MODEL_UID,
  WORKLOAD_API,
} from './naming.js';
import {
  CHILD_KINDS,
  type ChildAction,
  type ChildKind,
  nextStatus,
  type Observed,
  ownedBy,
  planChildren,
  sameStatus,
} from './plan.js';
import type { Child, ModelBooster } from './types.js';

export const BY_MODEL_UID = 'model-uid';
export function modelUidIndex(o: Child): string[] {
  const uid = o.metadata?.labels?.[LABEL_MODEL_UID];
  return uid ? [uid] : [];
}

const KIND_REFS: Record<ChildKind, (typeof BOOSTER_REFS)[keyof typeof BOOSTER_REFS]> = {
  modelServing: BOOSTER_REFS.modelServings,
  modelServer: BOOSTER_REFS.modelServers,
  modelRoute: BOOSTER_REFS.modelRoutes,
  autoscalingPolicy: BOOSTER_REFS.autoscalingPolicies,
};

/** The API permissions of this controller (deploy/controller-manager/rbac.yaml must grant them). */
export const BOOSTER_RBAC_RULES: { apiGroups: string[]; resources: string[]; verbs: string[] }[] = [
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['modelboosters'], verbs: ['get', 'list', 'watch'] },
  { apiGroups: ['workload.serving.volcano.sh'], resources: ['modelboosters/status'], verbs: ['update'] },
  {
    apiGroups: ['workload.serving.volcano.sh'],
    resources: ['modelservings', 'autoscalingpolicies'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
  },
  {
    apiGroups: ['networking.serving.volcano.sh'],
    resources: ['modelservers', 'modelroutes'],
    verbs: ['get', 'list', 'watch', 'create', 'update', 'delete'],
  },
  { apiGroups: [''], resources: ['configmaps'], verbs: ['get'] },
];

export interface ModelBoosterControllerOptions {
  client: KubeClientLike;
  modelBoosters: InformerLike<ModelBooster>;
  children: Record<ChildKind, InformerLike<Child>>;
  queue: WorkQueueLike<string>;
  /** downloader and runtime images (the controller's ConfigMap, read at start like upstream) */
  images?: BoosterImages;
  workers?: number;
  now?: () => number;
  log?: Logger;
  metrics?: ControllerMetrics;
}

const silent: Logger = { info() {}, warn() {}, error() {}, debug() {} };
const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

function ownerKey(o: Child): string | undefined {
  const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller && r.kind === BOOSTER_KIND);
  return owner ? `${o.metadata.namespace ?? ''}/${owner.name}` : undefined;
}

export class ModelBoosterController {
  readonly name = 'modelbooster';
  private readonly log: Logger;
  private readonly now: () => number;
  private readonly images: BoosterImages;
  /** resourceVersion of our last write per child: a server-defaulted copy of it is not a hand edit */
  private readonly lastWrites = new Map<string, string>();
  /** last failure logged per booster, so a standing conflict is logged once */
  private readonly reported = new Map<string, string>();

  constructor(private readonly o: ModelBoosterControllerOptions) {
    this.log = o.log ?? silent;
    this.now = o.now ?? Date.now;
    this.images = o.images ?? DEFAULT_IMAGES;
    const add = (k: string | undefined) => k && o.queue.add(k);
    o.modelBoosters.on('add', (b) => add(keyOf(b)));
    o.modelBoosters.on('update', (a, b) => {
      // our own status writes come back as updates: only spec (generation), annotations or a resync matter
      if (
        a === b ||
        a.metadata.generation !== b.metadata.generation ||
        JSON.stringify(a.metadata.annotations ?? {}) !== JSON.stringify(b.metadata.annotations ?? {}) ||
        b.status?.observedGeneration !== b.metadata.generation
      )
        add(keyOf(b));
    });
    o.modelBoosters.on('delete', (b) => this.reported.delete(keyOf(b)));
    for (const inf of Object.values(o.children)) {
      inf.on('add', (c) => add(ownerKey(c)));
      inf.on('update', (_a, c) => add(ownerKey(c)));
      inf.on('delete', (c) => add(ownerKey(c)));
    }
  }

  enqueueAll(): void {
    for (const b of this.o.modelBoosters.list()) this.o.queue.add(keyOf(b));
  }

  run(signal: AbortSignal): Promise<void> {
    return runWorkers(this.o.queue, this.o.workers, signal, (key) => this.process(key));
  }

  private async process(key: string): Promise<void> {
    const t0 = performance.now();
    try {
      const converged = await this.reconcile(key);
      if (converged) this.o.queue.forget(key);
      else this.o.queue.addRateLimited(key);
      this.o.metrics?.reconcile(converged ? 'success' : 'requeue', (performance.now() - t0) / 1000);
    } catch (err) {
      this.log.error({ key, err: (err as Error).message }, 'modelbooster reconcile failed');
      this.o.metrics?.reconcile('error', (performance.now() - t0) / 1000);
      this.o.queue.addRateLimited(key);
    }
  }

  /** One reconcile of one booster; false when it must be retried (a failure is in its status). Exposed for tests. */
  async reconcile(key: string): Promise<boolean> {
    const i = key.indexOf('/');
    const [ns, name] = [key.slice(0, i), key.slice(i + 1)];
    const mb = this.o.modelBoosters.get(ns, name);
    if (!mb || mb.metadata.deletionTimestamp) return true; // the garbage collector removes the children
    let failure: string | undefined;
    try {
      const wanted = generateChildren(mb, this.images);
      const observed = this.observe(mb, ns, wanted);
      const plan = planChildren(mb, wanted, observed, (c) => this.isOurLastWrite(c));
      const problems = [...plan.conflicts];
      for (const a of plan.actions) {
        const p = await this.apply(mb, a);
        if (p) problems.push(p);
      }
      failure = problems.length ? problems.join('; ') : undefined;
    } catch (err) {
      failure = (err as Error).message;
    }
    if (failure && this.reported.get(key) !== failure) this.log.warn({ key, failure }, 'modelbooster not converged');
    if (failure) this.reported.set(key, failure);
    else this.reported.delete(key);
    await this.writeStatus(mb, failure);
    return failure === undefined;
  }

  private observe(mb: ModelBooster, ns: string, wanted: ReturnType<typeof generateChildren>): Observed {
    const uid = mb.metadata.uid ?? '';
    const out = {} as Observed;
    for (const kind of CHILD_KINDS) {
      const inf = this.o.children[kind];
      const want = wanted[kind];
      out[kind] = {
        labelled: inf.byIndex(BY_MODEL_UID, uid),
        named: want ? inf.get(ns, want.metadata.name) : undefined,
      };
    }
    return out;
  }

  private writeKey(kind: ChildKind, ns: string | undefined, name: string) {
    return `${kind}/${ns ?? ''}/${name}`;
  }

  private isOurLastWrite(c: Child): boolean {
    const kind = CHILD_KINDS.find((k) => KIND_REFS[k].kind === c.kind);
    if (!kind) return false;
    return (
      this.lastWrites.get(this.writeKey(kind, c.metadata.namespace, c.metadata.name)) === c.metadata.resourceVersion
    );
  }

  /** Applies one action; returns a problem to report (a foreign object in the way), throws on other API errors. */
  private async apply(mb: ModelBooster, a: ChildAction): Promise<string | undefined> {
    const ref = KIND_REFS[a.kind];
    const c = this.o.client;
    const ns = mb.metadata.namespace;
    if (a.type === 'delete') {
      await this.call('delete', ref, () => c.delete(ref, a.name, ns, { preconditions: { uid: a.uid } })).catch(
        (err: unknown) => {
          if (!isNotFound(err) && !isConflict(err)) throw err;
        },
      );
      return undefined;
    }
    const wk = this.writeKey(a.kind, ns, a.object.metadata.name);
    if (a.type === 'replace') {
      const out = await this.call('update', ref, () => c.replace<Child>(ref, a.object));
      if (out.metadata?.resourceVersion) this.lastWrites.set(wk, out.metadata.resourceVersion);
      return undefined;
    }
    try {
      const out = await this.call('create', ref, () => c.create<Child>(ref, a.object, { namespace: ns }));
      if (out.metadata?.resourceVersion) this.lastWrites.set(wk, out.metadata.resourceVersion);
      return undefined;
    } catch (err) {
      if (!isAlreadyExists(err)) throw err;
    }
    // The name is taken by an object our informers do not see (not labelled as ours): read it, never touch it.
    const live = await this.call('get', ref, () => c.get<Child>(ref, a.object.metadata.name, ns));
    if (ownedBy(live, mb.metadata.uid)) return undefined; // ours; the cache had not caught up
    const owner = (live.metadata.ownerReferences ?? []).find((r) => r.controller);
    return (
      `${ref.kind} ${ns ?? ''}/${live.metadata.name} already exists and is owned by ` +
      `${owner ? `${owner.kind} ${owner.name}` : 'no controller'}, not by this ModelBooster: ` +
      "delete or rename it, or rename the booster's backend"
    );
  }

  private async writeStatus(mb: ModelBooster, failure: string | undefined): Promise<void> {
    const ms = this.o.children.modelServing.get(
      mb.metadata.namespace,
      `${mb.metadata.name}-${mb.spec.backend?.name ?? ''}`,
    ) as (Child & { status?: { conditions?: { type: string; status: string }[] } }) | undefined;
    const servingAvailable =
      !!ms &&
      ownedBy(ms, mb.metadata.uid) &&
      (ms.status?.conditions ?? []).some((c) => c.type === 'Available' && c.status === 'True');
    const status = nextStatus(mb, {
      servingAvailable,
      failure,
      now: new Date(this.now()).toISOString().replace(/\.\d+Z$/, 'Z'),
    });
    if (sameStatus(mb.status, status)) return;
    const ref = BOOSTER_REFS.modelBoosters;
    const body = { ...mb, apiVersion: mb.apiVersion ?? WORKLOAD_API, kind: BOOSTER_KIND, status };
    await this.call('update', ref, () => this.o.client.replace(ref, body, { subresource: 'status' })).catch(
      (err: unknown) => {
        // changed or gone meanwhile: the watch brings the next version and another reconcile
        if (!isConflict(err) && !isNotFound(err)) throw err;
        this.o.queue.addAfter(keyOf(mb), 100);
      },
    );
  }

  private call<T>(verb: string, r: { plural: string } & Parameters<typeof countedApiCall>[2], fn: () => Promise<T>) {
    return countedApiCall(this.o.metrics, verb, r, fn);
  }
}
