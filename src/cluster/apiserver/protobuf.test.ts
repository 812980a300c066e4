import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.js';
import { decodeProtobuf } from './protobuf.js';

// Tiny protobuf writer for the test (length-delimited fields only).
function ld(no: number, payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const varint = (n: number) => {
    const out: number[] = [];
    while (n > 127) {
      out.push((n & 127) | 128);
      n >>>= 7;
    }
    out.push(n);
    return Buffer.from(out);
  };
  return Buffer.concat([varint((no << 3) | 2), varint(body.length), body]);
}
const entry = (k: string, v: string) => Buffer.concat([ld(1, k), ld(2, v)]);

function envelope(apiVersion: string, kind: string, raw: Buffer): Buffer {
  return Buffer.concat([
    Buffer.from('k8s\0', 'latin1'),
    ld(1, Buffer.concat([ld(1, apiVersion), ld(2, kind)])),
    ld(2, raw),
  ]);
}

test('decodes ConfigMap, Secret and Namespace bodies as kubectl sends them', () => {
  const meta = Buffer.concat([ld(1, 'cm1'), ld(3, 'ns'), ld(11, entry('app', 'x'))]);
  const cm = decodeProtobuf(envelope('v1', 'ConfigMap', Buffer.concat([ld(1, meta), ld(2, entry('a', 'b'))])));
  assert.deepEqual(cm, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm1', namespace: 'ns', labels: { app: 'x' } },
    data: { a: 'b' },
  });
  const sec = decodeProtobuf(
    envelope('v1', 'Secret', Buffer.concat([ld(1, ld(1, 's')), ld(2, entry('k', 'v')), ld(3, 'Opaque')])),
  );
  assert.deepEqual(sec.data, { k: Buffer.from('v').toString('base64') });
  assert.equal(sec.type, 'Opaque');
  const ns = decodeProtobuf(envelope('v1', 'Namespace', ld(1, ld(1, 'tmp'))));
  assert.equal(ns.metadata.name, 'tmp');
});

test('unsupported kinds → 415, garbage → 400', () => {
  assert.throws(
    () => decodeProtobuf(envelope('apps/v1', 'Deployment', ld(1, ld(1, 'd')))),
    (e: unknown) => e instanceof ApiError && e.code === 415,
  );
  assert.throws(
    () => decodeProtobuf(Buffer.from('nope')),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
  assert.throws(
    () => decodeProtobuf(Buffer.concat([Buffer.from('k8s\0', 'latin1'), Buffer.from([0x0a, 0xff])])),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});
