import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { estimateTokens, extractPrompt, promptString } from './prompt.js';

test('completion prompt is used as-is', () => {
  const p = extractPrompt({ prompt: 'hello' })!;
  assert.deepEqual(p, { kind: 'text', text: 'hello' });
  assert.equal(promptString(p), 'hello');
});

test('chat messages render as ChatML, with text parts joined and non-text parts dropped', () => {
  const p = extractPrompt({
    system: 'be brief',
    messages: [
      { role: 'user', content: [{ type: 'text', text: 'a' }, { type: 'image_url', image_url: {} }, { text: 'b' }] },
      { role: 'assistant', content: 'c' },
      { role: 7, content: 'dropped' },
      { role: 'user', content: 42 },
    ],
  })!;
  assert.equal(
    promptString(p),
    '<|im_start|>system\nbe brief<|im_end|>\n<|im_start|>user\na\nb<|im_end|>\n<|im_start|>assistant\nc<|im_end|>\n',
  );
});

test('Responses API input: string, item list and instructions', () => {
  assert.equal(
    promptString(extractPrompt({ input: 'hi', instructions: 'sys' })!),
    '<|im_start|>developer\nsys<|im_end|>\n<|im_start|>user\nhi<|im_end|>\n',
  );
  const p = extractPrompt({
    input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'x' }] }, { type: 'function_call' }],
  })!;
  assert.equal(promptString(p), '<|im_start|>user\nx<|im_end|>\n');
});

test('embeddings input is text: a string, strings joined, token ids routable with no text', () => {
  assert.deepEqual(extractPrompt({ input: 'abc' }, '/v1/embeddings'), { kind: 'text', text: 'abc' });
  assert.deepEqual(extractPrompt({ input: ['a', 'b'] }, '/v1/embeddings'), { kind: 'text', text: 'a\nb' });
  assert.deepEqual(extractPrompt({ input: [[1, 2]] }, '/v1/embeddings'), { kind: 'text', text: '' });
  assert.equal(extractPrompt({ input: 5 }, '/v1/embeddings'), undefined);
  assert.equal(extractPrompt({ input: 'abc' })?.kind, 'chat', 'elsewhere input is a Responses API conversation');
});

test('no prompt, messages or input → undefined; wrong types → undefined', () => {
  assert.equal(extractPrompt({ model: 'm' }), undefined);
  assert.equal(extractPrompt({ prompt: 5 }), undefined);
  assert.equal(extractPrompt({ messages: 'x' }), undefined);
  assert.equal(extractPrompt({ input: 5 }), undefined);
});

test('token estimate is ceil(code points / 4)', () => {
  assert.equal(estimateTokens(''), 0);
  assert.equal(estimateTokens('abcd'), 1);
  assert.equal(estimateTokens('abcde'), 2);
  assert.equal(estimateTokens('😀😀😀😀😀'), 2, 'counts code points, not UTF-16 units');
});

test('token estimate counts code points exactly like for…of, lone surrogates included', () => {
  fc.assert(
    fc.property(
      fc.array(fc.oneof(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0xd7f0, max: 0xe010 }))),
      (units) => {
        const s = String.fromCharCode(...units);
        assert.equal(estimateTokens(s), Math.ceil([...s].length / 4));
      },
    ),
  );
});
