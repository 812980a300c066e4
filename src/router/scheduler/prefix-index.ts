// The router-local prefix index behind the prefix-cache plugin: chained block hashes → endpoints that served them.
// Per-endpoint LRU bounded by entry count, and a global memory budget across all endpoints.

/** Rough heap cost of one (model, hash, endpoint) entry across the two maps and the set. */
export const BYTES_PER_ENTRY = 160;

interface Entry {
  model: string;
  hash: bigint;
}

export interface PrefixIndexOptions {
  maxEntriesPerEndpoint: number;
  maxBytes: number;
  onEvict?: (model: string) => void;
}

export class PrefixIndex {
  private readonly byModel = new Map<string, Map<bigint, Set<string>>>();
  private readonly byEndpoint = new Map<string, Map<string, Entry>>();
  private total = 0;

  constructor(private readonly opts: PrefixIndexOptions) {}

  get entries(): number {
    return this.total;
  }

  get bytes(): number {
    return this.total * BYTES_PER_ENTRY;
  }

  /** Endpoints among `candidates` holding `hash` for `model`. */
  holders(model: string, hash: bigint): ReadonlySet<string> | undefined {
    return this.byModel.get(model)?.get(hash);
  }

  add(model: string, hashes: readonly bigint[], endpoint: string): void {
    let lru = this.byEndpoint.get(endpoint);
    if (!lru) {
      lru = new Map();
      this.byEndpoint.set(endpoint, lru);
    }
    let idx = this.byModel.get(model);
    if (!idx) {
      idx = new Map();
      this.byModel.set(model, idx);
    }
    // Last block first, so the shared leading blocks end up most recently used and are evicted last.
    for (let i = hashes.length - 1; i >= 0; i--) {
      const hash = hashes[i];
      const k = `${model}\u0000${hash}`;
      const existing = lru.get(k);
      if (existing) {
        lru.delete(k);
        lru.set(k, existing);
        continue;
      }
      lru.set(k, { model, hash });
      let set = idx.get(hash);
      if (!set) {
        set = new Set();
        idx.set(hash, set);
      }
      set.add(endpoint);
      this.total++;
      if (lru.size > this.opts.maxEntriesPerEndpoint) this.evictOldest(endpoint, lru);
    }
    while (this.total * BYTES_PER_ENTRY > this.opts.maxBytes && this.total > 0) {
      const [biggestKey, biggest] = this.largestEndpoint();
      this.evictOldest(biggestKey, biggest);
    }
  }

  removeEndpoint(endpoint: string): void {
    const lru = this.byEndpoint.get(endpoint);
    if (!lru) return;
    for (const e of lru.values()) this.unindex(e, endpoint);
    this.total -= lru.size;
    this.byEndpoint.delete(endpoint);
  }

  endpointEntries(endpoint: string): number {
    return this.byEndpoint.get(endpoint)?.size ?? 0;
  }

  private largestEndpoint(): [string, Map<string, Entry>] {
    let best: [string, Map<string, Entry>] | undefined;
    for (const pair of this.byEndpoint) if (!best || pair[1].size > best[1].size) best = pair;
    return best!;
  }

  private evictOldest(endpoint: string, lru: Map<string, Entry>): void {
    const first = lru.entries().next();
    if (first.done) return;
    const [k, e] = first.value;
    lru.delete(k);
    this.unindex(e, endpoint);
    this.total--;
    this.opts.onEvict?.(e.model);
  }

  private unindex(e: Entry, endpoint: string): void {
    const idx = this.byModel.get(e.model);
    const set = idx?.get(e.hash);
    if (!set) return;
    set.delete(endpoint);
    if (set.size === 0) idx!.delete(e.hash);
    if (idx!.size === 0) this.byModel.delete(e.model);
  }
}
