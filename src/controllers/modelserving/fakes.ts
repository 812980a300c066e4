// In-memory stand-ins for the kube runtime (informer, client, queue), for unit tests of the controller shell.
// The client writes straight into the stores and the stores emit events synchronously, like a watch would.
import type { InformerLike, KubeClientLike, ObjectLike, ResourceRefLike, WorkQueueLike } from './io.js';

type Handler = (...args: any[]) => void;

export class FakeInformer<T extends ObjectLike> implements InformerLike<T> {
  readonly objects = new Map<string, T>();
  private readonly handlers: Record<string, Handler[]> = { add: [], update: [], delete: [] };
  constructor(private readonly indexers: Record<string, (o: T) => string[]> = {}) {}
  on(ev: 'add' | 'update' | 'delete', cb: Handler): void {
    this.handlers[ev].push(cb);
  }
  hasSynced(): boolean {
    return true;
  }
  private key(ns: string | undefined, name: string) {
    return `${ns ?? ''}/${name}`;
  }
  get(ns: string | undefined, name: string): T | undefined {
    return this.objects.get(this.key(ns, name));
  }
  list(ns?: string): T[] {
    return [...this.objects.values()].filter((o) => ns === undefined || o.metadata?.namespace === ns);
  }
  byIndex(index: string, value: string): T[] {
    const fn = this.indexers[index];
    if (!fn) throw new Error(`no index ${index}`);
    return this.list().filter((o) => fn(o).includes(value));
  }
  upsert(o: T): void {
    const k = this.key(o.metadata?.namespace, o.metadata?.name ?? '');
    const old = this.objects.get(k);
    this.objects.set(k, o);
    if (old) for (const h of this.handlers.update) h(old, o);
    else for (const h of this.handlers.add) h(o);
  }
  remove(ns: string | undefined, name: string): T | undefined {
    const k = this.key(ns, name);
    const old = this.objects.get(k);
    if (!old) return undefined;
    this.objects.delete(k);
    for (const h of this.handlers.delete) h(old);
    return old;
  }
}

export class FakeApiError extends Error {
  constructor(
    readonly status: number,
    readonly reason: string,
  ) {
    super(`${status} ${reason}`);
  }
}

export class FakeClient implements KubeClientLike {
  readonly stores = new Map<string, FakeInformer<ObjectLike>>();
  readonly calls: string[] = [];
  private rv = 1;
  private uid = 1;
  /** return an error to fail a call */
  failWith?: (verb: string, plural: string, obj: ObjectLike | undefined, name?: string) => Error | undefined;

  store(ref: ResourceRefLike): FakeInformer<ObjectLike> {
    const s = this.stores.get(ref.plural);
    if (!s) throw new Error(`no store for ${ref.plural}`);
    return s;
  }
  private check(verb: string, ref: ResourceRefLike, obj?: ObjectLike, name?: string) {
    this.calls.push(`${verb} ${ref.plural} ${name ?? obj?.metadata?.name ?? ''}`);
    const err = this.failWith?.(verb, ref.plural, obj, name);
    if (err) throw err;
  }
  async get<T>(ref: ResourceRefLike, name: string, namespace?: string): Promise<T> {
    this.check('get', ref, undefined, name);
    const o = this.store(ref).get(namespace, name);
    if (!o) throw new FakeApiError(404, 'NotFound');
    return structuredClone(o) as T;
  }
  async create<T>(ref: ResourceRefLike, obj: unknown, opts?: { namespace?: string }): Promise<T> {
    const o = structuredClone(obj) as ObjectLike;
    this.check('create', ref, o);
    if (!this.stores.has(ref.plural)) return o as T; // e.g. events: accepted, not kept
    const ns = opts?.namespace ?? o.metadata?.namespace;
    if (this.store(ref).get(ns, o.metadata?.name ?? '')) throw new FakeApiError(409, 'AlreadyExists');
    const meta = { ...o.metadata, namespace: ns, uid: `uid-${this.uid++}`, resourceVersion: String(this.rv++) };
    const stored = { ...o, metadata: meta } as ObjectLike;
    this.store(ref).upsert(stored);
    return structuredClone(stored) as T;
  }
  async replace<T>(ref: ResourceRefLike, obj: unknown, opts?: { subresource?: 'status' | 'scale' }): Promise<T> {
    const o = structuredClone(obj) as ObjectLike & { status?: unknown; spec?: unknown };
    this.check(opts?.subresource ? `update/${opts.subresource}` : 'update', ref, o);
    const cur = this.store(ref).get(o.metadata?.namespace, o.metadata?.name ?? '') as
      | (ObjectLike & { status?: unknown; spec?: unknown })
      | undefined;
    if (!cur) throw new FakeApiError(404, 'NotFound');
    if (o.metadata?.resourceVersion && o.metadata.resourceVersion !== cur.metadata?.resourceVersion)
      throw new FakeApiError(409, 'Conflict');
    const next = opts?.subresource === 'status' ? { ...cur, status: o.status } : { ...o, status: cur.status };
    next.metadata = {
      ...(opts?.subresource === 'status' ? cur.metadata : o.metadata),
      resourceVersion: String(this.rv++),
    };
    this.store(ref).upsert(next);
    return structuredClone(next) as T;
  }
  async delete(ref: ResourceRefLike, name: string, namespace?: string, opts?: { preconditions?: { uid?: string } }) {
    this.check('delete', ref, undefined, name);
    const cur = this.store(ref).get(namespace, name);
    if (!cur) throw new FakeApiError(404, 'NotFound');
    if (opts?.preconditions?.uid && cur.metadata?.uid !== opts.preconditions.uid)
      throw new FakeApiError(409, 'Conflict');
    this.store(ref).remove(namespace, name);
    return {};
  }
}

/** A work queue with client-go's dedupe; delayed adds are collected for the test to fire. */
export class FakeQueue implements WorkQueueLike<string> {
  items: string[] = [];
  delayed: { key: string; ms: number }[] = [];
  rateLimited: string[] = [];
  private processing = new Set<string>();
  private dirty = new Set<string>();
  private waiters: ((k: string | undefined) => void)[] = [];
  private shut = false;
  add(k: string): void {
    if (this.shut || this.dirty.has(k)) return;
    this.dirty.add(k);
    if (this.processing.has(k)) return;
    const w = this.waiters.shift();
    if (w) {
      this.dirty.delete(k);
      this.processing.add(k);
      w(k);
    } else this.items.push(k);
  }
  addAfter(k: string, ms: number): void {
    this.delayed.push({ key: k, ms });
  }
  addRateLimited(k: string): void {
    this.rateLimited.push(k);
  }
  forget(): void {}
  get(): Promise<string | undefined> {
    const k = this.items.shift();
    if (k !== undefined) {
      this.dirty.delete(k);
      this.processing.add(k);
      return Promise.resolve(k);
    }
    if (this.shut) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  done(k: string): void {
    this.processing.delete(k);
    if (this.dirty.has(k)) {
      this.dirty.delete(k);
      this.add(k);
    }
  }
  shutDown(): void {
    this.shut = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }
  len(): number {
    return this.items.length;
  }
  /** Take the next key without waiting (tests drive reconciles by hand). */
  next(): string | undefined {
    const k = this.items.shift();
    if (k !== undefined) this.dirty.delete(k);
    return k;
  }
}
