// Informer = reflector + indexed cache. The reflector keeps a local copy of one collection in step with the API
// server: LIST (paginated), then WATCH from the list's resourceVersion with bookmarks, resuming from the last seen
// resourceVersion whenever a watch ends, and relisting when the server says that version is gone (410). Handlers get
// add/update/delete in order; a relist is diffed against the cache so objects that vanished while we were
// disconnected produce deletes. Faults the server never reports are caught locally: a watchdog aborts a stream that
// has been silent too long, and a malformed line causes an error and a relist instead of a silent gap.
import { Backoff, type BackoffOptions } from './backoff.js';
import type { KubeClient } from './client.js';
import { abortReason, type Clock, realClock, sleep, type TimerHandle } from './clock.js';
import { isGone, KubeApiError, WatchDecodeError } from './errors.js';
import { type KubeLogger, silentLogger } from './log.js';
import { type KubeObject, keyOf, objectKey, type ResourceRef } from './resource.js';
import type { WatchEvent } from './watch-decoder.js';

export interface InformerOptions<T> {
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  /** Re-emit `update(o, o)` for every cached object this often (0/undefined = never). For controllers. */
  resyncMs?: number;
  /** Lower bound of the server-side watch timeout; each watch asks for a random value in [t, 2t). Default 300. */
  watchTimeoutSeconds?: number;
  /** Abort a watch that received no bytes (events or bookmarks) for this long. Default 120 000. */
  idleTimeoutMs?: number;
  /** Items per LIST page (limit/continue). Default 500. */
  pageSize?: number;
  clock?: Clock;
  indexers?: Record<string, (o: T) => string[]>;
  /** Backoff after errors; defaults as client-go's reflector: 800 ms doubling to 30 s, jitter 1.0. */
  backoff?: BackoffOptions;
  random?: () => number;
  log?: KubeLogger;
}

type AddHandler<T> = (obj: T) => void;
type UpdateHandler<T> = (oldObj: T, newObj: T) => void;
type DeleteHandler<T> = (obj: T) => void;
type ErrorHandler = (err: Error) => void;

/** Raised to abort a watch whose stream has been silent for longer than idleTimeoutMs. */
export class WatchIdleTimeout extends Error {
  override name = 'WatchIdleTimeout';
}

const NAMESPACE_INDEX = '\0namespace';

export class Informer<T extends KubeObject = KubeObject> {
  private readonly store = new Map<string, T>();
  private readonly indexers = new Map<string, (o: T) => string[]>();
  private readonly indices = new Map<string, Map<string, Set<string>>>();
  private readonly handlers = {
    add: [] as AddHandler<T>[],
    update: [] as UpdateHandler<T>[],
    delete: [] as DeleteHandler<T>[],
    error: [] as ErrorHandler[],
  };
  private readonly clock: Clock;
  private readonly log: KubeLogger;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private readonly idleTimeoutMs: number;
  private readonly watchTimeoutSeconds: number;
  private readonly pageSize: number;
  private readonly resyncMs: number;

  private rv = '';
  private synced = false;
  /** Watch events applied since the last LIST, and whether the last 410 came before any (spin guard). */
  private eventsSinceList = 0;
  private goneAfterList = false;
  private syncWaiters: { resolve: () => void; reject: (e: Error) => void }[] = [];
  private running?: Promise<void>;
  private stopper?: AbortController;
  private resyncTimer?: TimerHandle;

  constructor(
    private readonly client: KubeClient,
    private readonly ref: ResourceRef,
    private readonly opts: InformerOptions<T> = {},
  ) {
    this.clock = opts.clock ?? realClock;
    this.log = opts.log ?? silentLogger;
    this.random = opts.random ?? Math.random;
    this.backoff = new Backoff({ random: this.random, ...opts.backoff });
    this.idleTimeoutMs = opts.idleTimeoutMs ?? 120_000;
    this.watchTimeoutSeconds = opts.watchTimeoutSeconds ?? 300;
    this.pageSize = opts.pageSize ?? 500;
    this.resyncMs = opts.resyncMs ?? 0;
    this.indexers.set(NAMESPACE_INDEX, (o) => [o.metadata?.namespace ?? '']);
    for (const [name, fn] of Object.entries(opts.indexers ?? {})) this.indexers.set(name, fn);
    for (const name of this.indexers.keys()) this.indices.set(name, new Map());
  }

