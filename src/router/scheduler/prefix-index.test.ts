import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import xxhash from 'xxhash-wasm';
import { prefixHashes } from './plugins/prefix-cache.js';
import { BYTES_PER_ENTRY, PrefixIndex } from './prefix-index.js';

test('per-endpoint LRU evicts the oldest entries beyond maxEntriesPerEndpoint', () => {
  const evicted: string[] = [];
  const idx = new PrefixIndex({ maxEntriesPerEndpoint: 3, maxBytes: 1e9, onEvict: (m) => evicted.push(m) });
  idx.add('m', [1n, 2n, 3n], 'a');
  idx.add('m', [4n, 5n], 'a');
  assert.equal(idx.endpointEntries('a'), 3);
  assert.equal(evicted.length, 2);
  // Insertion is last→first, so the leading hashes of the newest prompt are the freshest.
  assert.ok(idx.holders('m', 4n)?.has('a'));
  assert.equal(idx.holders('m', 3n), undefined);
});

test('memory budget bounds the whole index across endpoints', () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom('a', 'b', 'c'), fc.array(fc.bigInt({ min: 0n, max: 50n }), { maxLength: 20 }))),
      fc.integer({ min: 1, max: 30 }),
      (ops, budgetEntries) => {
        const idx = new PrefixIndex({ maxEntriesPerEndpoint: 1000, maxBytes: budgetEntries * BYTES_PER_ENTRY });
        for (const [e, hashes] of ops) {
          idx.add('m', hashes, e);
          assert.ok(idx.bytes <= budgetEntries * BYTES_PER_ENTRY);
          assert.equal(
            idx.entries,
            ['a', 'b', 'c'].reduce((n, k) => n + idx.endpointEntries(k), 0),
          );
        }
        for (const e of ['a', 'b', 'c']) idx.removeEndpoint(e);
        assert.equal(idx.entries, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test('chained hashes: equal prefixes give equal leading hashes; a change alters every later hash', async () => {
  const { h64Raw } = await xxhash();
  const a = prefixHashes(h64Raw, 'm', 'aaaabbbbcccc', 4, 100);
  const b = prefixHashes(h64Raw, 'm', 'aaaaXbbbcccc', 4, 100);
  assert.equal(a.length, 3);
  assert.equal(a[0], b[0]);
  assert.notEqual(a[1], b[1]);
  assert.notEqual(a[2], b[2], 'chained: block 3 differs because block 2 did');
  assert.equal(prefixHashes(h64Raw, 'm', 'x'.repeat(100), 4, 5).length, 5, 'maxBlocks caps the work');
  assert.notEqual(prefixHashes(h64Raw, 'n', 'aaaa', 4, 1)[0], a[0], 'model name seeds the chain');
  // h1 = xxh64(decimal(h0) ++ block)
  const h0 = h64Raw(Buffer.from('m'));
  assert.equal(a[0], h64Raw(Buffer.from(`${h0.toString(10)}aaaa`)));
});

test('chained hashes equal the plain definition for any prompt, block size and cap', async () => {
  const { h64Raw } = await xxhash();
  const reference = (model: string, prompt: string, blockSize: number, maxBlocks: number): bigint[] => {
    const bytes = Buffer.from(prompt, 'utf8');
    const out: bigint[] = [];
    let prev = h64Raw(Buffer.from(model, 'utf8'));
    for (let off = 0; off < bytes.length && out.length < maxBlocks; off += blockSize) {
      prev = h64Raw(Buffer.concat([Buffer.from(prev.toString(10)), bytes.subarray(off, off + blockSize)]));
      out.push(prev);
    }
    return out;
  };
  fc.assert(
    fc.property(
      fc.string(),
      fc.string({ maxLength: 300, unit: 'grapheme' }),
      fc.integer({ min: 1, max: 80 }),
      fc.integer({ min: 1, max: 20 }),
      (model, prompt, blockSize, maxBlocks) => {
        assert.deepEqual(
          prefixHashes(h64Raw, model, prompt, blockSize, maxBlocks),
          reference(model, prompt, blockSize, maxBlocks),
        );
      },
    ),
  );
});
