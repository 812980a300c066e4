// /v1/embeddings and /v1/responses through the router over loopback, answered by simulated engines, driven by the
// official openai npm client: the fields its types expose, streamed and not, and errors with `param`.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { ResponseStreamEvent } from 'openai/resources/responses/responses';
import { type Booted, bootExample } from './router-helpers.js';

const MODEL = 'qwen-0-5b';
/** The router sends the ModelServer's model name upstream, so that is what the engine answers with. */
const UPSTREAM = 'Qwen/Qwen2.5-0.5B-Instruct';
let b: Booted;

before(async () => {
  b = await bootExample('simple-route.yaml', { replicas: 2 });
});
after(async () => {
  await b?.close();
});

const norm = (v: readonly number[]) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

test('embeddings: default (base64, decoded by the client), float with dimensions, token ids; usage', async () => {
  const a = await b.client.embeddings.create({ model: MODEL, input: 'The router routes embeddings too' });
  assert.equal(a.object, 'list');
  assert.equal(a.model, UPSTREAM);
  assert.equal(a.data.length, 1);
  assert.equal(a.data[0].object, 'embedding');
  assert.equal(a.data[0].index, 0);
  assert.equal(a.data[0].embedding.length, 1024);
  assert.ok(Math.abs(norm(a.data[0].embedding) - 1) < 1e-4, 'unit vector');
  assert.ok(a.usage.prompt_tokens > 0);
  assert.equal(a.usage.total_tokens, a.usage.prompt_tokens);

  const f = await b.client.embeddings.create({
    model: MODEL,
    input: ['The router routes embeddings too', 'something else entirely'],
    encoding_format: 'float',
    dimensions: 64,
  });
  assert.deepEqual(
    f.data.map((d) => [d.index, d.embedding.length]),
    [
      [0, 64],
      [1, 64],
    ],
  );
  assert.ok(f.usage.prompt_tokens > a.usage.prompt_tokens, 'usage counts every input');
  const f64 = await b.client.embeddings.create({
    model: MODEL,
    input: 'The router routes embeddings too',
    dimensions: 64,
  });
  f64.data[0].embedding.forEach((x, i) => {
    assert.ok(Math.abs(x - f.data[0].embedding[i]) < 1e-6, 'base64 and float agree; replicas agree');
  });

  const t = await b.client.embeddings.create({
    model: MODEL,
    input: [
      [1, 2, 3],
      [4, 5],
    ],
    encoding_format: 'float',
  });
  assert.equal(t.data.length, 2);
  assert.equal(t.usage.prompt_tokens, 5);
});

test('embeddings: bad input is a 400 with param, relayed through the router', async () => {
  for (const [body, param] of [
    [{ model: MODEL, input: '' }, 'input'],
    [{ model: MODEL, input: 'x', dimensions: 100_000 }, 'dimensions'],
    [{ model: MODEL, input: 'x', encoding_format: 'int8' as 'float' }, 'encoding_format'],
  ] as const) {
    await assert.rejects(b.client.embeddings.create(body as OpenAI.EmbeddingCreateParams), (e: unknown) => {
      assert.ok(e instanceof OpenAI.BadRequestError, String(e));
      assert.equal(e.status, 400);
      assert.equal(e.param, param, JSON.stringify(e.error));
      return true;
    });
  }
});