  on(ev: 'add', cb: AddHandler<T>): void;
  on(ev: 'update', cb: UpdateHandler<T>): void;
  on(ev: 'delete', cb: DeleteHandler<T>): void;
  /** Errors the reflector recovers from (failed list/watch, malformed stream, …), for logging and metrics. */
  on(ev: 'error', cb: ErrorHandler): void;
  on(ev: 'add' | 'update' | 'delete' | 'error', cb: (...args: any[]) => void): void {
    this.handlers[ev].push(cb as never);
  }

  start(): void {
    if (this.running) return;
    this.stopper = new AbortController();
    this.running = this.run(this.stopper.signal);
    if (this.synced) this.scheduleResync(); // restarted after stop(): the first sync will not schedule it again
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.stopper?.abort(new Error('informer stopped'));
    this.clock.clearTimeout(this.resyncTimer);
    await this.running;
    this.running = undefined;
    const waiters = this.syncWaiters;
    this.syncWaiters = [];
    for (const w of waiters) w.reject(new Error(`informer for ${this.ref.plural} stopped before it synced`));
  }

  hasSynced(): boolean {
    return this.synced;
  }

  /** Resolves after the first complete LIST has been loaded into the cache. */
  waitForSync(signal?: AbortSignal): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(abortReason(signal));
      const w = {
        resolve: () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        },
        reject,
      };
      const onAbort = () => {
        this.syncWaiters = this.syncWaiters.filter((x) => x !== w);
        reject(abortReason(signal!));
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.syncWaiters.push(w);
    });
  }

  /** The resourceVersion the next watch will resume from. */
  get resourceVersion(): string {
    return this.rv;
  }

  get(namespace: string | undefined, name: string): T | undefined {
    return this.store.get(keyOf(namespace, name));
  }

  list(namespace?: string): T[] {
    if (namespace === undefined) return [...this.store.values()];
    return this.byIndex(NAMESPACE_INDEX, namespace);
  }

  byIndex(index: string, value: string): T[] {
    const idx = this.indices.get(index);
    if (!idx) throw new Error(`informer ${this.ref.plural}: no index named "${index}"`);
    const keys = idx.get(value);
    if (!keys) return [];
    const out: T[] = [];
    for (const k of keys) {
      const o = this.store.get(k);
      if (o) out.push(o);
    }
    return out;
  }

  // ---------------------------------------------------------------- reflector

  private async run(signal: AbortSignal): Promise<void> {
    let needList = true;
    while (!signal.aborted) {
      try {
        if (needList) {
          await this.listAndReplace(signal);
          needList = false;
        }
        await this.watchOnce(signal);
      } catch (e) {
        if (signal.aborted) break;
        const err = e instanceof Error ? e : new Error(String(e));
        if (isGone(err)) {
          // The server no longer has our resourceVersion: relist at once (no backoff; this is routine) — unless
          // the watch right after a relist is refused again before any event, which would make us spin.
          this.log.info({ resource: this.ref.plural, err: err.message }, 'resourceVersion expired, relisting');
          this.rv = '';
          const repeated = needList === false && this.eventsSinceList === 0 && this.goneAfterList;
          this.goneAfterList = this.eventsSinceList === 0;
          needList = true;
          if (!repeated) continue;
        }
        // A malformed stream or a server-reported watch error means we may have missed events: relist.
        // A lost connection, by contrast, resumes the watch from the last resourceVersion.
        if (err instanceof WatchDecodeError || (err instanceof KubeApiError && err.reason !== 'ShortWatch')) {
          needList = true;
        }
        this.emitError(err);
        const wait = this.backoff.next();
        this.log.warn({ resource: this.ref.plural, err: err.message, retryInMs: wait }, 'list/watch failed');
        try {
          await sleep(this.clock, wait, signal, 'informer-backoff');
        } catch {
          break;
        }
      }
    }
  }

  /** LIST every page, then make the cache equal to the result, emitting the differences. */
  private async listAndReplace(signal: AbortSignal): Promise<void> {
    const { items, resourceVersion } = await this.listAll(signal);
    const fresh = new Map<string, T>();
    for (const o of items) fresh.set(objectKey(o), o);
    for (const [key, o] of fresh) {
      const old = this.store.get(key);
      if (!old) {
        this.upsert(key, o);
        this.dispatch('add', o);
      } else if (old.metadata?.resourceVersion !== o.metadata?.resourceVersion) {
        this.upsert(key, o, old);
        this.dispatch('update', old, o);
      }
    }
    for (const [key, old] of [...this.store]) {
      if (!fresh.has(key)) {
        this.remove(key, old);
        this.dispatch('delete', old);
      }
    }
    this.rv = resourceVersion;
    this.eventsSinceList = 0;
    // The backoff is not reset here: a server that lists fine but refuses every watch must still see it grow.
    // It is reset once a watch delivers events.
    if (!this.synced) {
      this.synced = true;
      const waiters = this.syncWaiters;
      this.syncWaiters = [];
      for (const w of waiters) w.resolve();
      this.scheduleResync();
    }
  }

  private async listAll(signal: AbortSignal): Promise<{ items: T[]; resourceVersion: string }> {
    const base = {
      namespace: this.opts.namespace,
      labelSelector: this.opts.labelSelector,
      fieldSelector: this.opts.fieldSelector,
      signal,
    };
    const items: T[] = [];
    let cont: string | undefined;
    let rv = '';
    for (;;) {
      let page: Awaited<ReturnType<KubeClient['list']>>;
      try {
        page = await this.client.list<T>(this.ref, { ...base, limit: this.pageSize, continue: cont });
      } catch (e) {
        if (cont && isGone(e)) {
          // The continue token expired between pages: fall back to one unpaginated list (as client-go does).
          this.log.info({ resource: this.ref.plural }, 'list continue token expired, listing without pagination');
          const all = await this.client.list<T>(this.ref, base);
          return { items: all.items as T[], resourceVersion: all.metadata.resourceVersion };
        }
        throw e;
      }
      items.push(...(page.items as T[]));
      if (!cont) rv = page.metadata.resourceVersion;
      cont = page.metadata.continue;
      if (!cont) return { items, resourceVersion: rv };
    }
  }

  /**
   * One WATCH from the current resourceVersion. Returns when the stream ends normally or the watchdog fires (the
   * loop then resumes from the last resourceVersion); throws on errors.
   */
  private async watchOnce(signal: AbortSignal): Promise<void> {
    const ac = new AbortController();
    const onStop = () => ac.abort(abortReason(signal));
    signal.addEventListener('abort', onStop, { once: true });
    if (signal.aborted) onStop(); // stop() may have run while the list was being applied
    let lastActivity = this.clock.now();
    let watchdog: TimerHandle | undefined;
    const check = () => {
      const idle = this.clock.now() - lastActivity;
      if (idle >= this.idleTimeoutMs) {
        ac.abort(new WatchIdleTimeout(`watch of ${this.ref.plural} silent for ${idle} ms`));
      } else {
        watchdog = this.clock.setTimeout(check, this.idleTimeoutMs - idle, 'informer-watchdog');
      }
    };
    watchdog = this.clock.setTimeout(check, this.idleTimeoutMs, 'informer-watchdog');
    let events = 0;
    try {
      await this.client.watch(
        this.ref,
        {
          namespace: this.opts.namespace,
          labelSelector: this.opts.labelSelector,
          fieldSelector: this.opts.fieldSelector,
          resourceVersion: this.rv,
          allowWatchBookmarks: true,
          timeoutSeconds: Math.floor(this.watchTimeoutSeconds * (1 + this.random())),
          signal: ac.signal,
          onData: () => {
            lastActivity = this.clock.now();
          },
        },
        (ev) => {
          events++;
          this.handleEvent(ev);
        },
      );
      if (events > 0) this.backoff.reset();
      else if (!signal.aborted) {
        // A watch that ends without a single event (not even a bookmark) would make us spin if the server keeps
        // doing it; back off like client-go does for "very short watches".
        throw new KubeApiError(0, 'ShortWatch', `watch of ${this.ref.plural} ended without any event`, undefined);
      }
    } catch (e) {
      if (e instanceof WatchIdleTimeout && e === ac.signal.reason) {
        this.log.warn({ resource: this.ref.plural, err: e.message }, 'watch watchdog fired, reconnecting');
        this.emitError(e);
        return;
      }
      throw e;
    } finally {
      this.clock.clearTimeout(watchdog);
      signal.removeEventListener('abort', onStop);
    }
  }

  private handleEvent(ev: WatchEvent): void {
    const obj = ev.object as T;
    if (ev.type !== 'ERROR') {
      this.eventsSinceList++;
      this.goneAfterList = false;
    }
    switch (ev.type) {
      case 'BOOKMARK': {
        const rv = obj.metadata?.resourceVersion;
        if (rv) this.rv = rv;
        return;
      }
      case 'ERROR':
        throw KubeApiError.fromStatus(ev.object, `watch ${this.ref.plural}`);
      case 'ADDED':
      case 'MODIFIED': {
        const key = objectKey(obj);
        const old = this.store.get(key);
        if (old && old.metadata?.resourceVersion === obj.metadata?.resourceVersion) {
          // Same object state delivered twice (replay after a resume): nothing changed.
        } else if (old) {
          this.upsert(key, obj, old);
          this.dispatch('update', old, obj);
        } else {
          this.upsert(key, obj);
          this.dispatch('add', obj);
        }
        break;
      }
      case 'DELETED': {
        const key = objectKey(obj);
        const old = this.store.get(key);
        if (old) {
          this.remove(key, old);
          this.dispatch('delete', obj);
        }
        break;
      }
    }
    const rv = obj.metadata?.resourceVersion;
    if (rv) this.rv = rv;
  }

  // ---------------------------------------------------------------- cache

  private upsert(key: string, o: T, old?: T): void {
    if (old) this.unindex(key, old);
    this.store.set(key, o);
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name)!;
      for (const v of this.indexValues(fn, o)) {
        let s = idx.get(v);
        if (!s) {
          s = new Set();
          idx.set(v, s);
        }
        s.add(key);
      }
    }
  }

  private remove(key: string, old: T): void {
    this.unindex(key, old);
    this.store.delete(key);
  }

  private unindex(key: string, o: T): void {
    for (const [name, fn] of this.indexers) {
      const idx = this.indices.get(name)!;
      for (const v of this.indexValues(fn, o)) {
        const s = idx.get(v);
        s?.delete(key);
        if (s && s.size === 0) idx.delete(v);
      }
    }
  }

  private indexValues(fn: (o: T) => string[], o: T): string[] {
    try {
      return fn(o) ?? [];
    } catch (e) {
      this.log.error({ resource: this.ref.plural, err: (e as Error).message }, 'indexer threw; object not indexed');
      return [];
    }
  }

  // ---------------------------------------------------------------- handlers and resync

  private dispatch(ev: 'add' | 'delete', o: T): void;
  private dispatch(ev: 'update', old: T, o: T): void;
  private dispatch(ev: 'add' | 'update' | 'delete', a: T, b?: T): void {
    for (const h of this.handlers[ev]) {
      try {
        const r = (h as (x: T, y?: T) => unknown)(a, b);
        if (r && typeof (r as Promise<unknown>).catch === 'function') {
          (r as Promise<unknown>).catch((e: unknown) => this.handlerFailed(ev, e));
        }
      } catch (e) {
        this.handlerFailed(ev, e);
      }
    }
  }

  private handlerFailed(ev: string, e: unknown): void {
    this.log.error({ resource: this.ref.plural, event: ev, err: (e as Error)?.message ?? String(e) }, 'handler threw');
  }

  private emitError(err: Error): void {
    for (const h of this.handlers.error) {
      try {
        h(err);
      } catch {
        // an error handler that throws must not stop the informer either
      }
    }
  }

  private scheduleResync(): void {
    if (this.resyncMs <= 0 || this.stopper?.signal.aborted) return;
    this.resyncTimer = this.clock.setTimeout(
      () => {
        for (const o of [...this.store.values()]) this.dispatch('update', o, o);
        this.scheduleResync();
      },
      this.resyncMs,
      'informer-resync',
    );
  }
}
