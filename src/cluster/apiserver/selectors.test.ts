import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { ApiError } from './errors.js';
import {
  fromLabelSelectorObject,
  META_GETTERS,
  matchFields,
  matchLabels,
  parseFieldSelector,
  parseLabelSelector,
} from './selectors.js';

const m = (sel: string, labels: Record<string, string>) => matchLabels(parseLabelSelector(sel), labels);

test('equality and set-based label requirements', () => {
  assert.ok(m('a=b', { a: 'b' }));
  assert.ok(m('a==b', { a: 'b' }));
  assert.ok(!m('a=b', {}));
  assert.ok(m('a!=b', {}), '!= matches a missing key');
  assert.ok(!m('a!=b', { a: 'b' }));
  assert.ok(m('a in (x, y)', { a: 'y' }));
  assert.ok(!m('a in (x,y)', {}));
  assert.ok(m('a notin (x,y)', {}), 'notin matches a missing key');
  assert.ok(m('a', { a: '' }));
  assert.ok(m('!a', { b: '1' }));
  assert.ok(m('volcano.sh/task-spec=w, app in (a,b),!skip', { 'volcano.sh/task-spec': 'w', app: 'b' }));
  assert.ok(m('', { any: 'thing' }));
  assert.ok(m('a=', { a: '' }));
});

test('syntax errors are 400 BadRequest', () => {
  for (const bad of ['a in (x', 'a=b=c', 'a b', '!', 'a in x', ',', 'Bad Key=1', `a=${'x'.repeat(64)}`]) {
    assert.throws(
      () => parseLabelSelector(bad),
      (e: unknown) => e instanceof ApiError && e.code === 400,
      bad,
    );
  }
});

test('metav1.LabelSelector objects', () => {
  const sel = fromLabelSelectorObject({
    matchLabels: { a: '1' },
    matchExpressions: [
      { key: 'b', operator: 'In', values: ['x'] },
      { key: 'c', operator: 'DoesNotExist' },
    ],
  });
  assert.ok(matchLabels(sel, { a: '1', b: 'x' }));
  assert.ok(!matchLabels(sel, { a: '1', b: 'x', c: '' }));
  assert.throws(() => fromLabelSelectorObject({ matchExpressions: [{ key: 'a', operator: 'Gt' }] }));
});

test('an equality selector built from any labels matches exactly those labels', () => {
  const key = fc.stringMatching(/^[a-z][a-z0-9]{0,8}$/);
  fc.assert(
    fc.property(fc.dictionary(key, fc.stringMatching(/^[a-z0-9]{0,8}$/), { maxKeys: 5 }), (labels) => {
      const sel = Object.entries(labels)
        .map(([k, v]) => `${k}=${v}`)
        .join(',');
      assert.ok(m(sel, labels));
      for (const k of Object.keys(labels)) {
        const { [k]: _, ...rest } = labels;
        assert.ok(!m(sel, rest));
      }
    }),
  );
});

test('field selectors: operators, known fields, error message', () => {
  const getters = { ...META_GETTERS, 'spec.nodeName': (o: any) => o.spec?.nodeName ?? '' };
  const sel = parseFieldSelector('spec.nodeName=n1,metadata.name!=x', getters);
  assert.ok(matchFields(sel, { metadata: { name: 'y' }, spec: { nodeName: 'n1' } }, getters));
  assert.ok(!matchFields(sel, { metadata: { name: 'x' }, spec: { nodeName: 'n1' } }, getters));
  assert.ok(matchFields(parseFieldSelector('spec.nodeName=', getters), { metadata: {}, spec: {} }, getters));
  assert.throws(
    () => parseFieldSelector('spec.foo=x', getters),
    (e: unknown) =>
      e instanceof ApiError &&
      e.code === 400 &&
      e.message ===
        '"spec.foo" is not a known field selector: only "metadata.name", "metadata.namespace", "spec.nodeName"',
  );
  assert.throws(
    () => parseFieldSelector('nonsense', getters),
    (e: unknown) => e instanceof ApiError && e.code === 400,
  );
});
