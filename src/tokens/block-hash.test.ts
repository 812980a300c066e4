import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { blockHashes, extraKey, hashBlock, rootHash } from './block-hash.js';

test('hashes are deterministic 53-bit safe integers', () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 130_000 }), { minLength: 1, maxLength: 64 }), (toks) => {
      const h = hashBlock(null, toks);
      assert.equal(hashBlock(null, toks), h);
      assert.ok(Number.isSafeInteger(h) && h >= 0);
    }),
  );
});

test('chained: the same block under a different parent hashes differently', () => {
  const block = [1, 2, 3, 4];
  const a = hashBlock(null, block);
  const b = hashBlock(a, block);
  const c = hashBlock(b, block);
  assert.notEqual(a, b);
  assert.notEqual(b, c);
  assert.equal(hashBlock(rootHash(0), block), a);
});

test('blockHashes covers full blocks only and chains from the root', () => {
  const toks = Array.from({ length: 37 }, (_, i) => i * 7);
  const hs = blockHashes(toks, 16);
  assert.equal(hs.length, 2);
  assert.equal(hs[0], hashBlock(null, toks, 0, 16));
  assert.equal(hs[1], hashBlock(hs[0], toks, 16, 32));
  // Changing a token of block 0 changes every later hash; changing block 1 leaves block 0.
  const t2 = toks.slice();
  t2[20] = 99_999;
  const hs2 = blockHashes(t2, 16);
  assert.equal(hs2[0], hs[0]);
  assert.notEqual(hs2[1], hs[1]);
});

test('extra keys (LoRA) and the seed separate otherwise equal blocks', () => {
  const toks = [5, 6, 7, 8];
  assert.notEqual(hashBlock(null, toks, 0, 4, extraKey('lora-a')), hashBlock(null, toks));
  assert.notEqual(hashBlock(null, toks, 0, 4, extraKey('lora-a')), hashBlock(null, toks, 0, 4, extraKey('lora-b')));
  assert.notEqual(hashBlock(null, toks, 0, 4, 0, 1), hashBlock(null, toks, 0, 4, 0, 0));
  assert.equal(extraKey(null), 0);
  assert.notEqual(extraKey('x'), 0);
});

test('no collisions over many distinct blocks', () => {
  const seen = new Set<number>();
  for (let i = 0; i < 50_000; i++) seen.add(hashBlock(null, [i, i >> 3, 7]));
  assert.equal(seen.size, 50_000);
});

// Golden values, published in docs/engine-sim.md ("Block hash scheme") for consumers outside this code base. They were
// computed once from the documented steps by an independent implementation (Python, arbitrary-precision integers)
// and agree with this one; a change here breaks every router, engine and external consumer that shares the scheme.
const IDS_1_TO_32 = Array.from({ length: 32 }, (_, i) => i + 1);
test('golden: roots of seeds 0 and 7', () => {
  assert.equal(rootHash(0), 7922894160217887);
  assert.equal(rootHash(7), 6886683376937300);
});
test('golden: token ids 1..32 at block size 16', () => {
  assert.deepEqual(blockHashes(IDS_1_TO_32, 16), [7794778959194139, 3062029966342701]);
  assert.deepEqual(blockHashes(IDS_1_TO_32, 16, 0, 7), [6257393212189054, 469118452082782]);
});
test('golden: LoRA extra key', () => {
  assert.equal(extraKey('sql-lora'), 697281334);
  assert.deepEqual(blockHashes(IDS_1_TO_32, 16, extraKey('sql-lora')), [6762739909525317, 8931009120044126]);
});
test('golden: block size 4 over large ids', () => {
  assert.deepEqual(
    blockHashes([1000, 2000, 3000, 4000, 5000, 6000, 7000, 8000], 4),
    [2709477335882229, 6353043283121788],
  );
});
