// In-process controllers that kube-controller-manager runs on a real cluster: the garbage collector
// (ownerReferences; background, foreground, orphan), the namespace controller, CRD instance cleanup,
// event expiry and node lifecycle (lease expiry → Ready=Unknown + unreachable taint).
// They observe the store's event stream and act only through ApiCore (the public semantics).
import type { Logger } from 'pino';
import type { ApiCore } from './core.js';
import { ApiError } from './errors.js';
import type { StoreEvent } from './store.js';
import type { ResourceType } from './types.js';
import { clone, type Obj, rfc3339 } from './util.js';

const CRD_RK = 'apiextensions.k8s.io/customresourcedefinitions';
const NS_RK = '/namespaces';
const CRD_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';
const MANAGER = { fieldManager: 'kube-controller-manager' };

interface Ref {
  rk: string;
  key: string;
}

export interface ControllerOptions {
  log?: Logger;
  eventTtlMs?: number;
  nodeMonitorPeriodMs?: number;
  /** How long a node's Lease may go unrenewed before the node is marked Unknown. */
  nodeGraceMs?: number;
}

export class Controllers {
  private readonly byUid = new Map<string, Ref>();
  private readonly dependents = new Map<string, Set<string>>();
  private readonly queue = new Map<string, { kind: 'dep' | 'owner' | 'ns' | 'crd'; ref: Ref; tries: number }>();
  private timer: NodeJS.Timeout | undefined;
  private readonly periodic: NodeJS.Timeout[] = [];
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly core: ApiCore,
    private readonly opts: ControllerOptions = {},
  ) {}

  start(): void {
    const store = this.core.store;
    for (const rk of store.resourceKeys()) {
      for (const o of store.list(rk)) {
        const key = `${o.metadata.namespace ?? ''}/${o.metadata.name}`;
        this.index(rk, key, o, undefined);
        this.consider({ rv: 0, type: 'ADDED', rk, key, obj: o });
      }
    }
    this.unsubscribe = store.subscribe((ev) => {
      this.index(
        ev.rk,
        ev.key,
        ev.type === 'DELETED' ? undefined : ev.obj,
        ev.old ?? (ev.type === 'DELETED' ? ev.obj : undefined),
      );
      this.consider(ev);
    });
    const ttl = this.opts.eventTtlMs ?? 3600_000;
    this.periodic.push(setInterval(() => void this.expireEvents(ttl), Math.min(60_000, ttl)));
    this.periodic.push(setInterval(() => void this.monitorNodes(), this.opts.nodeMonitorPeriodMs ?? 5000));
    // Terminating namespaces wait on other actors (kubelet, finalizers); re-check them now and then.
    this.periodic.push(
      setInterval(() => {
        for (const n of store.list(NS_RK))
          if (n.metadata.deletionTimestamp) this.enqueue('ns', NS_RK, `/${n.metadata.name}`);
      }, 2000),
    );
    for (const p of this.periodic) p.unref();
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    for (const p of this.periodic) clearInterval(p);
    if (this.timer) clearTimeout(this.timer);
  }

  private index(rk: string, key: string, obj: Obj | undefined, old: Obj | undefined): void {
    const id = `${rk}\u0000${key}`;
    if (old) {
      for (const r of old.metadata.ownerReferences ?? []) this.dependents.get(r.uid)?.delete(id);
      if (!obj) this.byUid.delete(old.metadata.uid);
    }
    if (obj) {
      this.byUid.set(obj.metadata.uid, { rk, key });
      for (const r of obj.metadata.ownerReferences ?? []) {
        if (!r || typeof r.uid !== 'string') continue;
        let s = this.dependents.get(r.uid);
        if (!s) {
          s = new Set();
          this.dependents.set(r.uid, s);
        }
        s.add(id);
      }
    }
  }

  private consider(ev: StoreEvent): void {
    const o = ev.obj;
    const m = o.metadata;
    if (ev.type !== 'DELETED') {
      if ((m.ownerReferences ?? []).length > 0) this.enqueue('dep', ev.rk, ev.key);
      const f: string[] = m.finalizers ?? [];
      if (m.deletionTimestamp && (f.includes('orphan') || f.includes('foregroundDeletion')))
        this.enqueue('owner', ev.rk, ev.key);
      if (ev.rk === NS_RK && m.deletionTimestamp) this.enqueue('ns', ev.rk, ev.key);
      if (ev.rk === CRD_RK && m.deletionTimestamp && f.includes(CRD_FINALIZER)) this.enqueue('crd', ev.rk, ev.key);
    } else {
      for (const id of this.dependents.get(m.uid) ?? []) {
        const [rk, key] = id.split('\u0000');
        this.enqueue('dep', rk, key);
      }
      for (const r of m.ownerReferences ?? []) {
        const owner = this.byUid.get(r.uid);
        if (owner) this.enqueue('owner', owner.rk, owner.key);
      }
    }
    if (m.namespace) {
      const ns = this.core.store.get(NS_RK, `/${m.namespace}`);
      if (ns?.metadata.deletionTimestamp) this.enqueue('ns', NS_RK, `/${m.namespace}`);
    }
    if (ev.type === 'DELETED' && !this.core.registry.byResourceKey(ev.rk)?.builtin) {
      for (const crd of this.core.store.list(CRD_RK))
        if (crd.metadata.deletionTimestamp && `${crd.spec?.group}/${crd.spec?.names?.plural}` === ev.rk)
          this.enqueue('crd', CRD_RK, `/${crd.metadata.name}`);
    }
  }

  private enqueue(kind: 'dep' | 'owner' | 'ns' | 'crd', rk: string, key: string, tries = 0, delayMs = 5): void {
    if (this.stopped) return;
    const id = `${kind}\u0000${rk}\u0000${key}`;
    if (!this.queue.has(id)) this.queue.set(id, { kind, ref: { rk, key }, tries });
    this.schedule(delayMs);
  }

  private schedule(delayMs: number): void {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.drain();
    }, delayMs);
  }

  private async drain(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.queue.size > 0 && !this.stopped) {
        const items = [...this.queue.values()];
        this.queue.clear();
        for (const it of items) {
          try {
            if (it.kind === 'dep') await this.processDependent(it.ref);
            else if (it.kind === 'owner') await this.processOwner(it.ref);
            else if (it.kind === 'ns') await this.processNamespace(it.ref);
            else await this.processCrd(it.ref);
          } catch (e) {
            if (it.tries < 8) {
              const delay = Math.min(2000, 20 * 2 ** it.tries);
              setTimeout(() => this.enqueue(it.kind, it.ref.rk, it.ref.key, it.tries + 1), delay).unref();
            } else this.opts.log?.warn({ err: e, ref: it.ref }, `${it.kind} controller gave up`);
          }
        }
      }
    } finally {
      this.running = false;
    }
  }

  private typeOf(rk: string): ResourceType | undefined {
    return this.core.registry.byResourceKey(rk);
  }

  private async updateObj(rk: string, cur: Obj, mutate: (o: Obj) => void, sub?: 'status'): Promise<void> {
    const t = this.typeOf(rk);
    if (!t) return;
    const next = clone(cur);
    mutate(next);
    next.apiVersion = this.core.serve(t, t.storageVersion, cur).apiVersion;
    await this.core.update(
      t,
      t.storageVersion,
      cur.metadata.namespace,
      cur.metadata.name,
      next,
      MANAGER,
      sub,
      'patch',
      cur,
    );
  }

  private async deleteObj(rk: string, o: Obj, policy?: string): Promise<void> {
    const t = this.typeOf(rk);
    if (!t) return;
    try {
      await this.core.delete(t, o.metadata.namespace, o.metadata.name, {
        propagationPolicy: policy,
        preconditions: { uid: o.metadata.uid },
      });
    } catch (e) {
      if (!(e instanceof ApiError && (e.code === 404 || e.code === 409))) throw e;
    }
  }

  private ownerState(dep: Obj, ref: Obj): 'live' | 'absent' | 'waiting' | 'invalid' {
    const loc = this.byUid.get(ref.uid);
    const owner = loc ? this.core.store.get(loc.rk, loc.key) : undefined;
    if (!owner) return 'absent';
    const ownerNs = owner.metadata.namespace;
    const depNs = dep.metadata.namespace;
    if (ownerNs && !depNs) return 'invalid';
    if (ownerNs && depNs && ownerNs !== depNs) return 'absent';
    const f: string[] = owner.metadata.finalizers ?? [];
    if (owner.metadata.deletionTimestamp && f.includes('foregroundDeletion')) return 'waiting';
    return 'live';
  }

  private async processDependent(ref: Ref): Promise<void> {
    const dep = this.core.store.get(ref.rk, ref.key);
    if (!dep) return;
    const refs: Obj[] = dep.metadata.ownerReferences ?? [];
    if (refs.length === 0) return;
    const states = refs.map((r) => this.ownerState(dep, r));
    const live = states.filter((s) => s === 'live' || s === 'invalid').length;
    if (live === 0) {
      if (dep.metadata.deletionTimestamp) return;
      await this.deleteObj(ref.rk, dep, states.includes('waiting') ? 'Foreground' : 'Background');
      return;
    }
    if (states.some((s) => s === 'absent' || s === 'waiting')) {
      const gone = new Set(refs.filter((_, i) => states[i] === 'absent' || states[i] === 'waiting').map((r) => r.uid));
      await this.updateObj(ref.rk, dep, (o) => {
        o.metadata.ownerReferences = refs.filter((r) => !gone.has(r.uid));
        if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
      });
    }
  }

  private dependentObjects(uid: string): { rk: string; obj: Obj }[] {
    const out: { rk: string; obj: Obj }[] = [];
    for (const id of this.dependents.get(uid) ?? []) {
      const [rk, key] = id.split('\u0000');
      const obj = this.core.store.get(rk, key);
      if (obj && (obj.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid)) out.push({ rk, obj });
    }
    return out;
  }

  private async processOwner(ref: Ref): Promise<void> {
    const owner = this.core.store.get(ref.rk, ref.key);
    if (!owner?.metadata.deletionTimestamp) return;
    const uid = owner.metadata.uid;
    const f: string[] = owner.metadata.finalizers ?? [];
    if (f.includes('orphan')) {
      for (const { rk, obj } of this.dependentObjects(uid)) {
        await this.updateObj(rk, obj, (o) => {
          o.metadata.ownerReferences = (o.metadata.ownerReferences ?? []).filter((r: Obj) => r.uid !== uid);
          if (o.metadata.ownerReferences.length === 0) delete o.metadata.ownerReferences;
        });
      }
      const cur = this.core.store.get(ref.rk, ref.key);
      if (cur)
        await this.updateObj(ref.rk, cur, (o) => {
          o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((x: string) => x !== 'orphan');
        });
      return;
    }
    if (f.includes('foregroundDeletion')) {
      const deps = this.dependentObjects(uid);
      for (const { rk, obj } of deps)
        if (!obj.metadata.deletionTimestamp)
          await this.processDependent({ rk, key: `${obj.metadata.namespace ?? ''}/${obj.metadata.name}` });
      const blocking = this.dependentObjects(uid).filter(({ obj }) =>
        (obj.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid && r.blockOwnerDeletion === true),
      );
      if (blocking.length > 0) return;
      const cur = this.core.store.get(ref.rk, ref.key);
      if (cur)
        await this.updateObj(ref.rk, cur, (o) => {
          o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((x: string) => x !== 'foregroundDeletion');
        });
    }
  }

  private async processNamespace(ref: Ref): Promise<void> {
    const ns = this.core.store.get(NS_RK, ref.key);
    if (!ns?.metadata.deletionTimestamp) return;
    const name = ns.metadata.name as string;
    let remaining = 0;
    for (const rk of this.core.store.resourceKeys()) {
      if (rk === NS_RK) continue;
      const t = this.typeOf(rk);
      for (const o of this.core.store.list(rk, name)) {
        if (!o.metadata.namespace) continue;
        remaining++;
        if (t && !o.metadata.deletionTimestamp) await this.deleteObj(rk, o);
      }
    }
    if (remaining > 0) {
      // Re-check once pods and finalizers had a chance to go.
      let left = 0;
      for (const rk of this.core.store.resourceKeys())
        if (rk !== NS_RK) left += this.core.store.list(rk, name).filter((o) => o.metadata.namespace).length;
      if (left > 0) return;
    }
    if ((ns.spec?.finalizers ?? []).length > 0) {
      const nsType = this.typeOf(NS_RK)!;
      await this.core.finalizeNamespace(nsType, name, { metadata: { name }, spec: { finalizers: [] } });
    }
  }

  private async processCrd(ref: Ref): Promise<void> {
    const crd = this.core.store.get(CRD_RK, ref.key);
    if (!crd?.metadata.deletionTimestamp || !(crd.metadata.finalizers ?? []).includes(CRD_FINALIZER)) return;
    const rk = `${crd.spec?.group}/${crd.spec?.names?.plural}`;
    for (const o of this.core.store.list(rk)) if (!o.metadata.deletionTimestamp) await this.deleteObj(rk, o);
    if (this.core.store.count(rk) > 0) return;
    await this.updateObj(CRD_RK, crd, (o) => {
      o.metadata.finalizers = (o.metadata.finalizers ?? []).filter((x: string) => x !== CRD_FINALIZER);
      if (o.metadata.finalizers.length === 0) delete o.metadata.finalizers;
    });
  }

  private async expireEvents(ttlMs: number): Promise<void> {
    const now = this.core.now();
    for (const ev of this.core.store.list('/events')) {
      const last = ev.lastTimestamp ?? ev.eventTime ?? ev.metadata.creationTimestamp;
      const t = Date.parse(last);
      if (!Number.isNaN(t) && now - t > ttlMs) await this.deleteObj('/events', ev).catch(() => undefined);
    }
  }

  /** Node lifecycle: a node whose Lease in kube-node-lease expired becomes Ready=Unknown and tainted. */
  private async monitorNodes(): Promise<void> {
    const now = this.core.now();
    for (const node of this.core.store.list('/nodes')) {
      const lease = this.core.store.get('coordination.k8s.io/leases', `kube-node-lease/${node.metadata.name}`);
      if (!lease?.spec?.renewTime) continue;
      const renew = Date.parse(lease.spec.renewTime);
      const grace = this.opts.nodeGraceMs ?? (lease.spec.leaseDurationSeconds ?? 40) * 1000;
      const expired = now - renew > grace;
      const conds: Obj[] = node.status?.conditions ?? [];
      const ready = conds.find((c) => c.type === 'Ready');
      const taints: Obj[] = node.spec?.taints ?? [];
      const tainted = taints.some((t) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute');
      try {
        if (expired && ready?.status !== 'Unknown') {
          await this.updateObj(
            '/nodes',
            node,
            (o) => {
              o.status ??= {};
              o.status.conditions = conds.map((c) =>
                ['Ready', 'MemoryPressure', 'DiskPressure', 'PIDPressure'].includes(c.type)
                  ? {
                      ...c,
                      status: 'Unknown',
                      reason: 'NodeStatusUnknown',
                      message: 'Kubelet stopped posting node status.',
                      lastTransitionTime: rfc3339(now),
                    }
                  : c,
              );
            },
            'status',
          );
          const fresh = this.core.store.get('/nodes', `/${node.metadata.name}`);
          if (fresh && !tainted)
            await this.updateObj('/nodes', fresh, (o) => {
              o.spec ??= {};
              o.spec.taints = [
                ...taints,
                { key: 'node.kubernetes.io/unreachable', effect: 'NoExecute', timeAdded: rfc3339(now) },
              ];
            });
        } else if (!expired && tainted && ready?.status === 'True') {
          await this.updateObj('/nodes', node, (o) => {
            o.spec.taints = taints.filter((t) => t.key !== 'node.kubernetes.io/unreachable');
            if (o.spec.taints.length === 0) delete o.spec.taints;
          });
        }
      } catch {
        // a concurrent kubelet write won; the next period retries
      }
    }
  }
}
