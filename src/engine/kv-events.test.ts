import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decode } from '@msgpack/msgpack';
import type { KvEvent } from './kv-cache.js';
import { decodeKvEventBatch, encodeKvEventBatch, seqFrame } from './kv-events.js';

const events: KvEvent[] = [
  {
    type: 'BlockStored',
    blockHashes: [1, 2 ** 52 + 7],
    parentBlockHash: null,
    tokenIds: [1, 2, 3, 4],
    blockSize: 2,
    loraName: null,
  },
  {
    type: 'BlockStored',
    blockHashes: [9],
    parentBlockHash: 2 ** 52 + 7,
    tokenIds: [5, 6],
    blockSize: 2,
    loraName: 'ad',
  },
  { type: 'BlockRemoved', blockHashes: [1] },
  { type: 'AllBlocksCleared' },
];

test('array_like wire form: [ts, [[tag, fields…]…], dp_rank], exact integers', () => {
  const raw = decode(encodeKvEventBatch(events, 12.5, null, () => 3)) as unknown[];
  assert.equal(raw[0], 12.5);
  assert.equal(raw[2], null);
  const ev = raw[1] as unknown[][];
  assert.deepEqual(ev[0], ['BlockStored', [1, 2 ** 52 + 7], null, [1, 2, 3, 4], 2, null, 'GPU', null]);
  assert.deepEqual(ev[1], ['BlockStored', [9], 2 ** 52 + 7, [5, 6], 2, 3, 'GPU', 'ad']);
  assert.deepEqual(ev[2], ['BlockRemoved', [1], 'GPU']);
  assert.deepEqual(ev[3], ['AllBlocksCleared']);
});

test('map form (newer vLLM) and round trips of both', () => {
  const m = decode(encodeKvEventBatch(events, 1, 0, undefined, 'map')) as { events: Record<string, unknown>[] };
  assert.equal(m.events[0].type, 'BlockStored');
  assert.deepEqual(m.events[0].token_ids, [1, 2, 3, 4]);
  assert.equal(m.events[2].type, 'BlockRemoved');
  for (const f of ['array', 'map'] as const) {
    const back = decodeKvEventBatch(encodeKvEventBatch(events, 2, null, undefined, f));
    assert.deepEqual(back.events, events);
    assert.equal(back.ts, 2);
  }
});

test('sequence frame is 8-byte big-endian, -1 for the replay end marker', () => {
  assert.deepEqual([...seqFrame(258n)], [0, 0, 0, 0, 0, 0, 1, 2]);
  assert.equal(seqFrame(-1n).readBigInt64BE(), -1n);
});
