// Prefill/decode disaggregation over HTTP, following vLLM's toy proxy for the NixlConnector.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startEngine } from '../../src/engine/index.js';

async function postJson(url: string, body: object, headers: Record<string, string> = {}): Promise<any> {
  const r = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json();
}

test('NixlConnector flow: prefill returns kv_transfer_params, decode streams, blocks released', async () => {
  const prefill = await startEngine({ model: 'm', role: 'prefill', speedup: 20 });
  const decode = await startEngine({ model: 'm', role: 'decode', speedup: 20 });
  try {
    const prompt = Array.from({ length: 300 }, (_, i) => `token${i}`).join(' ');
    const p = await postJson(
      `${prefill.url}/v1/completions`,
      {
        model: 'm',
        prompt,
        max_tokens: 1,
        stream: false,
        kv_transfer_params: {
          do_remote_decode: true,
          do_remote_prefill: false,
          remote_engine_id: null,
          remote_block_ids: null,
          remote_host: null,
          remote_port: null,
        },
      },
      { 'x-request-id': 'pd-1' },
    );
    const kvp = p.kv_transfer_params;
    assert.equal(kvp.do_remote_prefill, true);
    assert.equal(kvp.do_remote_decode, false);
    assert.equal(kvp.remote_engine_id, prefill.engine.engineId);
    assert.equal(kvp.remote_port, prefill.port);
    assert.equal(kvp.tp_size, 1);
    assert.ok(kvp.remote_block_ids.length > 0);
    assert.equal(prefill.engine.held.size, 1, 'prefill holds the blocks for the decode side');

    const r = await fetch(`${decode.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-request-id': 'pd-1' },
      body: JSON.stringify({
        model: 'm',
        prompt,
        max_tokens: 5,
        ignore_eos: true,
        stream: true,
        stream_options: { include_usage: true },
        kv_transfer_params: kvp,
      }),
    });
    const text = await r.text();
    assert.ok(text.endsWith('data: [DONE]\n\n'));
    const usage = JSON.parse(
      text
        .split('\n\n')
        .filter((l) => l.includes('"usage"'))
        .at(-1)!
        .slice(6),
    ).usage;
    assert.equal(usage.completion_tokens, 5);
    assert.equal(prefill.engine.held.size, 0, 'released once pulled');
    assert.equal(prefill.engine.core.kv.usage(), 0);
    // Decode computed only the last prompt token itself.
    const m = await (await fetch(`${decode.url}/metrics`)).text();
    const iter = m.split('\n').find((l) => l.startsWith('vllm:iteration_tokens_total_sum'))!;
    assert.ok(Number(iter.split(' ')[1]) < 10, iter);
  } finally {
    await prefill.close();
    await decode.close();
  }
});

test('a decode request with a prompt shorter than a block gets no remote blocks and computes locally', async () => {
  const prefill = await startEngine({ model: 'm', role: 'prefill', speedup: 20 });
  try {
    const p = await postJson(`${prefill.url}/v1/completions`, {
      model: 'm',
      prompt: 'hi',
      max_tokens: 1,
      kv_transfer_params: { do_remote_decode: true },
    });
    assert.ok(Array.isArray(p.kv_transfer_params.remote_block_ids));
    const d = await postJson(`${prefill.url}/v1/completions`, {
      model: 'm',
      prompt: 'hi',
      max_tokens: 2,
      ignore_eos: true,
      kv_transfer_params: { ...p.kv_transfer_params, remote_block_ids: [] },
    });
    assert.equal(d.usage.completion_tokens, 2);
  } finally {
    await prefill.close();
  }
});

test('SGLang bootstrap pairing: concurrent prefill and decode requests share a bootstrap_room', async () => {
  const prefill = await startEngine({ model: 'm', engine: 'sglang', role: 'prefill', speedup: 20 });
  const decode = await startEngine({ model: 'm', engine: 'sglang', role: 'decode', speedup: 20 });
  try {
    const body = {
      model: 'm',
      prompt: Array.from({ length: 500 }, (_, i) => `w${i}`).join(' '),
      bootstrap_host: '127.0.0.1',
      bootstrap_port: 8998,
      bootstrap_room: 123456789,
    };
    const [p, d] = await Promise.all([
      postJson(`${prefill.url}/v1/completions`, { ...body, max_tokens: 1 }),
      postJson(`${decode.url}/v1/completions`, { ...body, max_tokens: 4, ignore_eos: true }),
    ]);
    assert.equal(p.usage.completion_tokens, 1);
    assert.equal(d.usage.completion_tokens, 4);
    const m = await (await fetch(`${decode.url}/metrics`)).text();
    assert.match(m, /^sglang:num_running_reqs/m);
  } finally {
    await prefill.close();
    await decode.close();
  }
});
