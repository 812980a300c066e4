// The OpenAI ⇄ Anthropic mapping, field by field: requests (roles, parts, tools, limits), responses, streams
// (text, tool calls, usage, errors, events split across TCP chunks) and what cannot be translated.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  AnthropicStreamTranslator,
  anthropicUsage,
  chatToMessages,
  DEFAULT_MAX_TOKENS,
  finishReason,
  messageToChat,
  TranslationError,
} from './anthropic.js';

test('chatToMessages: system/developer → system, tool calls and results, images, limits, stops, tools', () => {
  const out = chatToMessages(
    {
      model: 'client-model',
      messages: [
        { role: 'system', content: 'rule one' },
        { role: 'developer', content: [{ type: 'text', text: 'rule two' }] },
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is this?' },
            { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } },
            { type: 'image_url', image_url: { url: 'https://img.example/x.png' } },
          ],
        },
        {
          role: 'assistant',
          content: null,
          tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'look', arguments: '{"q":1}' } }],
        },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
        { role: 'user', content: 'thanks' },
      ],
      max_completion_tokens: 77,
      max_tokens: 5,
      temperature: 1.6,
      top_p: 0.9,
      stop: ['A', 'B'],
      stream: true,
      user: 'u-1',
      tools: [{ type: 'function', function: { name: 'look', description: 'd', parameters: { type: 'object' } } }],
      tool_choice: 'required',
    },
    'claude-x',
  );
  assert.deepEqual(out, {
    model: 'claude-x',
    system: 'rule one\n\nrule two',
    messages: [
      {
        role: 'user',
        content: [
          { type: 'text', text: 'what is this?' },
          { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'AAAA' } },
          { type: 'image', source: { type: 'url', url: 'https://img.example/x.png' } },
        ],
      },
      { role: 'assistant', content: [{ type: 'tool_use', id: 'call_1', name: 'look', input: { q: 1 } }] },
      {
        role: 'user',
        content: [
          { type: 'tool_result', tool_use_id: 'call_1', content: 'a cat' },
          { type: 'text', text: 'thanks' },
        ],
      },
    ],
    max_tokens: 77,
    temperature: 1,
    top_p: 0.9,
    stop_sequences: ['A', 'B'],
    stream: true,
    metadata: { user_id: 'u-1' },
    tools: [{ name: 'look', description: 'd', input_schema: { type: 'object' } }],
    tool_choice: { type: 'any' },
  });
  const minimal = chatToMessages({ messages: [{ role: 'user', content: 'x' }] }, 'm');
  assert.equal(minimal.max_tokens, DEFAULT_MAX_TOKENS);
  assert.deepEqual(
    chatToMessages({ messages: [], tool_choice: { type: 'function', function: { name: 'f' } } }, 'm').tool_choice,
    { type: 'tool', name: 'f' },
  );
});

test('chatToMessages: what cannot be translated is a TranslationError naming the field', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ messages: 'hi' }, /messages: must be a list/],
    [{ messages: [], n: 3 }, /^n: only 1/],
    [{ messages: [{ role: 'wizard', content: 'x' }] }, /messages\[0\]\.role/],
    [{ messages: [{ role: 'user', content: [{ type: 'input_audio' }] }] }, /messages\[0\]\.content\[0\]\.type/],
    [{ messages: [{ role: 'user', content: 42 }] }, /messages\[0\]\.content: must be/],
    [
      { messages: [{ role: 'assistant', tool_calls: [{ function: { name: 'f', arguments: '{nope' } }] }] },
      /arguments: not valid JSON/,
    ],
  ];
  for (const [body, re] of bad)
    assert.throws(
      () => chatToMessages(body, 'm'),
      (e: Error) => e instanceof TranslationError && re.test(e.message),
    );
});

