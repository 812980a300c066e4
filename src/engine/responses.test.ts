import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SIM_TOKENIZER } from '../tokens/index.js';
import { HttpError } from './openai-errors.js';
import { parseResponses, responsesMessages } from './responses.js';

const parse = (b: unknown) => parseResponses(b, SIM_TOKENIZER);

function rejects(b: unknown, param: string): void {
  assert.throws(
    () => parse(b),
    (e: unknown) => e instanceof HttpError && e.status === 400 && e.param === param,
    JSON.stringify(b),
  );
}

test('instructions and input (string or message items) become chat messages', () => {
  assert.deepEqual(responsesMessages({ input: 'hi', instructions: 'be brief' }), [
    { role: 'system', content: 'be brief' },
    { role: 'user', content: 'hi' },
  ]);
  assert.deepEqual(
    responsesMessages({
      input: [
        { role: 'user', content: 'a' },
        { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'b' }] },
        { type: 'message', role: 'developer', content: [{ type: 'input_text', text: 'c' }] },
      ],
    }),
    [
      { role: 'user', content: 'a' },
      { role: 'assistant', content: 'b' },
      { role: 'developer', content: 'c' },
    ],
  );
});

test('max_output_tokens, stream and sampling fields map onto the chat generation', () => {
  const p = parse({ model: 'm', input: 'hi', max_output_tokens: 7, stream: true, temperature: 0.2 });
  assert.equal(p.gen.kind, 'chat');
  assert.equal(p.gen.maxTokens, 7);
  assert.equal(p.gen.stream, true);
  assert.equal(p.gen.model, 'm');
  assert.equal(p.maxOutputTokens, 7);
  assert.equal(p.temperature, 0.2);
  assert.ok(p.gen.promptTokens.length > 0);
});

test('bad or unsupported fields are 400s naming the Responses API field', () => {
  rejects({}, 'input');
  rejects({ input: '' }, 'input');
  rejects({ input: [] }, 'input');
  rejects({ input: 5 }, 'input');
  rejects({ input: [{ role: 'tool', content: 'x' }] }, 'input');
  rejects({ input: [{ type: 'function_call', name: 'f' }] }, 'input');
  rejects({ input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'u' }] }] }, 'input');
  rejects({ input: 'x', instructions: 3 }, 'instructions');
  rejects({ input: 'x', max_output_tokens: 0 }, 'max_output_tokens');
  rejects({ input: 'x', max_output_tokens: 'many' }, 'max_output_tokens');
  rejects({ input: 'x', stream: 'yes' }, 'stream');
  rejects({ input: 'x', temperature: 'hot' }, 'temperature');
  rejects({ input: 'x', model: 1 }, 'model');
  rejects({ input: 'x', previous_response_id: 'resp_1' }, 'previous_response_id');
  rejects({ input: 'x', tools: [{ type: 'function', name: 'f' }] }, 'tools');
  rejects({ input: 'x', metadata: 'm' }, 'metadata');
});
