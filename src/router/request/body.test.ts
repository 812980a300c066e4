import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { RouterError } from '../errors.js';
import { parseJsonObject, readBody } from './body.js';

function fakeReq(headers: Record<string, string> = {}): PassThrough & { headers: Record<string, string> } {
  const s = new PassThrough() as PassThrough & { headers: Record<string, string> };
  s.headers = headers;
  return s;
}

test('reads the whole body under the limit', async () => {
  const req = fakeReq();
  const p = readBody(req as unknown as IncomingMessage, { maxBytes: 10, timeoutMs: 0 });
  req.write('abc');
  req.end('def');
  assert.equal((await p).toString(), 'abcdef');
});

test('413 when the declared or the streamed size exceeds the limit', async () => {
  await assert.rejects(
    readBody(fakeReq({ 'content-length': '11' }) as unknown as IncomingMessage, { maxBytes: 10, timeoutMs: 0 }),
    (e: RouterError) => e.status === 413 && e.code === 'body_too_large',
  );
  const req = fakeReq();
  const p = readBody(req as unknown as IncomingMessage, { maxBytes: 4, timeoutMs: 0 });
  req.write('abc');
  req.write('def');
  await assert.rejects(p, (e: RouterError) => e.status === 413);
});

test('408 when the body does not arrive in time', async () => {
  const req = fakeReq();
  const p = readBody(req as unknown as IncomingMessage, { maxBytes: 10, timeoutMs: 5 });
  req.write('ab');
  await assert.rejects(p, (e: RouterError) => e.status === 408 && e.code === 'request_timeout');
});

test('JSON must be one object', () => {
  assert.deepEqual(parseJsonObject(Buffer.from('{"a":1}')), { a: 1 });
  for (const bad of ['', '{', '[1]', '"s"', '1', 'null', '{"a":1} x']) {
    assert.throws(
      () => parseJsonObject(Buffer.from(bad)),
      (e: unknown) => e instanceof RouterError && e.status === 400,
      bad,
    );
  }
});

test('nestsDeeperThan counts objects and arrays outside strings, with escapes', async () => {
  const { nestsDeeperThan } = await import('./body.js');
  const b = (s: string) => Buffer.from(s);
  assert.equal(nestsDeeperThan(b('{"a":[1,{"b":2}]}'), 3), false);
  assert.equal(nestsDeeperThan(b('{"a":[1,{"b":[2]}]}'), 3), true);
  assert.equal(nestsDeeperThan(b(`{"s":"${'['.repeat(50)}"}`), 3), false, 'brackets in strings');
  assert.equal(
    nestsDeeperThan(b(`{"s":"\\"${'{'.repeat(50)}"}`), 3),
    false,
    'an escaped quote does not end the string',
  );
  assert.equal(nestsDeeperThan(b(`{"s":"\\\\"${',"t":[[[[1]]]]'}}`), 3), true, 'an escaped backslash does');
});
