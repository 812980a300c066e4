import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { countDataEvents, TailBuffer, UsageChunkFilter, usageFromTail } from './usage.js';

const chunk = (content: string) =>
  `data: ${JSON.stringify({ id: 'x', choices: [{ index: 0, delta: { content } }], usage: null })}\n\n`;
const usageChunk = `data: ${JSON.stringify({ id: 'x', choices: [], usage: { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 } })}\n\n`;
const stream = chunk('a') + chunk('b "usage" in text') + usageChunk + 'data: [DONE]\n\n';

test('usage from the tail: chat chunks, non-streaming bodies and Responses API events', () => {
  assert.deepEqual(usageFromTail(stream), { promptTokens: 7, completionTokens: 3 });
  assert.deepEqual(usageFromTail('{"choices":[],"usage": {"prompt_tokens":1,"completion_tokens":2}}'), {
    promptTokens: 1,
    completionTokens: 2,
  });
  assert.deepEqual(
    usageFromTail(
      'event: response.completed\ndata: {"response":{"usage":{"input_tokens":4,"output_tokens":5,"total_tokens":9}}}\n\n',
    ),
    { promptTokens: 4, completionTokens: 5 },
  );
  assert.equal(usageFromTail(chunk('a')), undefined, 'usage: null is no usage');
  assert.equal(usageFromTail('"usage":{"prompt_tokens":1'), undefined, 'truncated object');
});

test('the filter drops only the usage-only event, wherever the stream is split', () => {
  const expected = chunk('a') + chunk('b "usage" in text') + 'data: [DONE]\n\n';
  const bytes = Buffer.from(stream);
  fc.assert(
    fc.property(fc.uniqueArray(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 8 }), (cuts) => {
      const f = new UsageChunkFilter();
      const points = [0, ...cuts.sort((a, b) => a - b), bytes.length];
      let out = '';
      for (let i = 0; i < points.length - 1; i++) {
        const o = f.push(bytes.subarray(points[i], points[i + 1]));
        if (o) out += o.toString();
      }
      const rest = f.flush();
      if (rest) out += rest.toString();
      assert.equal(out, expected);
    }),
    { numRuns: 300 },
  );
});

test('chunks without "usage" pass through as the very same buffer', () => {
  const f = new UsageChunkFilter();
  const b = Buffer.from(chunk('x').replace(',"usage":null', ''));
  assert.equal(f.push(b), b);
});

test('tail buffer keeps at least the last max bytes', () => {
  const t = new TailBuffer(10);
  for (let i = 0; i < 100; i++) t.push(Buffer.from(`${i % 10}`.repeat(3)));
  assert.equal(t.toString().length, 10);
  assert.ok(t.toString().endsWith('999'));
  assert.equal(countDataEvents(Buffer.from(stream)), 4);
});
