// The simulated engine behind the official openai npm client, over loopback.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { type RunningEngine, startEngine, startEngines } from '../../src/engine/index.js';

const parseProm = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  t: string,
) => { name: string; type: string; metrics: any[] }[];

let eng: RunningEngine;
let client: OpenAI;

before(async () => {
  eng = await startEngine({
    model: 'sim-model',
    seed: 1,
    speedup: 20,
    enableLora: true,
    maxLoras: 2,
    enableAdmin: true,
  });
  client = new OpenAI({ baseURL: `${eng.url}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await eng.close();
});

async function post(path: string, body: string | object): Promise<{ status: number; json: any; text: string }> {
  const r = await fetch(`${eng.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {}
  return { status: r.status, json, text };
}

const LONG = Array.from({ length: 100 }, (_, i) => `The quick brown fox ${i} jumps over the lazy dog.`).join(' ');

test('models lists the served model', async () => {
  const models = await client.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['sim-model'],
  );
});

test('non-streaming completion: usage, max_tokens, deterministic text, cached tokens on repeat', async () => {
  const params = { model: 'sim-model', prompt: LONG, max_tokens: 12, ignore_eos: true } as any;
  const a = await client.completions.create(params);
  assert.equal(a.object, 'text_completion');
  assert.equal(a.usage?.completion_tokens, 12);
  assert.equal(a.choices[0].finish_reason, 'length');
  assert.ok((a.usage?.prompt_tokens ?? 0) > 1000);
  const b = await client.completions.create(params);
  assert.equal(b.choices[0].text, a.choices[0].text, 'same seed and prompt → same text');
  const cached = (b.usage as any).prompt_tokens_details.cached_tokens;
  assert.ok(cached > 0 && cached < (b.usage?.prompt_tokens ?? 0), `cached_tokens=${cached}`);
  // The text re-tokenizes to the reported completion token count.
  const tok = await post('/tokenize', { prompt: a.choices[0].text, add_special_tokens: false });
  assert.equal(tok.json.count, 12);
});

test('streaming chat with include_usage ends with a usage chunk (choices: []) and [DONE]', async () => {
  const stream = await client.chat.completions.create({
    model: 'sim-model',
    messages: [{ role: 'user', content: 'hello there' }],
    max_completion_tokens: 9,
    stream: true,
    stream_options: { include_usage: true },
    ignore_eos: true,
  } as any);
  let text = '';
  let usage: any = null;
  let finish: string | null = null;
  let chunks = 0;
  let sawRole = false;
  for await (const c of stream as any) {
    chunks++;
    if (c.usage) {
      usage = c.usage;
      assert.deepEqual(c.choices, []);
      continue;
    }
    const ch = c.choices[0];
    if (ch.delta.role === 'assistant') sawRole = true;
    text += ch.delta.content ?? '';
    if (ch.finish_reason) finish = ch.finish_reason;
  }
  assert.ok(sawRole);
  assert.equal(finish, 'length');
  assert.equal(usage.completion_tokens, 9);
  assert.equal(usage.total_tokens, usage.prompt_tokens + 9);
  assert.ok(chunks >= 3);
  assert.ok(text.length > 0);
  // Same conversation, non-streaming: same text.
  const nonStream = await client.chat.completions.create({
    model: 'sim-model',
    messages: [{ role: 'user', content: 'hello there' }],
    max_completion_tokens: 9,
    ignore_eos: true,
  } as any);
  assert.equal(nonStream.choices[0].message.content, text);
  assert.equal(nonStream.choices[0].message.role, 'assistant');
});

test('raw SSE: the stream ends with data: [DONE]', async () => {
  const r = await fetch(`${eng.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-model', prompt: 'hi', max_tokens: 3, stream: true, ignore_eos: true }),
  });
  assert.equal(r.headers.get('content-type')?.startsWith('text/event-stream'), true);
  const body = await r.text();
  assert.ok(body.endsWith('data: [DONE]\n\n'));
  assert.ok(!body.includes('"usage"'), 'no usage chunk without include_usage');
});

test('/tokenize: vLLM shape for prompt and messages; counts match usage', async () => {
  const t = await post('/tokenize', { model: 'sim-model', prompt: LONG });
  assert.equal(t.status, 200);
  assert.equal(t.json.count, t.json.tokens.length);
  assert.equal(t.json.max_model_len, eng.engine.cfg.maxModelLen);
  const c = await client.completions.create({ model: 'sim-model', prompt: LONG, max_tokens: 1 });
  assert.equal(c.usage?.prompt_tokens, t.json.count);
  const m = await post('/tokenize', {
    model: 'sim-model',
    messages: [{ role: 'user', content: 'hi' }],
    add_generation_prompt: true,
    return_token_strs: true,
  });
  assert.equal(
    m.json.token_strs.join(''),
    '<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  );
  assert.equal((await post('/tokenize', { prompt: 5 })).status, 400);
});

test('bad input: OpenAI-style errors with the right status, and the engine keeps serving', async () => {
  const cases: [string | object, number][] = [
    ['{"model": "sim-model", ', 400],
    ['', 400],
    ['[1,2]', 400],
    [{ model: 'nope', prompt: 'x' }, 404],
    [{ model: 'sim-model' }, 400],
    [{ model: 'sim-model', prompt: 'x', max_tokens: 'ten' }, 400],
    [{ model: 'sim-model', prompt: 'x', max_tokens: 0 }, 400],
    [{ model: 'sim-model', prompt: 'x', n: 2 }, 400],
    [{ model: 'sim-model', prompt: 'x', stream: 'yes' }, 400],
    [{ model: 'sim-model', prompt: 'x', stream_options: { include_usage: true } }, 400],
    [{ model: 'sim-model', prompt: 'x', temperature: 'hot' }, 400],
    [{ model: 42, prompt: 'x' }, 400],
    [{ model: 'sim-model', prompt: ['a', 'b'] }, 400],
    [{ model: 'sim-model', prompt: 'x', max_tokens: 5, min_tokens: 9 }, 400],
    [{ model: 'sim-model', prompt: 'x', kv_transfer_params: { remote_block_ids: 'x' } }, 400],
  ];
  for (const [body, status] of cases) {
    const r = await post('/v1/completions', body);
    assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.status} ${r.text}`);
    assert.equal(typeof r.json?.error?.message, 'string');
    assert.equal(typeof r.json?.error?.type, 'string');
    assert.equal(r.json?.error?.code, status);
  }
  const chat = await post('/v1/chat/completions', { model: 'sim-model', messages: [{ content: 'no role' }] });
  assert.equal(chat.status, 400);
  const tooLong = await post('/v1/completions', { model: 'sim-model', prompt: [Array(200_000).fill(5)] });
  assert.equal(tooLong.status, 400);
  assert.match(tooLong.json.error.message, /maximum context length/);
  const overBudget = await post('/v1/completions', { model: 'sim-model', prompt: 'x', max_tokens: 200_000 });
  assert.equal(overBudget.status, 400);
  await assert.rejects(client.completions.create({ model: 'missing', prompt: 'x' }), (e: any) => e.status === 404);
  assert.equal((await fetch(`${eng.url}/nowhere`)).status, 404);
  assert.equal((await fetch(`${eng.url}/v1/completions`)).status, 405);
  // Still serving.
  const ok = await client.completions.create({ model: 'sim-model', prompt: 'still alive?', max_tokens: 2 });
  assert.ok(ok.usage);
});

test('metrics parse with an independent Prometheus parser and count what happened', async () => {
  const text = await (await fetch(`${eng.url}/metrics`)).text();
  const fams = parseProm(text);
  const names = new Map(fams.map((f) => [f.name, f]));
  for (const n of [
    'vllm:num_requests_running',
    'vllm:num_requests_waiting',
    'vllm:kv_cache_usage_perc',
    'vllm:prefix_cache_queries_total',
    'vllm:prefix_cache_hits_total',
    'vllm:num_preemptions_total',
    'vllm:prompt_tokens_total',
    'vllm:generation_tokens_total',
    'vllm:time_to_first_token_seconds',
    'vllm:inter_token_latency_seconds',
    'vllm:e2e_request_latency_seconds',
    'vllm:request_queue_time_seconds',
    'vllm:request_prefill_time_seconds',
    'vllm:request_decode_time_seconds',
    'vllm:cache_config_info',
    'vllm:lora_requests_info',
  ])
    assert.ok(names.has(n), `missing ${n}`);
  assert.equal(names.get('vllm:time_to_first_token_seconds')?.type, 'HISTOGRAM');
  assert.equal(names.get('vllm:prefix_cache_hits_total')?.type, 'COUNTER');
  assert.ok(Number(names.get('vllm:prefix_cache_hits_total')?.metrics[0].value) > 0);
  assert.ok(Number(names.get('vllm:generation_tokens_total')?.metrics[0].value) > 20);
});

test('LoRA adapters: load, list, serve, unload (404 afterwards); bad bodies rejected', async () => {
  assert.equal((await post('/v1/load_lora_adapter', { lora_name: 'ad1' })).status, 400);
  const ok = await post('/v1/load_lora_adapter', { lora_name: 'ad1', lora_path: '/adapters/ad1' });
  assert.equal(ok.status, 200, ok.text);
  assert.equal((await post('/v1/load_lora_adapter', { lora_name: 'ad1', lora_path: '/x' })).status, 400);
  const models = await client.models.list();
  const ad = models.data.find((m) => m.id === 'ad1') as any;
  assert.equal(ad.parent, 'sim-model');
  assert.equal(ad.root, '/adapters/ad1');
  const r = await client.completions.create({ model: 'ad1', prompt: 'hi', max_tokens: 2 });
  assert.equal(r.model, 'ad1');
  assert.equal((await post('/v1/unload_lora_adapter', { lora_name: 'ad1' })).status, 200);
  assert.equal((await post('/v1/unload_lora_adapter', { lora_name: 'ad1' })).status, 404);
  assert.equal((await post('/v1/completions', { model: 'ad1', prompt: 'hi' })).status, 404);
});

test('fault injection: error, drop-mid-stream, hang, then cleared', async () => {
  const set = await post('/admin/faults', { mode: 'error', status: 503, count: 1 });
  assert.equal(set.status, 200);
  const e1 = await post('/v1/completions', { model: 'sim-model', prompt: 'x', max_tokens: 1 });
  assert.equal(e1.status, 503);
  assert.ok(e1.json.error);
  assert.equal((await post('/v1/completions', { model: 'sim-model', prompt: 'x', max_tokens: 1 })).status, 200);

  await post('/admin/faults', { mode: 'drop-mid-stream', afterChunks: 2, count: 1 });
  await assert.rejects(async () => {
    const s = await client.completions.create({
      model: 'sim-model',
      prompt: 'x',
      max_tokens: 50,
      stream: true,
      ignore_eos: true,
    } as any);
    for await (const _ of s as any) {
      // drain until the connection drops
    }
  });

  await post('/admin/faults', { mode: 'hang' });
  const ac = new AbortController();
  const hung = fetch(`${eng.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'sim-model', prompt: 'x' }),
    signal: ac.signal,
  });
  const raced = await Promise.race([
    hung.then(() => 'answered'),
    new Promise((r) => setTimeout(() => r('pending'), 200)),
  ]);
  assert.equal(raced, 'pending');
  ac.abort();
  await assert.rejects(hung);
  assert.equal((await fetch(`${eng.url}/admin/faults`, { method: 'DELETE' })).status, 200);
  assert.equal((await post('/v1/completions', { model: 'sim-model', prompt: 'x', max_tokens: 1 })).status, 200);
  assert.equal((await post('/admin/faults', { mode: 'explode' })).status, 400);
  assert.equal((await post('/admin/faults', { mode: 'error', status: 99 })).status, 400);
});

test('without enableAdmin the admin endpoints answer 404 with how to enable them; generation still works', async () => {
  const plain = await startEngine({ model: 'sim-model', seed: 1, speedup: 20 });
  try {
    for (const [method, path] of [
      ['POST', '/admin/faults'],
      ['GET', '/admin/faults'],
      ['DELETE', '/admin/faults'],
      ['GET', '/admin/stats'],
      ['GET', '/admin/anything'],
    ]) {
      const r = await fetch(`${plain.url}${path}`, { method, body: method === 'POST' ? '{"mode":"hang"}' : undefined });
      assert.equal(r.status, 404, `${method} ${path}`);
      const body = (await r.json()) as { error: { message: string; type: string } };
      assert.match(body.error.message, /disabled.*--enable-admin/);
    }
    const ok = await fetch(`${plain.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'sim-model', prompt: 'x', max_tokens: 1 }),
    });
    assert.equal(ok.status, 200);
  } finally {
    await plain.close();
  }
});

