// In-memory object storage with one global resourceVersion, a per-resource event history (the watch
// window) and watcher fan-out. With a DiskLog attached, events are delivered and writes acknowledged
// only after the batch holding them is on disk.
import type { DiskLog, LogRecord } from './persistence.js';
import type { Obj } from './util.js';

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  rv: number;
  type: EventType;
  rk: string;
  key: string;
  obj: Obj;
  old?: Obj;
  /** Serialised watch lines of this event, shared by every watcher that renders it the same way. */
  lines?: Map<string, string>;
}

export interface StoreWatcher {
  onEvent(ev: StoreEvent): void;
}

class Table {
  readonly objects = new Map<string, Obj>();
  sorted: string[] | undefined;
  history: StoreEvent[] = [];
  /** Events with rv ≤ compactedRV may have been dropped from `history`. */
  compactedRV: number;
  readonly watchers = new Set<StoreWatcher>();
  constructor(compactedRV: number) {
    this.compactedRV = compactedRV;
  }
  keys(): string[] {
    if (!this.sorted) this.sorted = [...this.objects.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return this.sorted;
  }
}

export function objectKey(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

export class Store {
  rv = 1;
  /** The last RV whose event has been delivered to watchers (bookmarks never go past it). */
  deliveredRV = 1;
  private startRV = 1;
  private readonly tables = new Map<string, Table>();
  private readonly listeners = new Set<(ev: StoreEvent) => void>();
  private pending: StoreEvent[] = [];
  private waiting: { resolve(): void; reject(e: unknown): void }[] = [];
  private flushing = false;
  private readonly rvWaiters = new Set<() => void>();

  constructor(
    private readonly historyLimit = 10_000,
    private readonly disk?: DiskLog,
  ) {}

  /** Loads persisted state (before serving). History starts empty: older watch RVs get 410. */
  load(rv: number, objects: Map<string, Map<string, Obj>>): void {
    this.rv = Math.max(rv, 1);
    this.deliveredRV = this.rv;
    this.startRV = this.rv;
    for (const [rk, m] of objects) {
      const t = this.table(rk);
      for (const [k, o] of m) t.objects.set(k, o);
      t.sorted = undefined;
    }
  }

  private table(rk: string): Table {
    let t = this.tables.get(rk);
    if (!t) {
      t = new Table(this.startRV);
      this.tables.set(rk, t);
    }
    return t;
  }

  get(rk: string, key: string): Obj | undefined {
    return this.tables.get(rk)?.objects.get(key);
  }

  /** Objects of one resource in storage-key order, optionally one namespace only. */
  list(rk: string, namespace?: string): Obj[] {
    const t = this.tables.get(rk);
    if (!t) return [];
    const out: Obj[] = [];
    const prefix = namespace === undefined ? undefined : `${namespace}/`;
    for (const k of t.keys()) {
      if (prefix && !k.startsWith(prefix)) continue;
      out.push(t.objects.get(k)!);
    }
    return out;
  }

  count(rk: string): number {
    return this.tables.get(rk)?.objects.size ?? 0;
  }

  resourceKeys(): string[] {
    return [...this.tables.keys()];
  }

  /**
   * Commits one write: assigns the next RV (stamped into `obj.metadata.resourceVersion`), stores or
   * removes the object, records history and schedules delivery. Resolves once durable.
   */
  commit(rk: string, type: EventType, key: string, obj: Obj, old?: Obj): { rv: number; durable: Promise<void> } {
    const rv = ++this.rv;
    obj.metadata.resourceVersion = String(rv);
    const t = this.table(rk);
    if (type === 'DELETED') {
      t.objects.delete(key);
      t.sorted = undefined;
    } else {
      if (!t.objects.has(key)) t.sorted = undefined;
      t.objects.set(key, obj);
    }
    const ev: StoreEvent = { rv, type, rk, key, obj, old };
    t.history.push(ev);
    if (t.history.length > this.historyLimit) {
      const drop = t.history.length - this.historyLimit;
      t.compactedRV = t.history[drop - 1].rv;
      t.history.splice(0, drop);
    }
    if (!this.disk) {
      this.deliver(ev);
      return { rv, durable: Promise.resolve() };
    }
    const rec: LogRecord = { rv, r: rk, k: key };
    if (type !== 'DELETED') rec.o = obj;
    this.disk.append(rec);
    this.pending.push(ev);
    return { rv, durable: this.whenDurable() };
  }

  private whenDurable(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      if (!this.flushing) void this.flushLoop();
    });
  }

