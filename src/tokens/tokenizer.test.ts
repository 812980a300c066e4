import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  applyChatTemplate,
  BOS_TOKEN_ID,
  countTokens,
  encodeChat,
  encodePrompt,
  SPECIAL_TOKENS,
  tokenize,
  tokenizeWithStrings,
  VOCAB_SIZE,
} from './tokenizer.js';

const ENGLISH =
  'Kubernetes is an open-source system for automating deployment, scaling, and management of containerized ' +
  'applications. It groups containers that make up an application into logical units for easy management and ' +
  'discovery. Large language models are served by engines such as vLLM, which batch requests continuously and ' +
  'keep the attention keys and values of every sequence in a paged cache.';

test('same text always yields the same ids, in the vocabulary', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      const a = tokenize(s);
      assert.deepEqual(tokenize(s), a);
      assert.equal(countTokens(s), a.length);
      for (const id of a) assert.ok(Number.isInteger(id) && id >= 0 && (id < VOCAB_SIZE || id >= 128_000));
    }),
  );
});

test('pieces reassemble the text exactly', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (s) => {
      assert.equal(tokenizeWithStrings(s).strs.join(''), s);
    }),
  );
  assert.equal(tokenizeWithStrings(ENGLISH).strs.join(''), ENGLISH);
});

test('roughly 4 characters per token on English text', () => {
  const ratio = ENGLISH.length / tokenize(ENGLISH).length;
  assert.ok(ratio > 3.5 && ratio < 5, `chars/token = ${ratio}`);
});

test('a word keeps its leading space; long words split; digits group by three', () => {
  assert.deepEqual(tokenizeWithStrings('The quick brown fox').strs, ['The', ' quick', ' brown', ' fox']);
  assert.deepEqual(tokenizeWithStrings(' internationalization').strs, [' int', 'erna', 'tion', 'aliz', 'atio', 'n']);
  assert.deepEqual(tokenizeWithStrings('12345 x').strs, ['123', '45', ' x']);
  assert.deepEqual(tokenizeWithStrings('a,  b').strs, ['a', ',', ' ', ' b']);
});

test('special tokens are single ids; prompts get BOS', () => {
  assert.deepEqual(tokenize('<|eot_id|>'), [SPECIAL_TOKENS['<|eot_id|>']]);
  assert.equal(encodePrompt('hi')[0], BOS_TOKEN_ID);
  assert.equal(encodePrompt('hi', false)[0], tokenize('hi')[0]);
});

test('chat template renders Llama-3 headers and the generation prompt', () => {
  const msgs = [
    { role: 'system', content: 'Be brief.' },
    { role: 'user', content: 'hi' },
  ];
  const s = applyChatTemplate(msgs);
  assert.equal(
    s,
    '<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>' +
      '<|start_header_id|>user<|end_header_id|>\n\nhi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n',
  );
  const ids = encodeChat(msgs);
  assert.equal(ids[0], BOS_TOKEN_ID);
  // A shared system prompt yields a shared token prefix (what prefix caching relies on).
  const other = encodeChat([msgs[0], { role: 'user', content: 'something else entirely' }]);
  const common = tokenize('<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nBe brief.<|eot_id|>');
  assert.deepEqual(ids.slice(0, common.length), common);
  assert.deepEqual(other.slice(0, common.length), common);
  assert.ok(encodeChat(msgs, false).length < ids.length);
});