test('client abort mid-stream frees the request', async () => {
  const ac = new AbortController();
  const r = await fetch(`${eng.url}/v1/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model: 'sim-model',
      prompt: 'abort me',
      max_tokens: 100_000 - 10,
      stream: true,
      ignore_eos: true,
    }),
    signal: ac.signal,
  });
  const reader = r.body!.getReader();
  await reader.read();
  ac.abort();
  for (let i = 0; i < 1000 && eng.engine.core.running.length > 0; i++) await new Promise((res) => setTimeout(res, 10));
  assert.equal(eng.engine.core.running.length, 0);
  assert.equal(eng.engine.core.kv.usage(), 0);
});

test('startEngines runs independent replicas on distinct ports', async () => {
  const reps = await startEngines({ model: 'm', replicas: 3, speedup: 20 });
  try {
    assert.equal(new Set(reps.map((r) => r.port)).size, 3);
    for (const r of reps) {
      const c = new OpenAI({ baseURL: `${r.url}/v1`, apiKey: 'x', maxRetries: 0 });
      const out = await c.completions.create({ model: 'm', prompt: 'hello', max_tokens: 2 });
      assert.equal(out.usage?.completion_tokens !== undefined, true);
    }
    assert.notEqual(reps[0].engine.engineId, reps[1].engine.engineId);
  } finally {
    await Promise.all(reps.map((r) => r.close()));
  }
});