  private async flushLoop(): Promise<void> {
    this.flushing = true;
    try {
      while (this.waiting.length > 0) {
        const batch = this.waiting;
        const events = this.pending;
        this.waiting = [];
        this.pending = [];
        try {
          await this.disk!.flush();
          if (this.disk!.needsCompaction()) await this.disk!.compact(this.rv, this.snapshotItems());
        } catch (e) {
          for (const w of batch) w.reject(e);
          for (const ev of events) this.deliver(ev);
          continue;
        }
        for (const ev of events) this.deliver(ev);
        for (const w of batch) w.resolve();
      }
    } finally {
      this.flushing = false;
    }
  }

  private snapshotItems(): LogRecord[] {
    const items: LogRecord[] = [];
    for (const [rk, t] of this.tables) for (const [k, o] of t.objects) items.push({ rv: 0, r: rk, k, o });
    return items;
  }

  private deliver(ev: StoreEvent): void {
    this.deliveredRV = ev.rv;
    const t = this.tables.get(ev.rk);
    if (t) for (const w of t.watchers) w.onEvent(ev);
    for (const l of this.listeners) l(ev);
    for (const w of this.rvWaiters) w();
  }

  /** Events of one resource with rv > since, or 'expired' if some of them were compacted away. */
  historySince(rk: string, since: number): StoreEvent[] | 'expired' {
    const t = this.table(rk);
    if (since < t.compactedRV) return 'expired';
    const h = t.history;
    let lo = 0;
    let hi = h.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (h[mid].rv <= since) lo = mid + 1;
      else hi = mid;
    }
    // Only delivered events: undelivered ones reach the watcher through fan-out.
    return h.slice(lo).filter((e) => e.rv <= this.deliveredRV);
  }

  /** The oldest RV a watch on this resource can resume from. */
  oldestRV(rk: string): number {
    return this.table(rk).compactedRV;
  }

  /** Test hook: drops all retained history so older RVs answer 410 Expired. */
  compactHistory(): void {
    for (const t of this.tables.values()) {
      t.history = [];
      t.compactedRV = this.rv;
    }
    this.startRV = this.rv;
  }

  addWatcher(rk: string, w: StoreWatcher): void {
    this.table(rk).watchers.add(w);
  }

  removeWatcher(rk: string, w: StoreWatcher): void {
    this.tables.get(rk)?.watchers.delete(w);
  }

  watcherCount(): number {
    let n = 0;
    for (const t of this.tables.values()) n += t.watchers.size;
    return n;
  }

  /** Internal subscribers (garbage collector, namespace and CRD controllers). */
  subscribe(fn: (ev: StoreEvent) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** Resolves when deliveredRV ≥ rv, or false after timeoutMs. */
  waitForRV(rv: number, timeoutMs: number): Promise<boolean> {
    if (this.deliveredRV >= rv) return Promise.resolve(true);
    return new Promise((resolve) => {
      const check = () => {
        if (this.deliveredRV >= rv) {
          clearTimeout(timer);
          this.rvWaiters.delete(check);
          resolve(true);
        }
      };
      const timer = setTimeout(() => {
        this.rvWaiters.delete(check);
        resolve(false);
      }, timeoutMs);
      this.rvWaiters.add(check);
    });
  }

  async close(): Promise<void> {
    if (this.disk) {
      while (this.flushing || this.waiting.length > 0) await new Promise((r) => setTimeout(r, 5));
      await this.disk.close();
    }
  }
}