test('messageToChat: text, tool calls, finish reasons and usage (input + cache creation + cache read)', () => {
  const { body, usage } = messageToChat(
    {
      id: 'msg_1',
      model: 'claude-x',
      content: [
        { type: 'text', text: 'let me ' },
        { type: 'text', text: 'check' },
        { type: 'tool_use', id: 'tu_1', name: 'look', input: { q: 2 } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 10, cache_creation_input_tokens: 5, cache_read_input_tokens: 7, output_tokens: 4 },
    },
    1234,
  );
  assert.deepEqual(usage, { promptTokens: 22, completionTokens: 4, cachedTokens: 7 });
  assert.deepEqual(body, {
    id: 'msg_1',
    object: 'chat.completion',
    created: 1234,
    model: 'claude-x',
    choices: [
      {
        index: 0,
        message: {
          role: 'assistant',
          content: 'let me check',
          tool_calls: [{ id: 'tu_1', type: 'function', function: { name: 'look', arguments: '{"q":2}' } }],
        },
        finish_reason: 'tool_calls',
        logprobs: null,
      },
    ],
    usage: { prompt_tokens: 22, completion_tokens: 4, total_tokens: 26, prompt_tokens_details: { cached_tokens: 7 } },
  });
  assert.deepEqual(
    ['end_turn', 'stop_sequence', 'max_tokens', 'tool_use', 'refusal', 'something_new', null].map(finishReason),
    ['stop', 'stop', 'length', 'tool_calls', 'content_filter', 'stop', null],
  );
  assert.equal(anthropicUsage({ input_tokens: 0, output_tokens: 0 }), undefined);
  assert.equal(anthropicUsage('nope'), undefined);
});

const sse = (type: string, data: object) => `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
const STREAM = [
  sse('message_start', {
    message: {
      id: 'msg_s',
      model: 'claude-x',
      usage: { input_tokens: 9, cache_read_input_tokens: 1, output_tokens: 1 },
    },
  }),
  sse('content_block_start', { index: 0, content_block: { type: 'text', text: '' } }),
  sse('ping', {}),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'Hel' } }),
  sse('content_block_delta', { index: 0, delta: { type: 'text_delta', text: 'lo' } }),
  sse('content_block_stop', { index: 0 }),
  sse('content_block_start', { index: 1, content_block: { type: 'tool_use', id: 'tu_9', name: 'look' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '{"q":' } }),
  sse('content_block_delta', { index: 1, delta: { type: 'input_json_delta', partial_json: '3}' } }),
  sse('message_delta', { delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 12 } }),
  sse('message_stop', {}),
].join('');

function events(text: string): any[] {
  return text
    .split('\n\n')
    .filter(Boolean)
    .map((e) => {
      assert.ok(e.startsWith('data: '), e);
      const p = e.slice(6);
      return p === '[DONE]' ? '[DONE]' : JSON.parse(p);
    });
}

test('stream: every byte split point gives the same chunks; text, tool-call deltas, finish, usage chunk, [DONE]', () => {
  const whole = new AnthropicStreamTranslator(5, true);
  const expected = whole.push(STREAM);
  assert.ok(whole.done);
  assert.deepEqual(whole.usage, { promptTokens: 10, completionTokens: 12, cachedTokens: 1 });
  const evs = events(expected);
  assert.equal(evs.at(-1), '[DONE]');
  assert.deepEqual(evs[0].choices[0].delta, { role: 'assistant', content: '' });
  assert.equal(evs.map((e) => e.choices?.[0]?.delta?.content ?? '').join(''), 'Hello');
  const tool = evs.filter((e) => e.choices?.[0]?.delta?.tool_calls).map((e) => e.choices[0].delta.tool_calls[0]);
  assert.deepEqual(tool[0], { index: 0, id: 'tu_9', type: 'function', function: { name: 'look', arguments: '' } });
  assert.equal(tool.map((t) => t.function.arguments).join(''), '{"q":3}');
  assert.equal(evs.find((e) => e.choices?.[0]?.finish_reason)?.choices[0].finish_reason, 'tool_calls');
  const usageChunk = evs.find((e) => e.usage);
  assert.deepEqual(usageChunk.choices, []);
  assert.deepEqual(usageChunk.usage, {
    prompt_tokens: 10,
    completion_tokens: 12,
    total_tokens: 22,
    prompt_tokens_details: { cached_tokens: 1 },
  });
  for (const e of evs) if (e !== '[DONE]') assert.equal(e.object, 'chat.completion.chunk');
  for (let cut = 1; cut < STREAM.length; cut += 7) {
    const t = new AnthropicStreamTranslator(5, true);
    assert.equal(t.push(STREAM.slice(0, cut)) + t.push(STREAM.slice(cut)), expected, `split at ${cut}`);
  }
  const quiet = new AnthropicStreamTranslator(5, false);
  assert.ok(!events(quiet.push(STREAM)).some((e) => e.usage), 'no usage chunk unless the client asked');
  assert.deepEqual(quiet.usage, whole.usage, 'usage is still known to the router');
});

test('stream: an error event becomes an OpenAI-style error chunk; a stream without message_stop is not done', () => {
  const t = new AnthropicStreamTranslator(1, false);
  const out = t.push(
    sse('message_start', { message: { id: 'm', usage: { input_tokens: 3 } } }) +
      sse('error', { error: { type: 'overloaded_error', message: 'Overloaded' } }) +
      'data: {not json}\n\n',
  );
  const evs = events(out);
  assert.deepEqual(evs.at(-1), {
    error: { message: 'Overloaded', type: 'overloaded_error', code: 'provider_stream_error' },
  });
  assert.equal(t.done, false);
  assert.deepEqual(t.error, { type: 'overloaded_error', message: 'Overloaded' });
});