test('responses: non-streamed Response object with output text, usage and the request echoed', async () => {
  const r = await b.client.responses.create({
    model: MODEL,
    instructions: 'Answer briefly.',
    input: 'Say hello to the Responses API',
    max_output_tokens: 16,
    metadata: { case: 'plain' },
  });
  assert.equal(r.object, 'response');
  assert.match(r.id, /^resp_/);
  assert.equal(r.model, UPSTREAM);
  assert.ok(r.status === 'completed' || r.status === 'incomplete', r.status);
  assert.equal(r.instructions, 'Answer briefly.');
  assert.equal(r.max_output_tokens, 16);
  assert.deepEqual(r.metadata, { case: 'plain' });
  assert.equal(r.error, null);
  assert.equal(r.output.length, 1);
  const msg = r.output[0];
  assert.equal(msg.type, 'message');
  assert.ok(msg.type === 'message' && msg.role === 'assistant' && msg.content[0].type === 'output_text');
  assert.ok(r.output_text.length > 0, 'the client assembles output_text');
  assert.ok(r.usage && r.usage.input_tokens > 0 && r.usage.output_tokens > 0 && r.usage.output_tokens <= 16);
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);

  const cut = await b.client.responses.create({
    model: MODEL,
    input: [
      { role: 'user', content: 'first' },
      { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
      { role: 'user', content: [{ type: 'input_text', text: 'and again' }] },
    ] as OpenAI.Responses.ResponseInput,
    max_output_tokens: 1,
  });
  assert.equal(cut.status, 'incomplete');
  assert.deepEqual(cut.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(cut.usage?.output_tokens, 1);
});

test('responses: streamed events in the Responses API order, deltas add up to the final text', async () => {
  const stream = await b.client.responses.create({
    model: MODEL,
    input: 'Stream to me',
    max_output_tokens: 24,
    stream: true,
  });
  const events: ResponseStreamEvent[] = [];
  for await (const ev of stream) events.push(ev);
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(0, 4), [
    'response.created',
    'response.in_progress',
    'response.output_item.added',
    'response.content_part.added',
  ]);
  const last = events[events.length - 1];
  assert.ok(last.type === 'response.completed' || last.type === 'response.incomplete', last.type);
  assert.deepEqual(types.slice(-4, -1), [
    'response.output_text.done',
    'response.content_part.done',
    'response.output_item.done',
  ]);
  assert.ok(
    types.slice(4, -4).every((t) => t === 'response.output_text.delta'),
    'only text deltas in between',
  );
  assert.deepEqual(
    events.map((e) => e.sequence_number),
    events.map((_, i) => i),
    'sequence numbers count up from 0',
  );
  let text = '';
  for (const e of events) if (e.type === 'response.output_text.delta') text += e.delta;
  assert.ok(text.length > 0);
  const done = events.find((e) => e.type === 'response.output_text.done');
  assert.ok(done?.type === 'response.output_text.done' && done.text === text);
  assert.ok(last.type === 'response.completed' || last.type === 'response.incomplete');
  const final = last.response;
  assert.equal(
    final.output[0].type === 'message' &&
      final.output[0].content[0].type === 'output_text' &&
      final.output[0].content[0].text,
    text,
  );
  assert.ok(final.usage && final.usage.output_tokens > 0);

  // The client's own accumulator (responses.stream) rebuilds the same Response from the events.
  const helper = b.client.responses.stream({ model: MODEL, input: 'Stream to me', max_output_tokens: 24 });
  const fin = await helper.finalResponse();
  assert.equal(fin.output_text, text, 'same prompt → same text on either replica');
});

test('responses: unsupported items and bad fields are 400s with param', async () => {
  for (const [body, param] of [
    [{ model: MODEL, input: [{ type: 'function_call_output', call_id: 'c', output: 'x' }] }, 'input'],
    [{ model: MODEL, input: 'x', max_output_tokens: 0 }, 'max_output_tokens'],
    [{ model: MODEL, input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id'],
  ] as const) {
    await assert.rejects(
      b.client.responses.create(body as OpenAI.Responses.ResponseCreateParamsNonStreaming),
      (e: unknown) => {
        assert.ok(e instanceof OpenAI.BadRequestError, String(e));
        assert.equal(e.param, param, JSON.stringify(e.error));
        return true;
      },
    );
  }
});

test('both endpoints were served through the router by the ModelServer (its request metric, by path)', async () => {
  const { parsePrometheusText } = await import('../../src/promtext/index.js');
  const byPath: Record<string, number> = {};
  for (const m of parsePrometheusText(
    await b.h.router.metrics.registry.metrics(),
    (n) => n === 'kthena_router_requests_total',
  )) {
    if (m.labels.status_code !== '200' || m.labels.backend_type !== 'model_server') continue;
    byPath[m.labels.path] = (byPath[m.labels.path] ?? 0) + m.value;
  }
  assert.ok((byPath['/v1/embeddings'] ?? 0) >= 4, JSON.stringify(byPath));
  assert.ok((byPath['/v1/responses'] ?? 0) >= 4, JSON.stringify(byPath));
  // Output tokens come from the engine's usage: the Responses API's output_tokens, streamed and not.
  let out = 0;
  for (const m of parsePrometheusText(
    await b.h.router.metrics.registry.metrics(),
    (n) => n === 'kthena_router_tokens_total',
  ))
    if (m.labels.path === '/v1/responses' && m.labels.token_type === 'output') out += m.value;
  assert.ok(out >= 4, `router counted ${out} output tokens for /v1/responses`);
});
