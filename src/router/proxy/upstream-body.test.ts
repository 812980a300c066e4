import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { RequestContext } from '../request/context.js';
import { buildUpstreamBody } from './forward.js';
import { spliceIncludeUsage } from './upstream-body.js';

function ctxFor(raw: string, over: Partial<RequestContext> = {}): RequestContext {
  const body = JSON.parse(raw) as Record<string, unknown>;
  return {
    raw: Buffer.from(raw),
    body,
    model: String(body.model),
    upstreamModel: String(body.model),
    stream: body.stream === true,
    path: '/v1/chat/completions',
    ...over,
  } as RequestContext;
}

test('include_usage is spliced into the client bytes: same JSON as re-serialising, formatting kept', () => {
  const raw =
    '{ "model": "m",\n  "stream": true, "temperature": 1.0, "seed": 12345678901234567890,\n "messages": [] }\n';
  const up = buildUpstreamBody(ctxFor(raw));
  assert.equal(up.hideUsageChunk, true);
  const text = up.body.toString();
  assert.ok(text.startsWith('{ "model": "m",\n  "stream": true, "temperature": 1.0, "seed": 12345678901234567890'));
  assert.deepEqual(JSON.parse(text), { ...JSON.parse(raw), stream_options: { include_usage: true } });
  assert.deepEqual(Object.keys(JSON.parse(text)).at(-1), 'stream_options', 'key order as JSON.stringify would give');
});

test('other cases still re-serialise or pass the raw bytes through', () => {
  // The client's own stream_options are kept and completed.
  const withOpts = buildUpstreamBody(ctxFor('{"model":"m","stream":true,"stream_options":{"x":1}}'));
  assert.deepEqual(JSON.parse(withOpts.body.toString()).stream_options, { x: 1, include_usage: true });
  assert.equal(withOpts.hideUsageChunk, true);
  // stream_options: null is replaced, not duplicated.
  const withNull = buildUpstreamBody(ctxFor('{"model":"m","stream":true,"stream_options":null}'));
  assert.equal(withNull.body.toString().match(/stream_options/g)?.length, 1);
  // The client asked for usage: bytes untouched, usage chunk shown.
  const raw = '{"model":"m","stream":true,"stream_options":{"include_usage":true}}';
  const asked = buildUpstreamBody(ctxFor(raw));
  assert.equal(asked.body.toString(), raw);
  assert.equal(asked.hideUsageChunk, false);
  // Model rewrite re-serialises (and still injects).
  const rewritten = buildUpstreamBody(ctxFor('{"model":"m","stream":true}', { upstreamModel: 'real' }));
  assert.deepEqual(JSON.parse(rewritten.body.toString()), {
    model: 'real',
    stream: true,
    stream_options: { include_usage: true },
  });
  // Not streaming, or the Responses API: nothing to inject.
  const plain = '{"model":"m"}';
  assert.equal(buildUpstreamBody(ctxFor(plain)).body.toString(), plain);
  const resp = '{"model":"m","stream":true,"input":"x"}';
  assert.equal(buildUpstreamBody(ctxFor(resp, { path: '/v1/responses' })).body.toString(), resp);
});

test('splice refuses bytes that do not end like an object', () => {
  assert.equal(spliceIncludeUsage(Buffer.from('[1]'), true), undefined);
  assert.equal(spliceIncludeUsage(Buffer.from('   '), false), undefined);
  assert.equal(spliceIncludeUsage(Buffer.from('"}"'), true), undefined);
  assert.equal(
    spliceIncludeUsage(Buffer.from(' { } '), false)?.toString(),
    ' { "stream_options":{"include_usage":true}} ',
  );
});

test('spliced bodies parse to exactly what re-serialising gives, for any JSON object', () => {
  fc.assert(
    fc.property(
      fc.dictionary(
        fc.string().filter((k) => k !== 'stream_options' && k !== '__proto__'),
        fc.jsonValue(),
      ),
      fc.constantFrom('', ' ', '\n', '\r\n\t'),
      (obj, ws) => {
        const raw = `${ws}${JSON.stringify({ ...obj, model: 'm', stream: true }, null, ws ? 1 : 0)}${ws}`;
        const up = buildUpstreamBody(ctxFor(raw));
        const expected = { ...JSON.parse(raw), stream_options: { include_usage: true } };
        assert.deepEqual(JSON.parse(up.body.toString()), expected);
        assert.deepEqual(Object.keys(JSON.parse(up.body.toString())), Object.keys(expected));
      },
    ),
  );
});
