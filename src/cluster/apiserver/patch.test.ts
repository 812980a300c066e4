import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.js';
import { jsonPatch, mergePatch, schemaListStrategy, strategicMerge } from './patch.js';

test('merge patch: null deletes, arrays replace, nested maps merge', () => {
  assert.deepEqual(mergePatch({ a: 1, b: { c: 1, d: 2 }, l: [1, 2] }, { a: null, b: { c: 3 }, l: [9] }), {
    b: { c: 3, d: 2 },
    l: [9],
  });
});

test('merge patch of a computed diff reproduces the target (property)', () => {
  const json = fc.dictionary(fc.stringMatching(/^[a-c]$/), fc.oneof(fc.integer(), fc.string({ maxLength: 3 })), {
    maxKeys: 3,
  });
  fc.assert(
    fc.property(json, json, (a, b) => {
      const diff: Record<string, unknown> = {};
      for (const k of Object.keys(a)) if (!(k in b)) diff[k] = null;
      for (const [k, v] of Object.entries(b)) if (a[k] !== v) diff[k] = v;
      assert.deepEqual(mergePatch({ ...a }, diff), { ...b });
    }),
  );
});

test('JSON patch: all ops, escapes, append, and 422 on failures', () => {
  const doc = { a: { 'b/c': 1, 'd~e': 2 }, l: [1, 2] };
  const out = jsonPatch(doc, [
    { op: 'replace', path: '/a/b~1c', value: 10 },
    { op: 'remove', path: '/a/d~0e' },
    { op: 'add', path: '/l/-', value: 3 },
    { op: 'add', path: '/l/0', value: 0 },
    { op: 'copy', from: '/l/0', path: '/first' },
    { op: 'move', from: '/first', path: '/moved' },
    { op: 'test', path: '/moved', value: 0 },
  ]);
  assert.deepEqual(out, { a: { 'b/c': 10 }, l: [0, 1, 2, 3], moved: 0 });
  assert.deepEqual(doc.l, [1, 2], 'input untouched');
  const is422 = (e: unknown) => e instanceof ApiError && e.code === 422;
  assert.throws(() => jsonPatch(doc, [{ op: 'test', path: '/a/b~1c', value: 5 }]), is422);
  assert.throws(() => jsonPatch(doc, [{ op: 'remove', path: '/nope' }]), is422);
  assert.throws(() => jsonPatch(doc, [{ op: 'replace', path: '/x/y', value: 1 }]), is422);
  assert.throws(() => jsonPatch(doc, [{ op: 'jump', path: '/a' }]), is422);
  assert.throws(
    () => jsonPatch(doc, { a: 1 }),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});

test('strategic merge: containers and env merged by name, ports by containerPort, finalizers as a set', () => {
  const pod = {
    metadata: { finalizers: ['a'], ownerReferences: [{ uid: 'u1', name: 'x' }] },
    spec: {
      containers: [
        { name: 'c', image: 'i:1', env: [{ name: 'A', value: '1' }], ports: [{ containerPort: 80, name: 'http' }] },
        { name: 'd', image: 'j:1' },
      ],
      tolerations: [{ key: 't1' }],
    },
  };
  const out: any = strategicMerge(pod, {
    metadata: { finalizers: ['b', 'a'], ownerReferences: [{ uid: 'u2', name: 'y' }] },
    spec: {
      containers: [{ name: 'c', env: [{ name: 'B', value: '2' }], ports: [{ containerPort: 80, protocol: 'TCP' }] }],
      tolerations: [{ key: 't2' }],
      '$setElementOrder/containers': [{ name: 'd' }, { name: 'c' }],
    },
  });
  assert.deepEqual(out.metadata.finalizers, ['a', 'b']);
  assert.equal(out.metadata.ownerReferences.length, 2);
  assert.deepEqual(
    out.spec.containers.map((c: any) => c.name),
    ['d', 'c'],
  );
  const c = out.spec.containers[1];
  assert.deepEqual(
    c.env.map((e: any) => e.name),
    ['A', 'B'],
  );
  assert.deepEqual(c.ports, [{ containerPort: 80, name: 'http', protocol: 'TCP' }]);
  assert.deepEqual(out.spec.tolerations, [{ key: 't2' }], 'tolerations are replaced wholesale');
  assert.ok(!JSON.stringify(out).includes('$'));
});

test('strategic merge directives: $patch delete/replace, $retainKeys, $deleteFromPrimitiveList, unknown → 400', () => {
  const base = { spec: { containers: [{ name: 'a' }, { name: 'b' }], volumes: [{ name: 'v' }], x: 1, y: 2 } };
  const del: any = strategicMerge(base, { spec: { containers: [{ name: 'a', $patch: 'delete' }] } });
  assert.deepEqual(del.spec.containers, [{ name: 'b' }]);
  const rep: any = strategicMerge(base, { spec: { $patch: 'replace', z: 1 } });
  assert.deepEqual(rep.spec, { z: 1 });
  const keep: any = strategicMerge(base, { spec: { $retainKeys: ['x', 'containers'], x: 5 } });
  assert.deepEqual(Object.keys(keep.spec).sort(), ['containers', 'x']);
  const prim: any = strategicMerge(
    { metadata: { finalizers: ['a', 'b'] } },
    { metadata: { '$deleteFromPrimitiveList/finalizers': ['a'] } },
  );
  assert.deepEqual(prim.metadata.finalizers, ['b']);
  assert.throws(
    () => strategicMerge(base, { $weird: 1 }),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});

test('schema list strategies for custom resources', () => {
  const schema = {
    type: 'object',
    properties: {
      spec: {
        type: 'object',
        properties: {
          ports: {
            type: 'array',
            'x-kubernetes-list-type': 'map',
            'x-kubernetes-list-map-keys': ['name'],
            items: { type: 'object' },
          },
          tags: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
          args: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  };
  assert.deepEqual(schemaListStrategy(schema, 'spec.ports'), { type: 'map', keys: ['name'] });
  assert.deepEqual(schemaListStrategy(schema, 'spec.tags'), { type: 'set' });
  assert.deepEqual(schemaListStrategy(schema, 'spec.args'), { type: 'atomic' });
  assert.deepEqual(schemaListStrategy(schema, 'spec.nope'), { type: 'atomic' });
});
