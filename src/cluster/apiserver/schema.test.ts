import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyDefaults, prune, validateSchema } from './schema.js';

const schema = {
  type: 'object',
  properties: {
    spec: {
      type: 'object',
      required: ['size'],
      properties: {
        size: { type: 'integer', minimum: 0, maximum: 10 },
        mode: { type: 'string', enum: ['a', 'b'], default: 'a' },
        name: { type: 'string', pattern: '^[a-z]+$', maxLength: 5 },
        nested: { type: 'object', properties: { v: { type: 'integer', default: 7 } } },
        withDefault: { type: 'object', default: {}, properties: { v: { type: 'integer', default: 3 } } },
        free: { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
        map: { type: 'object', additionalProperties: { type: 'integer' } },
        ios: { 'x-kubernetes-int-or-string': true },
        items: { type: 'array', maxItems: 2, items: { type: 'object', properties: { k: { type: 'string' } } } },
        set: { type: 'array', 'x-kubernetes-list-type': 'set', items: { type: 'string' } },
        when: { type: 'string', format: 'date-time' },
        nullable: { type: 'string', nullable: true },
        notNull: { type: 'string', default: 'dflt' },
      },
    },
  },
};

test('pruning removes undescribed fields and reports their paths; metadata is ObjectMeta only', () => {
  const o: any = {
    apiVersion: 'x/v1',
    kind: 'X',
    metadata: { name: 'n', bogus: 1 },
    spec: { size: 1, extra: 1, free: { any: { deep: 1 } }, map: { a: 1 }, items: [{ k: 'a', junk: 1 }] },
    top: 1,
  };
  const pruned = prune(o, schema);
  assert.deepEqual(pruned.sort(), ['metadata.bogus', 'spec.extra', 'spec.items[0].junk', 'top']);
  assert.deepEqual(o.spec.free, { any: { deep: 1 } });
  assert.equal(o.apiVersion, 'x/v1');
});

test('defaulting: absent fields with a present parent; parent defaults materialise children; null non-nullable → default', () => {
  const o: any = { spec: { size: 1, nested: {}, notNull: null } };
  prune(o, schema);
  applyDefaults(o, schema);
  assert.equal(o.spec.mode, 'a');
  assert.equal(o.spec.nested.v, 7);
  assert.deepEqual(o.spec.withDefault, { v: 3 });
  assert.equal(o.spec.notNull, 'dflt');
  const none: any = { spec: { size: 1 } };
  applyDefaults(none, schema);
  assert.equal(none.spec.nested, undefined, 'no default inside a missing parent');
});

test('validation reports every violation with a field path', () => {
  const causes = validateSchema(
    {
      spec: {
        size: 11,
        mode: 'c',
        name: 'ABCDEFG',
        map: { a: 'x' },
        ios: true,
        items: [{}, {}, {}],
        set: ['a', 'a'],
        when: 'yesterday',
        nullable: null,
      },
    },
    schema,
    '',
  );
  const fields = causes.map((c) => c.field).sort();
  assert.deepEqual(fields, [
    'spec.ios',
    'spec.items',
    'spec.map.a',
    'spec.mode',
    'spec.name',
    'spec.name',
    'spec.set[1]',
    'spec.size',
    'spec.when',
  ]);
  const req = validateSchema({ spec: {} }, schema, '');
  assert.deepEqual(
    req.map((c) => [c.field, c.reason]),
    [['spec.size', 'FieldValueRequired']],
  );
  assert.deepEqual(validateSchema({ spec: { size: 0, ios: 'x', when: '2026-01-01T00:00:00Z' } }, schema, ''), []);
  assert.equal(validateSchema({ spec: { size: 1.5 } }, schema, '')[0].field, 'spec.size', 'integers stay integers');
});
