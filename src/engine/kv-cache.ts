// Paged KV cache with automatic prefix caching, following vLLM V1's block pool:
// - a fixed pool of blocks; a doubly linked free queue ordered for LRU eviction; a hash → block map;
// - only full blocks are cached, keyed by chained hashes over token ids (block-hash.ts);
// - a new request touches its longest cached prefix (ref++ and out of the free queue);
// - allocation pops the free-queue head, evicting its cached hash if it had one;
// - when a request frees its blocks they go to the free-queue tail in REVERSE order, so the block that
//   hashes the most tokens (least reusable) is evicted first.
// Typed arrays hold per-block state so the per-step loop allocates nothing per block.
import { hashBlock } from '../tokens/index.js';
import type { EngineRequest } from './request.js';

export type KvEvent =
  | {
      type: 'BlockStored';
      blockHashes: number[];
      parentBlockHash: number | null;
      tokenIds: number[];
      blockSize: number;
      loraName: string | null;
    }
  | { type: 'BlockRemoved'; blockHashes: number[] }
  | { type: 'AllBlocksCleared' };

const NONE = -1;

export class KvCache {
  readonly numBlocks: number;
  readonly blockSize: number;
  readonly enablePrefixCaching: boolean;
  readonly hashSeed: number;
  private readonly refCnt: Int32Array;
  private readonly prev: Int32Array;
  private readonly next: Int32Array;
  private readonly hashOf: Float64Array; // NaN = not cached
  private head = NONE;
  private tail = NONE;
  private free = 0;
  private readonly byHash = new Map<number, number>();
  /** Events since the last drain; null when nobody listens (saves the work). */
  private events: KvEvent[] | null = null;
  private pendingRemoved: number[] = [];

  constructor(opts: { numBlocks: number; blockSize: number; enablePrefixCaching?: boolean; hashSeed?: number }) {
    if (!(opts.numBlocks > 0) || !(opts.blockSize > 0)) throw new Error('numBlocks and blockSize must be positive');
    this.numBlocks = opts.numBlocks;
    this.blockSize = opts.blockSize;
    this.enablePrefixCaching = opts.enablePrefixCaching ?? true;
    this.hashSeed = opts.hashSeed ?? 0;
    this.refCnt = new Int32Array(this.numBlocks);
    this.prev = new Int32Array(this.numBlocks);
    this.next = new Int32Array(this.numBlocks);
    this.hashOf = new Float64Array(this.numBlocks).fill(Number.NaN);
    for (let b = 0; b < this.numBlocks; b++) this.pushTail(b);
  }

  /** Start recording KV events (BlockStored / BlockRemoved / AllBlocksCleared). */
  enableEvents(): void {
    this.events ??= [];
  }

  /** Events recorded since the last call, in order. */
  drainEvents(): KvEvent[] {
    if (!this.events) return [];
    this.flushRemoved();
    const out = this.events;
    this.events = [];
    return out;
  }

  get numFreeBlocks(): number {
    return this.free;
  }

  /** vLLM's kv_cache_usage_perc: 1 − free/total (cached-but-unused blocks count as free). */
  usage(): number {
    return (this.numBlocks - this.free) / this.numBlocks;
  }

  get numCachedBlocks(): number {
    return this.byHash.size;
  }

  /** Is a block with this hash in the cache (used by tests and KV-event checks)? */
  hasHash(hash: number): boolean {
    return this.byHash.has(hash);
  }

  cachedHashes(): number[] {
    return [...this.byHash.keys()];
  }

  /** Free-queue order, head (next evicted) first; for tests. */
  freeQueue(): number[] {
    const out: number[] = [];
    for (let b = this.head; b !== NONE; b = this.next[b]) out.push(b);
    return out;
  }

  blockHash(block: number): number | null {
    const h = this.hashOf[block];
    return Number.isNaN(h) ? null : h;
  }

  refCount(block: number): number {
    return this.refCnt[block];
  }

  /** Ensures req.blockHashes covers every full block of its known tokens. */
  private extendHashes(req: EngineRequest, upToBlocks: number): void {
    const bs = this.blockSize;
    for (let i = req.blockHashes.length; i < upToBlocks; i++) {
      const parent = i === 0 ? null : req.blockHashes[i - 1];
      req.blockHashes.push(hashBlock(parent, req.tokens, i * bs, (i + 1) * bs, req.extraKey, this.hashSeed));
    }
  }

  /**
   * Longest cached prefix for a request that has no blocks yet. At most numTokens − 1 tokens can hit, because
   * the last token must be computed to produce logits (vLLM does the same). Does not touch anything.
   */
  findCachedPrefix(req: EngineRequest): number[] {
    if (!this.enablePrefixCaching) return [];
    const maxBlocks = Math.floor((req.tokens.length - 1) / this.blockSize);
    this.extendHashes(req, maxBlocks);
    const hits: number[] = [];
    for (let i = 0; i < maxBlocks; i++) {
      const b = this.byHash.get(req.blockHashes[i]);
      if (b === undefined) break;
      hits.push(b);
    }
    return hits;
  }

