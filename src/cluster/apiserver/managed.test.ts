import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ApiError } from './errors.js';
import { fieldSet, fromFieldsV1, recordUpdate, serverSideApply, toFieldsV1 } from './managed.js';
import { builtinListStrategy } from './patch.js';

const args = { apiVersion: 'v1', nowMs: 0, ls: builtinListStrategy, scope: { part: 'all' as const } };

test('field sets round-trip through FieldsV1 with keyed list items', () => {
  const obj = {
    metadata: { name: 'x', labels: { a: '1' }, finalizers: ['f'] },
    spec: { containers: [{ name: 'c', image: 'i', env: [{ name: 'E', value: 'v' }] }], empty: {} },
  };
  const set = fieldSet(obj, builtinListStrategy, { part: 'all' });
  const f = toFieldsV1(set);
  assert.ok(f['f:spec']['f:containers']['k:{"name":"c"}']['.']);
  assert.ok(f['f:spec']['f:containers']['k:{"name":"c"}']['f:env']['k:{"name":"E"}']['f:value']);
  assert.ok(f['f:metadata']['f:finalizers']['v:"f"']);
  assert.equal(f['f:metadata']['f:name'], undefined, 'name is not owned');
  assert.deepEqual([...fromFieldsV1(f)].sort(), [...set].sort());
});

test('updates transfer ownership of changed fields and drop removed ones', () => {
  const old: any = { metadata: { name: 'x' }, data: { a: '1', b: '2' } };
  recordUpdate(undefined, old, { ...args, manager: 'one' });
  const next: any = { metadata: { ...old.metadata }, data: { a: '9' } };
  recordUpdate(old, next, { ...args, manager: 'two' });
  const byName = Object.fromEntries(next.metadata.managedFields.map((e: any) => [e.manager, e]));
  assert.equal(byName.one, undefined, 'one lost a (changed) and b (removed)');
  assert.deepEqual(byName.two.fieldsV1, { 'f:data': { 'f:a': {} } });
  assert.equal(byName.two.operation, 'Update');
});

test('apply conflicts, forcing, shared values and removal', () => {
  const created = serverSideApply(undefined, { metadata: { name: 'x' }, data: { a: '1', b: '1' } }, 'A', false, args);
  assert.throws(
    () => serverSideApply(created, { metadata: { name: 'x' }, data: { a: '2' } }, 'B', false, args),
    (e: unknown) => e instanceof ApiError && e.code === 409 && e.details?.causes?.[0].field === '.data.a',
  );
  const shared = serverSideApply(created, { metadata: { name: 'x' }, data: { b: '1' } }, 'B', false, args);
  const dropA = serverSideApply(shared, { metadata: { name: 'x' }, data: {} }, 'A', false, args);
  assert.deepEqual(dropA.data, { b: '1' }, 'a removed (only A owned it), b kept (B shares it)');
  const forced = serverSideApply(created, { metadata: { name: 'x' }, data: { a: '2' } }, 'B', true, args);
  assert.equal(forced.data.a, '2');
  const a = forced.metadata.managedFields.find((e: any) => e.manager === 'A');
  assert.equal(a.fieldsV1['f:data']['f:a'], undefined);
});
