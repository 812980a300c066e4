import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIM_TOKENIZER } from '../tokens/index.js';
import { base64Floats, EMBEDDING_DIM, embeddingsBody, embedTokens, parseEmbeddings } from './embeddings.js';
import { HttpError } from './openai-errors.js';

const parse = (b: unknown) => parseEmbeddings(b, SIM_TOKENIZER);

function rejects(b: unknown, param: string): void {
  assert.throws(
    () => parse(b),
    (e: unknown) => e instanceof HttpError && e.status === 400 && e.param === param,
    JSON.stringify(b),
  );
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);

test('input in all four OpenAI shapes becomes one token list per input', () => {
  assert.equal(parse({ input: 'hello world' }).inputs.length, 1);
  assert.equal(parse({ input: ['a', 'b c'] }).inputs.length, 2);
  assert.deepEqual(parse({ input: [5, 6, 7] }).inputs, [[5, 6, 7]]);
  assert.deepEqual(parse({ input: [[1], [2, 3]] }).inputs, [[1], [2, 3]]);
  const p = parse({ input: 'x' });
  assert.equal(p.encoding, 'float');
  assert.equal(p.dimensions, EMBEDDING_DIM);
});

test('bad input, encoding_format, dimensions and model are 400s naming the field', () => {
  rejects({}, 'input');
  rejects({ input: '' }, 'input');
  rejects({ input: [] }, 'input');
  rejects({ input: ['ok', 3] }, 'input');
  rejects({ input: [[1], []] }, 'input');
  rejects({ input: [[-1]] }, 'input');
  rejects({ input: { text: 'x' } }, 'input');
  rejects({ input: 'x', encoding_format: 'int8' }, 'encoding_format');
  rejects({ input: 'x', dimensions: 0 }, 'dimensions');
  rejects({ input: 'x', dimensions: EMBEDDING_DIM + 1 }, 'dimensions');
  rejects({ input: 'x', dimensions: 2.5 }, 'dimensions');
  rejects({ input: 'x', model: 7 }, 'model');
  assert.throws(
    () => parse([]),
    (e: unknown) => e instanceof HttpError && e.status === 400,
  );
});

test('vectors are deterministic unit vectors; shared tokens bring inputs closer', () => {
  const tok = (s: string) => SIM_TOKENIZER.encodePrompt(s, true);
  const a = embedTokens(tok('the cat sat on the mat'), 256);
  const a2 = embedTokens(tok('the cat sat on the mat'), 256);
  const b = embedTokens(tok('the cat sat on a rug'), 256);
  const c = embedTokens(tok('quantum chromodynamics lecture notes'), 256);
  assert.deepEqual(a, a2);
  assert.equal(a.length, 256);
  assert.ok(Math.abs(dot(a, a) - 1) < 1e-5);
  assert.ok(dot(a, b) > dot(a, c), `${dot(a, b)} > ${dot(a, c)}`);
});

test('dimensions truncates the native vector and renormalises it', () => {
  const t = [11, 22, 33];
  const full = embedTokens(t, EMBEDDING_DIM);
  const short = embedTokens(t, 8);
  const head = full.slice(0, 8);
  const n = Math.sqrt(dot(head, head));
  for (let i = 0; i < 8; i++) assert.ok(Math.abs(short[i] - head[i] / n) < 1e-5);
});

test('base64 is the little-endian float32 bytes; the body carries usage', () => {
  const v = new Float32Array([1, -0.5, 0.25]);
  const back = new Float32Array(new Uint8Array(Buffer.from(base64Floats(v), 'base64')).buffer);
  assert.deepEqual(back, v);
  const p = parse({
    input: [
      [1, 2],
      [3, 4, 5],
    ],
    encoding_format: 'base64',
    dimensions: 4,
  });
  const body = embeddingsBody(p, 'embd-x', 'm', 0) as any;
  assert.equal(body.object, 'list');
  assert.deepEqual(body.usage, { prompt_tokens: 5, total_tokens: 5 });
  assert.deepEqual(
    body.data.map((d: any) => [d.object, d.index, typeof d.embedding]),
    [
      ['embedding', 0, 'string'],
      ['embedding', 1, 'string'],
    ],
  );
});
