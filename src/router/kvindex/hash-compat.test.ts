// The router must compute exactly the block hashes the engine publishes: same tokenizer, same chained scheme.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startEngine } from '../../engine/index.js';
import { encodeKvEventBatch } from '../../engine/kv-events.js';
import { localTokens } from '../../tokens/index.js';
import type { RequestContext } from '../request/context.js';
import { KvAwareness } from './awareness.js';
import { decodeKvBatch } from './wire.js';

test('hashes from local tokenization equal the blocks the engine caches and announces', async () => {
  const eng = await startEngine({ model: 'm', blockSize: 16, speedup: 1000 });
  const published: number[] = [];
  eng.engine.setKvEventSink((evs) => {
    // Round-trip through the wire format the router decodes.
    for (const e of decodeKvBatch(encodeKvEventBatch(evs, 0)).events)
      if (e.type === 'BlockStored') published.push(...(e.blockHashes as number[]));
  });
  try {
    const bodies = [
      { model: 'm', prompt: 'The quick brown fox jumps over the lazy dog. '.repeat(20), max_tokens: 1 },
      {
        model: 'm',
        messages: [
          { role: 'system', content: 'You are a careful assistant who answers briefly. '.repeat(10) },
          { role: 'user', content: [{ type: 'text', text: 'What is a KV cache?' }] },
        ],
        max_tokens: 1,
      },
    ];
    for (const body of bodies) {
      const path = 'messages' in body ? '/v1/chat/completions' : '/v1/completions';
      const res = await request(`${eng.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.body.json()) as { usage: { prompt_tokens: number } };
      assert.equal(res.statusCode, 200);
      const tokens = localTokens(body as Record<string, unknown>);
      assert.equal(tokens.length, json.usage.prompt_tokens, 'same token count as the engine');
      const kv = new KvAwareness({ tokenizer: 'local', blockSize: 16, hashSeed: 0, kvEventsPort: 1, subscribe: false });
      const ctx = { tokenIds: tokens } as unknown as RequestContext;
      const hashes = kv.hashesOf(ctx, 16);
      assert.equal(hashes.length, Math.floor(tokens.length / 16));
      for (const h of hashes) {
        assert.ok(eng.engine.core.kv.hasHash(h), `engine caches block ${h}`);
        assert.ok(published.includes(h), `engine announced block ${h}`);
      }
    }
  } finally {
    await eng.close();
  }
});
