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
    // PUB/SUB joins asynchronously: send requests until the subscriber sees a batch.
    const received: Buffer[][] = [];
    const reader = (async () => {
      for await (const frames of sub) {
        received.push(frames);
        if (received.length >= 3) return;
      }
    })();
    const prompt = Array.from({ length: 200 }, (_, i) => `word${i}`).join(' ');
    for (let i = 0; i < 40 && received.length < 3; i++) {
      await fetch(`${eng.url}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'm', prompt: `${i} ${prompt}`, max_tokens: 2 }),
      });
      await new Promise((r) => setTimeout(r, 20));
    }
    await Promise.race([reader, new Promise((r) => setTimeout(r, 5000))]);
    assert.ok(received.length >= 1, 'no KV events received');
    let lastSeq = -1n;
    let sawRemoved = false;
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
        if (ev.type === 'BlockRemoved') sawRemoved = true;
        if (ev.type !== 'BlockStored') continue;
        let parent = ev.parentBlockHash;
        for (let j = 0; j < ev.blockHashes.length; j++) {
          assert.equal(hashBlock(parent, ev.tokenIds, j * ev.blockSize, (j + 1) * ev.blockSize), ev.blockHashes[j]);
          parent = ev.blockHashes[j];
        }
      }
    }
    // 64 blocks of 16 tokens and ~200-token prompts: later requests evict earlier blocks.
    assert.ok(sawRemoved || received.length < 3);

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
