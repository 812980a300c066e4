// Bounded-memory map from a session key to the endpoint serving it: at most `maxEntries` entries (least recently
// pinned evicted first) and an idle TTL (an entry not re-pinned for `ttlMs` is gone). Map insertion order is the LRU
// order: a pin deletes and re-inserts. Time comes from an injected clock.
export class SessionMap {
  private readonly m = new Map<string, { value: string; expires: number }>();

  constructor(
    readonly maxEntries: number,
    readonly ttlMs: number,
    private readonly now: () => number,
  ) {}

  get size(): number {
    return this.m.size;
  }

  get(key: string): string | undefined {
    const e = this.m.get(key);
    if (!e) return undefined;
    if (this.now() >= e.expires) {
      this.m.delete(key);
      return undefined;
    }
    return e.value;
  }

  set(key: string, value: string): void {
    this.m.delete(key);
    this.m.set(key, { value, expires: this.now() + this.ttlMs });
    while (this.m.size > this.maxEntries) this.m.delete(this.m.keys().next().value as string);
    // Expired entries at the old end go too, so an idle map shrinks as it is used.
    for (const [k, e] of this.m) {
      if (e.expires > this.now()) break;
      this.m.delete(k);
    }
  }

  delete(key: string): void {
    this.m.delete(key);
  }

  /** Drops every session pinned to `value` (an endpoint that left). */
  deleteValue(value: string): number {
    let n = 0;
    for (const [k, e] of this.m)
      if (e.value === value) {
        this.m.delete(k);
        n++;
      }
    return n;
  }
}
