// KV events over a real ZMQ PUB socket: 3 frames, msgpack batches, hashes a consumer can recompute.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { hashBlock, startEngine } from '../../src/engine/index.js';
import { decodeKvEventBatch } from '../../src/engine/kv-events.js';

test('BlockStored / BlockRemoved batches arrive on the PUB socket with sequence numbers', async (t) => {
  let zmq: typeof import('zeromq');
  try {
    zmq = await import('zeromq');
  } catch {
    t.skip('zeromq not installed');
    return;
  }
  const eng = await startEngine({
    model: 'm',
    speedup: 20,
    numGpuBlocks: 64,
    kvEventsEndpoint: 'tcp://127.0.0.1:*',
    kvEventsReplayEndpoint: 'tcp://127.0.0.1:*',
    kvEventsTopic: 'kv-events',
  });
  const sub = new zmq.Subscriber({ linger: 0 });
  try {
    assert.match(eng.kvEventsEndpoint ?? '', /^tcp:\/\/127\.0\.0\.1:\d+$/);
    sub.connect(eng.kvEventsEndpoint!);
    sub.subscribe('kv-events');
    // PUB/SUB joins asynchronously: send requests until the subscriber has seen batches *and* an eviction. 64 blocks
    // of 16 tokens hold about five ~200-token prompts, so 40 distinct prompts must evict whatever the join missed.
    const received: Buffer[][] = [];
    let sawRemoved = false;
    const done = () => sawRemoved && received.length >= 3;
    const reader = (async () => {
      for await (const frames of sub) {
        received.push(frames);
        if (decodeKvEventBatch(frames[2]).events.some((e) => e.type === 'BlockRemoved')) sawRemoved = true;
        if (done()) return;
      }
    })();
    const prompt = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    for (let i = 0; i < 40 && !done(); i++) {
      await fetch(`${eng.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', prompt: `${i} ${prompt}`, max_tokens: 2 }),
      });
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.race([reader, new Promise((r) => setTimeout(r, 5000))]);
    assert.ok(received.length >= 3, `only ${received.length} KV event batches received`);
    assert.ok(sawRemoved, 'no BlockRemoved although the cache had to evict');
    let lastSeq = -1n;
    for (const frames of received) {
      assert.equal(frames.length, 3);
      assert.equal(frames[0].toString(), 'kv-events');
      assert.equal(frames[1].length, 8);
      const seq = frames[1].readBigInt64BE();
      assert.ok(seq > lastSeq);
      lastSeq = seq;
      const batch = decodeKvEventBatch(frames[2]);
      assert.equal(typeof batch.ts, 'number');
      for (const ev of batch.events) {
        if (ev.type !== 'BlockStored') continue;
        let parent = ev.parentBlockHash;
        for (let j = 0; j < ev.blockHashes.length; j++) {
          assert.equal(hashBlock(parent, ev.tokenIds, j * ev.blockSize, (j + 1) * ev.blockSize), ev.blockHashes[j]);
          parent = ev.blockHashes[j];
        }
      }
    }

    // Replay: ask for everything from sequence 0; expect batches then the -1 end marker.
    const dealer = new zmq.Dealer({ linger: 0 });
    dealer.connect(eng.kvEventsReplayEndpoint!);
    const start = Buffer.alloc(8);
    await dealer.send([Buffer.alloc(0), start]);
    const seqs: bigint[] = [];
    for await (const frames of dealer) {
      const s = frames[1].readBigInt64BE();
      seqs.push(s);
      if (s === -1n) break;
    }
    dealer.close();
    assert.equal(seqs.at(-1), -1n);
    assert.ok(seqs.length >= 2);
    assert.equal(seqs[0], 0n);
  } finally {
    sub.close();
    await eng.close();
  }
});