  /**
   * Allocates blocks so the request can hold `numNewTokens` more tokens after `cachedBlocks` (from
   * findCachedPrefix, only on first scheduling). Returns false, changing nothing, if the pool is short.
   */
  allocate(req: EngineRequest, numNewTokens: number, cachedBlocks: readonly number[] = []): boolean {
    const bs = this.blockSize;
    const computed = req.numComputedTokens + cachedBlocks.length * bs;
    const needed = Math.ceil((computed + numNewTokens) / bs) - req.blockIds.length - cachedBlocks.length;
    // Touching a cached block that sits in the free queue takes it out of the free count.
    let touchFromFree = 0;
    for (const b of cachedBlocks) if (this.refCnt[b] === 0) touchFromFree++;
    if (needed + touchFromFree > this.free) return false;
    for (const b of cachedBlocks) {
      if (this.refCnt[b] === 0) this.unlink(b);
      this.refCnt[b]++;
      req.blockIds.push(b);
    }
    if (cachedBlocks.length > 0) req.numCachedBlocks = req.blockIds.length;
    for (let i = 0; i < needed; i++) {
      const b = this.popHead();
      this.refCnt[b] = 1;
      req.blockIds.push(b);
    }
    return true;
  }

  /** Number of blocks `allocate` would need (for admission checks). */
  blocksNeeded(req: EngineRequest, numNewTokens: number): number {
    return Math.max(0, Math.ceil((req.numComputedTokens + numNewTokens) / this.blockSize) - req.blockIds.length);
  }

  /**
   * Offers the request's newly full blocks to the prefix cache; records BlockStored events.
   * A block whose hash is already cached (a duplicate from a concurrent request) is left uncached.
   * `upToTokens` (default: the computed tokens) lets the scheduler cache, like vLLM V1's allocate_slots, the
   * blocks a step is about to compute: a request scheduled later — even in the same step — then hits them.
   */
  cacheFullBlocks(req: EngineRequest, upToTokens = req.numComputedTokens): void {
    if (!this.enablePrefixCaching) return;
    const bs = this.blockSize;
    const full = Math.min(Math.floor(Math.min(upToTokens, req.tokens.length) / bs), req.blockIds.length);
    if (full <= req.numCachedBlocks) return;
    this.extendHashes(req, full);
    let storedFrom = -1;
    let stored: number[] | null = null;
    for (let i = req.numCachedBlocks; i < full; i++) {
      const b = req.blockIds[i];
      const h = req.blockHashes[i];
      if (!Number.isNaN(this.hashOf[b]) || this.byHash.has(h)) {
        // Already cached (hit) or a duplicate: ends a contiguous run of stored blocks.
        if (stored) this.recordStored(req, storedFrom, stored);
        stored = null;
        continue;
      }
      this.hashOf[b] = h;
      this.byHash.set(h, b);
      if (this.events) {
        if (!stored) {
          stored = [];
          storedFrom = i;
        }
        stored.push(h);
      }
    }
    if (stored) this.recordStored(req, storedFrom, stored);
    req.numCachedBlocks = full;
  }

  private recordStored(req: EngineRequest, fromBlock: number, hashes: number[]): void {
    if (!this.events) return;
    this.flushRemoved();
    const bs = this.blockSize;
    this.events.push({
      type: 'BlockStored',
      blockHashes: hashes,
      parentBlockHash: fromBlock === 0 ? null : req.blockHashes[fromBlock - 1],
      tokenIds: req.tokens.slice(fromBlock * bs, (fromBlock + hashes.length) * bs),
      blockSize: bs,
      loraName: req.lora,
    });
  }

  private flushRemoved(): void {
    if (this.events && this.pendingRemoved.length > 0) {
      this.events.push({ type: 'BlockRemoved', blockHashes: this.pendingRemoved });
      this.pendingRemoved = [];
    }
  }

  /** Releases the request's blocks, last block first onto the free-queue tail. */
  freeRequest(req: EngineRequest): void {
    this.freeBlocks(req.blockIds);
    req.blockIds = [];
    req.numCachedBlocks = 0;
  }

  /** Releases blocks held outside a request (PD hand-off), last block first. */
  freeBlocks(blockIds: readonly number[]): void {
    for (let i = blockIds.length - 1; i >= 0; i--) {
      const b = blockIds[i];
      if (--this.refCnt[b] === 0) this.pushTail(b);
    }
  }

  /** Drops every cached hash (vLLM's reset_prefix_cache); only when no block is in use. */
  reset(): boolean {
    if (this.free !== this.numBlocks) return false;
    this.byHash.clear();
    this.hashOf.fill(Number.NaN);
    this.pendingRemoved = [];
    this.events?.push({ type: 'AllBlocksCleared' });
    return true;
  }

  private popHead(): number {
    const b = this.head;
    if (b === NONE) throw new Error('KV cache exhausted');
    this.unlink(b);
    const h = this.hashOf[b];
    if (!Number.isNaN(h)) {
      if (this.byHash.get(h) === b) this.byHash.delete(h);
      this.hashOf[b] = Number.NaN;
      if (this.events) this.pendingRemoved.push(h);
    }
    return b;
  }

  private pushTail(b: number): void {
    this.prev[b] = this.tail;
    this.next[b] = NONE;
    if (this.tail === NONE) this.head = b;
    else this.next[this.tail] = b;
    this.tail = b;
    this.free++;
  }

  private unlink(b: number): void {
    const p = this.prev[b];
    const n = this.next[b];
    if (p === NONE) this.head = n;
    else this.next[p] = n;
    if (n === NONE) this.tail = p;
    else this.prev[n] = p;
    this.prev[b] = NONE;
    this.next[b] = NONE;
    this.free--;
  }
}
