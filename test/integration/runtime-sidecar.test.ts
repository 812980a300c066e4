// `kthena runtime` beside a simulated engine on loopback: health follows the engine, metrics carry the standard
// kthena: names, LoRA load/unload reaches the engine; bad input gets a clear error.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';
import { type RunningRuntime, startRuntime } from '../../src/runtime/index.js';

async function call(url: string, method = 'GET', body?: unknown) {
  const r = await request(url, {
    method: method as 'GET',
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
    headers: body === undefined ? undefined : { 'content-type': 'application/json' },
  });
  return { status: r.statusCode, text: await r.body.text() };
}

describe('kthena runtime beside an engine', () => {
  let engine: RunningEngine;
  let rt: RunningRuntime;
  before(async () => {
    engine = await startEngine({ model: 'base', enableLora: true, maxLoras: 2, host: '127.0.0.1' });
    rt = await startRuntime({ port: 0, host: '127.0.0.1', engine: 'vllm', engineBaseUrl: engine.url, model: 'demo' });
  });
  after(async () => {
    await rt.close();
    await engine.close();
  });

  test("/health is the engine's health", async () => {
    const r = await call(`${rt.url}/health`);
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.text).status, 'ok');
  });

  test("/metrics: the engine's families plus the kthena: ones", async () => {
    const r = await call(`${rt.url}/metrics`);
    assert.equal(r.status, 200);
    assert.match(r.text, /^vllm:num_requests_waiting/m);
    assert.match(r.text, /^kthena:num_requests_waiting\{.*\} 0/m);
    assert.match(r.text, /^kthena:kv_cache_usage_perc/m);
  });

  test('LoRA load and unload are forwarded; the engine then serves the adapter', async () => {
    const load = await call(`${rt.url}/v1/load_lora_adapter`, 'POST', { lora_name: 'sql', lora_path: '/a/sql' });
    assert.equal(load.status, 200, load.text);
    const models = await call(`${engine.url}/v1/models`);
    assert.match(models.text, /"sql"/);
    const unload = await call(`${rt.url}/v1/unload_lora_adapter`, 'POST', { lora_name: 'sql' });
    assert.equal(unload.status, 200, unload.text);
    assert.doesNotMatch((await call(`${engine.url}/v1/models`)).text, /"sql"/);
  });

  test('bad input: not JSON, no lora_name, wrong method, unknown path', async () => {
    const bad = await call(`${rt.url}/v1/load_lora_adapter`, 'POST', '{nope');
    assert.equal(bad.status, 400);
    assert.match(JSON.parse(bad.text).error.message, /must be JSON/);
    const noName = await call(`${rt.url}/v1/load_lora_adapter`, 'POST', { lora_path: '/x' });
    assert.equal(noName.status, 400);
    assert.match(JSON.parse(noName.text).error.message, /lora_name is required/);
    assert.equal((await call(`${rt.url}/v1/load_lora_adapter`)).status, 405);
    assert.equal((await call(`${rt.url}/v1/chat/completions`, 'POST', {})).status, 404);
  });
});

test('engine down: /health and /metrics answer 503 naming the engine URL; bad flags are refused', async () => {
  const rt = await startRuntime({ port: 0, host: '127.0.0.1', engine: 'sglang', engineBaseUrl: 'http://127.0.0.1:9' });
  try {
    const h = await call(`${rt.url}/health`);
    assert.equal(h.status, 503);
    assert.match(JSON.parse(h.text).error.message, /engine unreachable at http:\/\/127\.0\.0\.1:9/);
    assert.equal((await call(`${rt.url}/metrics`)).status, 503);
  } finally {
    await rt.close();
  }
  await assert.rejects(startRuntime({ port: 0, engine: 'mindie', engineBaseUrl: 'http://x' }), /--engine must be/);
  await assert.rejects(
    startRuntime({ port: 0, engine: 'vllm', engineBaseUrl: 'nope' }),
    /--engine-base-url is not a URL/,
  );
});
