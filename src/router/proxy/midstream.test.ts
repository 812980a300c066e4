import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { continuableKind, continuationBody, GeneratedText, sseErrorEvent } from './midstream.js';

const ev = (o: object) => `data: ${JSON.stringify(o)}\n\n`;
const chatEv = (content: string, finish: string | null = null) =>
  ev({ choices: [{ index: 0, delta: { content }, finish_reason: finish }] });

test('GeneratedText reads chat deltas across any split of the bytes, and notices finish_reason and boundaries', () => {
  const stream = `${ev({ choices: [{ index: 0, delta: { role: 'assistant', content: '' } }] })}${chatEv('Hel')}${chatEv('lo ✓')}: keep-alive\n\n${chatEv(' there', 'stop')}data: [DONE]\n\n`;
  const bytes = Buffer.from(stream);
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 1, max: bytes.length - 1 }), { maxLength: 6 }), (cuts) => {
      const g = new GeneratedText('chat');
      let prev = 0;
      for (const c of [...new Set(cuts)].sort((a, b) => a - b)) {
        g.push(bytes.subarray(prev, c));
        prev = c;
      }
      g.push(bytes.subarray(prev));
      assert.equal(g.text, 'Hello ✓ there');
      assert.equal(g.events, 3);
      assert.equal(g.finished, true);
      assert.equal(g.atBoundary, true);
    }),
  );
  const half = new GeneratedText('completion');
  half.push(Buffer.from(`${ev({ choices: [{ index: 0, text: 'ab' }] })}data: {"choi`));
  assert.equal(half.text, 'ab');
  assert.equal(half.atBoundary, false);
  assert.equal(half.finished, false);
});

test('continuationBody: chat continues the assistant message in place with the budget left; completion extends the prompt', () => {
  const g = new GeneratedText('chat');
  g.push(Buffer.from(chatEv('one ') + chatEv('two ')));
  const chat = continuationBody(
    { model: 'm', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'count' }] },
    'chat',
    g,
  );
  assert.deepEqual(chat, {
    model: 'm',
    stream: true,
    max_tokens: 8,
    messages: [
      { role: 'user', content: 'count' },
      { role: 'assistant', content: 'one two ' },
    ],
    add_generation_prompt: false,
    continue_final_message: true,
  });
  const c = new GeneratedText('completion');
  c.push(Buffer.from(ev({ choices: [{ index: 0, text: ' world' }] })));
  assert.deepEqual(continuationBody({ prompt: 'hello', max_completion_tokens: 1 }, 'completion', c), undefined);
  assert.deepEqual(continuationBody({ prompt: 'hello', max_tokens: 5 }, 'completion', c), {
    prompt: 'hello world',
    max_tokens: 4,
  });
});

test('continuableKind: only single-choice chat or text-prompt streams', () => {
  const m = [{ role: 'user', content: 'x' }];
  assert.equal(continuableKind('/v1/chat/completions', { stream: true, messages: m }), 'chat');
  assert.equal(continuableKind('/v1/completions', { stream: true, prompt: 'x' }), 'completion');
  assert.equal(continuableKind('/v1/chat/completions', { messages: m }), undefined, 'not a stream');
  assert.equal(continuableKind('/v1/chat/completions', { stream: true, n: 2, messages: m }), undefined);
  assert.equal(continuableKind('/v1/completions', { stream: true, prompt: [1, 2] }), undefined);
  assert.equal(continuableKind('/v1/responses', { stream: true, input: 'x' }), undefined);
});

test('sseErrorEvent is an OpenAI error object followed by [DONE]', () => {
  const [e, done] = sseErrorEvent('gone', 'upstream_stream_failed').toString().split('\n\n');
  assert.deepEqual(JSON.parse(e.slice(6)), {
    error: { message: 'gone', type: 'server_error', param: null, code: 'upstream_stream_failed' },
  });
  assert.equal(done, 'data: [DONE]');
});
