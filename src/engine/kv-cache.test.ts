import assert from 'node:assert/strict';
import { test } from 'node:test';
import { blockHashes } from '../tokens/index.js';
import { KvCache, type KvEvent } from './kv-cache.js';
import { type EngineRequest, newRequest } from './request.js';

function req(tokens: number[], id = 'r'): EngineRequest {
  return newRequest({ id, promptTokens: tokens, maxTokens: 1, targetOutputTokens: 1, seed: 1 });
}
const seq = (n: number, base = 0) => Array.from({ length: n }, (_, i) => base + i);

/** Allocates and "computes" a whole prompt, caching its full blocks. */
function computePrompt(kv: KvCache, r: EngineRequest): number {
  const hits = kv.findCachedPrefix(r);
  const cached = hits.length * kv.blockSize;
  assert.ok(kv.allocate(r, r.tokens.length - cached, hits));
  r.numComputedTokens = r.tokens.length;
  kv.cacheFullBlocks(r);
  return cached;
}

test('only full blocks are cached; a repeat hits all but the last token', () => {
  const kv = new KvCache({ numBlocks: 16, blockSize: 4 });
  const a = req(seq(10));
  assert.equal(computePrompt(kv, a), 0);
  assert.equal(kv.numCachedBlocks, 2); // 10 tokens = 2 full blocks + 2 tokens
  kv.freeRequest(a);
  const b = req(seq(10));
  assert.equal(computePrompt(kv, b), 8);
  // Exactly 8 tokens: the last block cannot hit, so the last token is recomputed.
  const c = req(seq(8));
  assert.equal(kv.findCachedPrefix(c).length, 1);
});

test('usage counts blocks in use; cached free blocks count as free', () => {
  const kv = new KvCache({ numBlocks: 10, blockSize: 4 });
  const a = req(seq(8));
  computePrompt(kv, a);
  assert.equal(kv.usage(), 0.2);
  kv.freeRequest(a);
  assert.equal(kv.usage(), 0);
  assert.equal(kv.numCachedBlocks, 2);
});

test('freed blocks go to the free-queue tail in reverse order (last block evicted first)', () => {
  const kv = new KvCache({ numBlocks: 4, blockSize: 2 });
  const a = req(seq(6));
  computePrompt(kv, a);
  const [b0, b1, b2] = a.blockIds;
  kv.freeRequest(a);
  const q = kv.freeQueue();
  assert.deepEqual(q.slice(-3), [b2, b1, b0]);
});

test('LRU eviction: allocation pops the least recently freed block and drops its hash', () => {
  const kv = new KvCache({ numBlocks: 6, blockSize: 2 });
  kv.enableEvents();
  const a = req(seq(4, 0), 'a'); // blocks hold [0,1],[2,3]
  computePrompt(kv, a);
  kv.freeRequest(a);
  const b = req(seq(4, 100), 'b');
  computePrompt(kv, b);
  kv.freeRequest(b);
  kv.drainEvents();
  // Free queue now: 2 never-used blocks, then a's blocks reversed, then b's reversed. A 3-block request takes
  // the two never-used blocks first, then evicts a's LAST block; a's first block survives.
  const aHashes = blockHashes(seq(4, 0), 2);
  const c = req(seq(6, 200), 'c');
  assert.ok(kv.allocate(c, 6));
  assert.equal(kv.hasHash(aHashes[1]), false, "a's last block evicted first");
  assert.equal(kv.hasHash(aHashes[0]), true);
  const ev = kv.drainEvents();
  assert.deepEqual(ev, [{ type: 'BlockRemoved', blockHashes: [aHashes[1]] }]);
});

test('a cached prefix in use is shared (ref counts) and not evictable', () => {
  const kv = new KvCache({ numBlocks: 4, blockSize: 2 });
  const a = req(seq(5), 'a');
  computePrompt(kv, a); // 3 blocks, 2 cached
  const b = req(seq(5), 'b');
  const hits = kv.findCachedPrefix(b);
  assert.equal(hits.length, 2);
  assert.ok(kv.allocate(b, 1, hits));
  assert.equal(kv.refCount(hits[0]), 2);
  assert.equal(kv.numFreeBlocks, 0);
  assert.equal(kv.allocate(req(seq(2, 50)), 2), false, 'nothing left to allocate');
});

test('allocation fails without side effects when short of blocks', () => {
  const kv = new KvCache({ numBlocks: 3, blockSize: 4 });
  const r = req(seq(20));
  assert.equal(kv.allocate(r, 20), false);
  assert.equal(r.blockIds.length, 0);
  assert.equal(kv.numFreeBlocks, 3);
});

test('BlockStored events carry chained hashes, parent and token ids that reproduce the hashes', () => {
  const kv = new KvCache({ numBlocks: 32, blockSize: 4 });
  kv.enableEvents();
  const a = req(seq(9));
  computePrompt(kv, a);
  const b = req([...seq(8), 77, 78, 79, 80, 81]);
  computePrompt(kv, b);
  const ev = kv.drainEvents() as Extract<KvEvent, { type: 'BlockStored' }>[];
  assert.equal(ev.length, 2);
  assert.equal(ev[0].parentBlockHash, null);
  assert.deepEqual(ev[0].blockHashes, blockHashes(seq(8), 4));
  assert.deepEqual(ev[0].tokenIds, seq(8));
  // The second request reused 2 blocks and stored one more, chained to the cached prefix.
  assert.equal(ev[1].parentBlockHash, ev[0].blockHashes[1]);
  assert.deepEqual(ev[1].blockHashes, [blockHashes(b.tokens, 4)[2]]);
  // Every stored hash is in the cache.
  for (const e of ev) for (const h of e.blockHashes) assert.ok(kv.hasHash(h));
});

test('reset clears every hash and emits AllBlocksCleared, only when idle', () => {
  const kv = new KvCache({ numBlocks: 8, blockSize: 2 });
  kv.enableEvents();
  const a = req(seq(4));
  computePrompt(kv, a);
  assert.equal(kv.reset(), false);
  kv.freeRequest(a);
  kv.drainEvents();
  assert.equal(kv.reset(), true);
  assert.equal(kv.numCachedBlocks, 0);
  assert.deepEqual(kv.drainEvents(), [{ type: 'AllBlocksCleared' }]);
});
