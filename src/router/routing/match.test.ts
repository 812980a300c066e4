import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelRoute } from '../store/resources.js';
import { compareRouteAge, matchRule, matchString, pickTarget, resolveRoute, usableTargets } from './match.js';

const input = (over: Partial<{ model: string; path: string; headers: Record<string, string> }> = {}) => ({
  model: over.model ?? 'm',
  path: over.path ?? '/v1/chat/completions',
  header: (n: string) => over.headers?.[n] ?? '',
});

test('string matchers: exact, prefix, unanchored regex, and priority exact > prefix > regex', () => {
  assert.equal(matchString({ exact: 'a' }, 'a'), true);
  assert.equal(matchString({ exact: 'a' }, 'ab'), false);
  assert.equal(matchString({ prefix: '/v1/' }, '/v1/chat'), true);
  assert.equal(matchString({ prefix: '/v2/' }, '/v1/chat'), false);
  assert.equal(matchString({ regex: 'chat' }, '/v1/chat/completions'), true, 'regex is a contains-match');
  assert.equal(matchString({ regex: '^chat' }, '/v1/chat'), false);
  assert.equal(matchString({ exact: 'x', prefix: '/v1' }, '/v1/chat'), false, 'exact wins over prefix');
  assert.equal(matchString({ regex: '(' }, 'anything'), false, 'invalid regex never matches');
  assert.equal(matchString({}, 'anything'), true);
});

test('rule matching ANDs headers, uri and body; a missing header matches as empty', () => {
  assert.equal(matchRule(undefined, input()), true);
  const m = { headers: { 'user-type': { exact: 'premium' } }, uri: { prefix: '/v1/chat' } };
  assert.equal(matchRule(m, input({ headers: { 'user-type': 'premium' } })), true);
  assert.equal(matchRule(m, input({ headers: { 'user-type': 'basic' } })), false);
  assert.equal(matchRule(m, input({ headers: { 'user-type': 'premium' }, path: '/v1/completions' })), false);
  assert.equal(
    matchRule({ headers: { 'X-Empty': { exact: '' } } }, input()),
    true,
    'header names are case-insensitive',
  );
  assert.equal(matchRule({ body: { model: 'm' } }, input()), true);
  assert.equal(matchRule({ body: { model: 'other' } }, input()), false);
});

test('weighted pick walks cumulative weights; missing weight counts as 100; total 0 picks nothing', () => {
  const t = [
    { modelServerName: 'a', weight: 70 },
    { modelServerName: 'b', weight: 30 },
  ];
  assert.equal(pickTarget(t, () => 0)?.modelServerName, 'a');
  assert.equal(pickTarget(t, () => 0.699)?.modelServerName, 'a');
  assert.equal(pickTarget(t, () => 0.7)?.modelServerName, 'b');
  assert.equal(pickTarget(t, () => 0.9999)?.modelServerName, 'b');
  assert.equal(
    pickTarget([{ modelServerName: 'a' }, { modelServerName: 'b', weight: 100 }], () => 0.6)?.modelServerName,
    'b',
  );
  assert.equal(
    pickTarget([{ modelServerName: 'a', weight: 0 }], () => 0.5),
    undefined,
  );
  // 50:30 → 62.5 % / 37.5 %
  const counts = { a: 0, b: 0 };
  for (let i = 0; i < 80; i++) {
    const p = pickTarget(
      [
        { modelServerName: 'a', weight: 50 },
        { modelServerName: 'b', weight: 30 },
      ],
      () => i / 80,
    )!;
    counts[p.modelServerName as 'a' | 'b']++;
  }
  assert.deepEqual(counts, { a: 50, b: 30 });
});

const route = (name: string, created: string, rules: ModelRoute['spec']['rules']): ModelRoute => ({
  kind: 'ModelRoute',
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { modelName: 'm', rules },
});

test('first matching rule wins, and the first route with a match wins', () => {
  const premium = route('r', '2024-01-01T00:00:00Z', [
    { name: 'premium', modelMatch: { headers: { tier: { exact: 'p' } } }, targetModels: [{ modelServerName: 'big' }] },
    { name: 'default', targetModels: [{ modelServerName: 'small' }] },
  ]);
  assert.equal(
    resolveRoute([premium], false, input({ headers: { tier: 'p' } }), () => 0)?.target.modelServerName,
    'big',
  );
  assert.equal(resolveRoute([premium], false, input(), () => 0)?.target.modelServerName, 'small');
  const onlyPremium = route('o', '2023-01-01T00:00:00Z', [
    { modelMatch: { headers: { tier: { exact: 'p' } } }, targetModels: [{ modelServerName: 'old' }] },
  ]);
  // No rule of the older route matches → the next route is tried.
  assert.equal(resolveRoute([onlyPremium, premium], false, input(), () => 0)?.target.modelServerName, 'small');
  assert.equal(
    resolveRoute([onlyPremium, premium], false, input({ headers: { tier: 'p' } }), () => 0)?.route.metadata.name,
    'o',
  );
});

test('route age order: creationTimestamp, then resourceVersion, then namespace/name', () => {
  const a = route('a', '2024-01-02T00:00:00Z', []);
  const b = route('b', '2024-01-01T00:00:00Z', []);
  assert.deepEqual(
    [a, b].sort(compareRouteAge).map((r) => r.metadata.name),
    ['b', 'a'],
  );
  const c = { ...route('c', 'same', []), metadata: { name: 'c', creationTimestamp: 'same', resourceVersion: '2' } };
  const d = { ...route('d', 'same', []), metadata: { name: 'd', creationTimestamp: 'same', resourceVersion: '1' } };
  assert.deepEqual(
    [c, d].sort(compareRouteAge).map((r) => r.metadata.name),
    ['d', 'c'],
  );
  const e = route('e', 'same', []);
  const f = route('f', 'same', []);
  assert.deepEqual(
    [f, e].sort(compareRouteAge).map((r) => r.metadata.name),
    ['e', 'f'],
  );
});

test('a weighted target naming a deleted ModelServer is skipped while another remains; kept when none is usable', () => {
  const route = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: {
      modelName: 'chat',
      rules: [
        {
          name: 'default',
          targetModels: [
            { modelServerName: 'a', weight: 50 },
            { modelServerName: 'gone', weight: 50 },
          ],
        },
      ],
    },
  } as unknown as Parameters<typeof resolveRoute>[0][number];
  const input = { model: 'chat', path: '/v1/chat/completions', header: () => '' };
  const exists = new Set(['a']);
  const usable = (_r: unknown, t: { modelServerName?: string }) => exists.has(t.modelServerName ?? '');
  // Every point of the random range lands on the remaining target.
  for (const x of [0, 0.25, 0.5, 0.75, 0.9999])
    assert.equal(resolveRoute([route], false, input, () => x, usable)?.target.modelServerName, 'a');
  exists.clear();
  const picks = new Set(
    [0, 0.9999].map((x) => resolveRoute([route], false, input, () => x, usable)?.target.modelServerName),
  );
  assert.deepEqual([...picks].sort(), ['a', 'gone'], 'nothing usable: the pick is as before, so the error names it');
  assert.deepEqual(usableTargets([{ modelServerName: 'x' }], undefined), [{ modelServerName: 'x' }]);
});
