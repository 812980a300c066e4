// The LeaderWorkerSet adapter's I/O shell: watches LeaderWorkerSets and the ModelServings they own, and applies
// the pure decisions of lws.ts (create/replace the ModelServing, write the LWS status). One worker, like
// upstream. Started by the controller manager only when leaderworkerset.x-k8s.io/v1 is served.
import { type ControllerMetrics, countedApiCall, type Logger } from './controller.js';
import type { InformerLike, KubeClientLike, ResourceRefLike, WorkQueueLike } from './io.js';
import { isAlreadyExists, isConflict, isNotFound } from './io.js';
import { decideModelServing, type LeaderWorkerSet, LWS_KIND, lwsStatusFor } from './lws.js';
import type { ModelServing } from './types.js';

export const LWS_REF: ResourceRefLike = Object.freeze({
  group: 'leaderworkerset.x-k8s.io',
  version: 'v1',
  plural: 'leaderworkersets',
  kind: LWS_KIND,
  namespaced: true,
});

export interface LwsControllerOptions {
  client: KubeClientLike;
  leaderWorkerSets: InformerLike<LeaderWorkerSet>;
  modelServings: InformerLike<ModelServing>;
  modelServingRef: ResourceRefLike;
  queue: WorkQueueLike<string>;
  log: Logger;
  metrics?: ControllerMetrics;
}

const keyOf = (o: { metadata?: { namespace?: string; name?: string } }) =>
  `${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;

export class LwsController {
  readonly name = 'lws';
  /** the last conflict reported per key, so a same-named foreign ModelServing is logged once, not per resync */
  private readonly reported = new Map<string, string>();

  constructor(private readonly o: LwsControllerOptions) {
    const add = (k: string | undefined) => k && o.queue.add(k);
    o.leaderWorkerSets.on('add', (l) => add(keyOf(l)));
    o.leaderWorkerSets.on('update', (_a, b) => add(keyOf(b)));
    o.leaderWorkerSets.on('delete', (l) => this.reported.delete(keyOf(l)));
    const owner = (m: ModelServing) => {
      const ref = (m.metadata.ownerReferences ?? []).find((r) => r.kind === LWS_KIND && r.controller);
      return ref ? `${m.metadata.namespace ?? ''}/${ref.name}` : undefined;
    };
    o.modelServings.on('add', (m) => add(owner(m)));
    o.modelServings.on('update', (_a, b) => add(owner(b)));
    o.modelServings.on('delete', (m) => add(owner(m)));
  }

  enqueueAll(): void {
    for (const l of this.o.leaderWorkerSets.list()) this.o.queue.add(keyOf(l));
  }

  async run(signal: AbortSignal): Promise<void> {
    const stop = () => this.o.queue.shutDown();
    if (signal.aborted) stop();
    else signal.addEventListener('abort', stop, { once: true });
    for (;;) {
      const key = await this.o.queue.get();
      if (key === undefined) break;
      const t0 = performance.now();
      try {
        await this.reconcile(key);
        this.o.queue.forget(key);
        this.o.metrics?.reconcile('success', (performance.now() - t0) / 1000);
      } catch (err) {
        this.o.log.error({ key, err: (err as Error).message }, 'lws reconcile failed');
        this.o.metrics?.reconcile('error', (performance.now() - t0) / 1000);
        this.o.queue.addRateLimited(key);
      } finally {
        this.o.queue.done(key);
      }
    }
    signal.removeEventListener('abort', stop);
  }

  /** One reconcile of one LeaderWorkerSet. Exposed for tests. */
  async reconcile(key: string): Promise<void> {
    const i = key.indexOf('/');
    const [ns, name] = [key.slice(0, i), key.slice(i + 1)];
    const lws = this.o.leaderWorkerSets.get(ns, name);
    if (!lws || lws.metadata.deletionTimestamp) return; // the garbage collector removes the ModelServing
    const existing = this.o.modelServings.get(ns, name);
    const d = decideModelServing(lws, existing);
    const c = this.o.client;
    const ref = this.o.modelServingRef;
    if (d.type === 'conflict') {
      if (this.reported.get(key) !== d.message) this.o.log.warn({ key }, d.message);
      this.reported.set(key, d.message);
      return;
    }
    this.reported.delete(key);
    if (d.type === 'create') {
      await this.call('create', ref, () => c.create(ref, d.object, { namespace: ns })).catch((err: unknown) => {
        if (!isAlreadyExists(err)) throw err;
      });
      return; // its status comes later, with the ModelServing's own events
    }
    if (d.type === 'update') await this.call('update', ref, () => c.replace(ref, d.object));
    const status = lwsStatusFor(lws, existing);
    if (status) {
      const body = { ...lws, apiVersion: 'leaderworkerset.x-k8s.io/v1', kind: LWS_KIND, status };
      await this.call('update', LWS_REF, () => c.replace(LWS_REF, body, { subresource: 'status' })).catch(
        (err: unknown) => {
          // changed or gone meanwhile: the watch brings the next version
          if (!isConflict(err) && !isNotFound(err)) throw err;
          this.o.queue.addAfter(key, 100);
        },
      );
    }
  }

  private call<T>(verb: string, r: ResourceRefLike, fn: () => Promise<T>): Promise<T> {
    return countedApiCall(this.o.metrics, verb, r, fn);
  }
}
