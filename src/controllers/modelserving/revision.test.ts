import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  buildControllerRevision,
  canonicalJson,
  fnv1a32,
  modelServingRevision,
  rolesFromControllerRevision,
  roleTemplateHash,
  safeEncode,
} from './revision.js';
import { modelServing, role } from './testkit.js';

test('FNV-1a 32 known vectors', () => {
  assert.equal(fnv1a32(''), 0x811c9dc5);
  assert.equal(fnv1a32('a'), 0xe40c292c);
  assert.equal(fnv1a32('foobar'), 0xbf9cf968);
});

test('safe encoding uses the vowel-free alphabet', () => {
  assert.match(safeEncode('1234567890'), /^[bcdfghjklmnpqrstvwxz2456789]+$/);
  assert.equal(safeEncode('0'), safeEncode('0'));
});

test('canonical JSON ignores key order and undefined fields', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: 2, c: undefined } }), canonicalJson({ a: { d: 2 }, b: 1 }));
});

test('revision ignores replicas and rolling knobs, not pod-shaping fields', () => {
  const a = [role('prefill', 1, 1), role('decode', 2, 0)];
  const b = [role('prefill', 5, 1, 'engine:v1', { maxUnavailable: 2, partition: 1 }), role('decode', 7, 0)];
  assert.equal(modelServingRevision(a), modelServingRevision(b));
  assert.equal(roleTemplateHash(a[0]), roleTemplateHash(b[0]));
  const c = [role('prefill', 1, 1, 'engine:v2'), role('decode', 2, 0)];
  assert.notEqual(modelServingRevision(a), modelServingRevision(c));
  assert.notEqual(roleTemplateHash(a[0]), roleTemplateHash(c[0]));
  assert.equal(roleTemplateHash(a[1]), roleTemplateHash(c[1]), 'decode unchanged');
  const d = [role('prefill', 1, 2), role('decode', 2, 0)];
  assert.notEqual(modelServingRevision(a), modelServingRevision(d), 'workerReplicas shapes the group');
});

test('ControllerRevision records the roles and round-trips', () => {
  const ms = modelServing('m', 1, [role('p', 1, 0)]);
  const cr = buildControllerRevision(ms, 'abc', ms.spec.template.roles, 3);
  assert.equal(cr.metadata?.name, 'm-abc');
  assert.deepEqual(cr.metadata?.labels, {
    'modelserving.volcano.sh/name': 'm',
    'modelserving.volcano.sh/revision': 'abc',
  });
  assert.equal(cr.revision, 3);
  assert.equal(cr.metadata?.ownerReferences?.[0].uid, 'uid-m');
  assert.deepEqual(rolesFromControllerRevision(cr), ms.spec.template.roles);
  assert.equal(rolesFromControllerRevision({ revision: 1, data: { x: 1 } }), undefined);
});
