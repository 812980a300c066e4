import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { WatchDecodeError } from './errors.js';
import { parseWatchLine, WatchLineDecoder } from './watch-decoder.js';

function decodeAll(chunks: Buffer[]): string[] {
  const d = new WatchLineDecoder();
  const out: string[] = [];
  for (const c of chunks) out.push(...d.push(c));
  out.push(...d.end());
  return out;
}

test('lines split at any byte boundary decode to the same events (property)', () => {
  const event = fc.record({
    type: fc.constantFrom('ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK'),
    object: fc.record({
      metadata: fc.record({ name: fc.string({ unit: 'grapheme' }), resourceVersion: fc.nat().map(String) }),
    }),
  });
  fc.assert(
    fc.property(fc.array(event, { maxLength: 8 }), fc.array(fc.nat(), { maxLength: 10 }), (events, cutsRaw) => {
      const buf = Buffer.from(events.map((e) => `${JSON.stringify(e)}\n`).join(''), 'utf8');
      const cuts = [...new Set(cutsRaw.map((c) => (buf.length ? c % buf.length : 0)))].sort((a, b) => a - b);
      const chunks: Buffer[] = [];
      let at = 0;
      for (const c of cuts) {
        chunks.push(buf.subarray(at, c));
        at = c;
      }
      chunks.push(buf.subarray(at));
      const decoded = decodeAll(chunks).map(parseWatchLine);
      assert.deepEqual(decoded, JSON.parse(JSON.stringify(events)));
    }),
  );
});

test('CRLF, blank lines and an unterminated last line', () => {
  const d = new WatchLineDecoder();
  assert.deepEqual(d.push('{"a":1}\r\n\n  \n{"b"'), ['{"a":1}']);
  assert.deepEqual(d.push(':2}'), []);
  assert.deepEqual(d.end(), ['{"b":2}']);
});

test('malformed lines are errors, never dropped', () => {
  assert.throws(() => parseWatchLine('{"type":"ADDED","object":{'), WatchDecodeError);
  assert.throws(() => parseWatchLine('[1,2]'), /not an object/);
  assert.throws(() => parseWatchLine('{"type":"WHAT","object":{}}'), /unknown type/);
  assert.throws(() => parseWatchLine('{"type":"ADDED"}'), /object missing/);
  assert.deepEqual(parseWatchLine('{"type":"ERROR","object":{"code":410}}'), { type: 'ERROR', object: { code: 410 } });
});
