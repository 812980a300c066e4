// The simulated engine's /v1/embeddings and /v1/responses over loopback: embeddings are prefill work in the
// engine (prompt tokens, prefix cache), limits and faults apply to both, the process keeps serving after bad input.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';

let eng: RunningEngine;
let client: OpenAI;

before(async () => {
  eng = await startEngine({ model: 'sim-embed', seed: 1, speedup: 20, maxModelLen: 512, enableAdmin: true });
  client = new OpenAI({ baseURL: `${eng.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await eng.close();
});

async function counter(name: string): Promise<number> {
  const text = await (await fetch(`${eng.url}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n'))
    if (line.startsWith(`${name}{`) || line.startsWith(`${name} `))
      sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

const TEXT = Array.from({ length: 20 }, (_, i) => `sentence number ${i} about the cache`).join(' ');

test('embeddings run as prefill work: prompt tokens counted, a repeat hits the prefix cache', async () => {
  const prompt0 = await counter('vllm:prompt_tokens_total');
  const hits0 = await counter('vllm:prefix_cache_hits_total');
  const a = await client.embeddings.create({ model: 'sim-embed', input: TEXT, encoding_format: 'float' });
  assert.equal((await counter('vllm:prompt_tokens_total')) - prompt0, a.usage.prompt_tokens);
  const b = await client.embeddings.create({ model: 'sim-embed', input: TEXT, encoding_format: 'float' });
  assert.deepEqual(b.data[0].embedding, a.data[0].embedding);
  assert.ok((await counter('vllm:prefix_cache_hits_total')) > hits0, 'the second run reused cached blocks');
});

test('limits: an input beyond max_model_len, an unknown model, a GET', async () => {
  const long = 'word '.repeat(600);
  await assert.rejects(client.embeddings.create({ model: 'sim-embed', input: ['ok', long] }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError && /maximum context length/.test(e.message), String(e));
    return true;
  });
  await assert.rejects(client.responses.create({ model: 'sim-embed', input: long }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.BadRequestError, String(e));
    return true;
  });
  await assert.rejects(client.embeddings.create({ model: 'nope', input: 'x' }), (e: unknown) => {
    assert.ok(e instanceof OpenAI.NotFoundError && e.param === 'model', String(e));
    return true;
  });
  assert.equal((await fetch(`${eng.url}/v1/embeddings`)).status, 405);
  assert.equal((await fetch(`${eng.url}/v1/responses`)).status, 405);
  const bad = await fetch(`${eng.url}/v1/responses`, { method: 'POST', body: '{"input":' });
  assert.equal(bad.status, 400);
  const still = await client.embeddings.create({ model: 'sim-embed', input: 'still serving' });
  assert.equal(still.data.length, 1);
});

test('faults apply: an injected error answers both endpoints, drop-mid-stream cuts a Responses stream', async () => {
  const set = (f: object) =>
    fetch(`${eng.url}/admin/faults`, { method: 'POST', body: JSON.stringify(f) }).then((r) => r.json());
  await set({ mode: 'error', status: 503, count: 2 });
  await assert.rejects(client.embeddings.create({ model: 'sim-embed', input: 'x' }), (e: any) => e.status === 503);
  await assert.rejects(client.responses.create({ model: 'sim-embed', input: 'x' }), (e: any) => e.status === 503);
  await set({ mode: 'drop-mid-stream', afterChunks: 6, count: 1 });
  const stream = await client.responses.create({
    model: 'sim-embed',
    input: 'x',
    max_output_tokens: 200,
    stream: true,
  });
  const types: string[] = [];
  await assert.rejects(async () => {
    for await (const ev of stream) types.push(ev.type);
    // Reaching here means the stream ended cleanly; the checks below then tell whether it completed.
    throw new Error(`stream ended after ${types.join(',')}`);
  });
  assert.ok(!types.includes('response.completed'), types.join(','));
  assert.ok(types.length <= 6, types.join(','));
});
