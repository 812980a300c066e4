import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { KvBlockIndex, type KvEvent } from './block-index.js';

function make(over: Partial<ConstructorParameters<typeof KvBlockIndex>[0]> = {}) {
  let t = 0;
  const clock = { set: (v: number) => (t = v) };
  const idx = new KvBlockIndex({
    maxEntries: 1_000_000,
    speculativeTtlMs: 1000,
    reorderWindow: 8,
    gapTimeoutMs: 500,
    now: () => t,
    ...over,
  });
  return { idx, clock };
}
const stored = (...h: number[]): KvEvent => ({ type: 'BlockStored', blockHashes: h, blockSize: 16 });
const removed = (...h: number[]): KvEvent => ({ type: 'BlockRemoved', blockHashes: h });

test('stored blocks match as a leading run; removal and AllBlocksCleared forget them', () => {
  const { idx } = make();
  idx.applyBatch('a', 0n, [stored(1, 2, 3)]);
  idx.applyBatch('b', 0n, [stored(1)]);
  assert.deepEqual(idx.prefixMatch([1, 2, 3, 4], ['a', 'b', 'c']), [3, 1, 0]);
  assert.equal(idx.blockSizeOf('a'), 16);
  idx.applyBatch('a', 1n, [removed(2)]);
  assert.deepEqual(idx.prefixMatch([1, 2, 3], ['a']), [1], 'a hole ends the run');
  idx.applyBatch('a', 2n, [{ type: 'AllBlocksCleared' }]);
  assert.deepEqual(idx.prefixMatch([1], ['a', 'b']), [0, 1]);
  assert.equal(idx.entries, 1);
  assert.deepEqual(idx.holdersOf(1), ['b']);
});

test('batches delivered in any order within the reorder window give the in-order result', () => {
  const batches: KvEvent[][] = [
    [stored(1, 2)],
    [removed(1)],
    [stored(1, 3)],
    [stored(4)],
    [removed(2, 4)],
    [stored(2)],
    [{ type: 'AllBlocksCleared' }, stored(9)],
    [stored(5, 6)],
  ];
  const { idx: ref } = make();
  for (const [i, b] of batches.entries()) ref.applyBatch('e', BigInt(i), b);
  const probe = [1, 2, 3, 4, 5, 6, 9];
  const expected = probe.map((h) => ref.holdersOf(h).length);
  fc.assert(
    fc.property(fc.shuffledSubarray([1, 2, 3, 4, 5, 6, 7], { minLength: 7, maxLength: 7 }), (order) => {
      const { idx } = make();
      idx.applyBatch('e', 0n, batches[0]);
      for (const i of order) idx.applyBatch('e', BigInt(i), batches[i]);
      assert.deepEqual(
        probe.map((h) => idx.holdersOf(h).length),
        expected,
      );
      assert.equal(idx.stats('e')!.held, 0);
      assert.equal(idx.stats('e')!.nextSeq, '8');
    }),
  );
});

test('a gap that never fills is declared lost: overflow or timeout resyncs and forgets the endpoint', () => {
  const { idx } = make({ reorderWindow: 2 });
  idx.applyBatch('e', 0n, [stored(1)]);
  assert.equal(idx.applyBatch('e', 2n, [stored(2)]), 'held');
  assert.equal(idx.applyBatch('e', 3n, [stored(3)]), 'held');
  // Third held batch overflows the window of 2: seq 1 is lost (it might have removed block 1).
  assert.equal(idx.applyBatch('e', 4n, [stored(4)]), 'resync');
  assert.deepEqual(idx.prefixMatch([1], ['e']), [0]);
  assert.deepEqual(
    [2, 3, 4].map((h) => idx.holdersOf(h).length),
    [1, 1, 1],
  );
  assert.equal(idx.stats('e')!.nextSeq, '5');
  assert.equal(idx.stats('e')!.resyncs, 1);

  const t = make();
  t.idx.applyBatch('e', 0n, [stored(1)]);
  t.clock.set(100);
  t.idx.applyBatch('e', 5n, [stored(5)]);
  t.clock.set(599);
  assert.deepEqual(t.idx.checkGaps(), []);
  t.clock.set(600);
  assert.deepEqual(t.idx.checkGaps(), ['e']);
  assert.deepEqual(t.idx.prefixMatch([1], ['e']), [0]);
  assert.deepEqual(t.idx.prefixMatch([5], ['e']), [1]);
});

test('sequence 0 after progress is a restart; other old sequence numbers are duplicates', () => {
  const { idx } = make();
  idx.applyBatch('e', 0n, [stored(1)]);
  idx.applyBatch('e', 1n, [stored(2)]);
  assert.equal(idx.applyBatch('e', 1n, [removed(1)]), 'duplicate');
  assert.deepEqual(idx.prefixMatch([1, 2], ['e']), [2]);
  assert.equal(idx.applyBatch('e', 0n, [stored(7)]), 'restart');
  assert.deepEqual(idx.prefixMatch([1], ['e']), [0]);
  assert.deepEqual(idx.prefixMatch([7], ['e']), [1]);
  // reset (stream disconnected) forgets at once and accepts any next sequence.
  idx.reset('e');
  assert.deepEqual(idx.prefixMatch([7], ['e']), [0]);
  assert.equal(idx.applyBatch('e', 42n, [stored(8)]), 'applied');
});

test('speculative entries count until confirmed or expired, and never downgrade confirmed ones', () => {
  const { idx, clock } = make();
  idx.addSpeculative('a', [1, 2]);
  assert.deepEqual(idx.prefixMatch([1, 2], ['a']), [2]);
  idx.applyBatch('a', 0n, [stored(1)]);
  idx.addSpeculative('a', [1]);
  clock.set(1001);
  assert.deepEqual(idx.prefixMatch([1, 2], ['a']), [1], 'block 2 expired, block 1 confirmed');
  assert.equal(idx.entries, 1);
});

test('memory bound: entries never exceed maxEntries; the largest endpoint loses its oldest blocks', () => {
  const { idx } = make({ maxEntries: 1000 });
  const many = Array.from({ length: 1500 }, (_, i) => i + 1);
  idx.applyBatch('big', 0n, [stored(...many)]);
  idx.applyBatch('small', 0n, [stored(100_001, 100_002)]);
  assert.ok(idx.entries <= 1000, `entries ${idx.entries}`);
  assert.deepEqual(idx.prefixMatch([100_001, 100_002], ['small']), [2]);
  assert.deepEqual(idx.prefixMatch([1], ['big']), [0], 'oldest gone');
  assert.deepEqual(idx.prefixMatch([1500], ['big']), [1], 'newest kept');
  assert.ok(idx.evictions >= 500);
  idx.removeEndpoint('big');
  assert.equal(idx.entries, 2);
});
