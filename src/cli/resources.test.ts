import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeObject } from '../kube/index.js';
import { boosterStatus, CLI_KINDS, findKind, formatTable, servingStatus, tableRows } from './resources.js';

const withConditions = (pairs: [string, string][]): KubeObject =>
  ({ status: { conditions: pairs.map(([type, status]) => ({ type, status })) } }) as KubeObject;

/** Every subset of the condition types, each True or False: the status is the first True one by precedence. */
function exhaustive(types: string[], shown: Record<string, string>, fn: (o: KubeObject) => string) {
  const states = ['True', 'False', 'absent'];
  const combos = states.length ** types.length;
  for (let i = 0; i < combos; i++) {
    const pairs: [string, string][] = [];
    types.forEach((t, j) => {
      const s = states[Math.floor(i / states.length ** j) % states.length];
      if (s !== 'absent') pairs.push([t, s]);
    });
    const want = types.find((t) => pairs.some(([pt, ps]) => pt === t && ps === 'True'));
    // Conditions arrive in any order: precedence, not position, decides.
    for (const ordered of [pairs, [...pairs].reverse()])
      assert.equal(fn(withConditions(ordered)), want ? shown[want] : 'Unknown', JSON.stringify(ordered));
  }
}

test("ModelBooster status: Failed > Active > Initialized > Unknown (upstream's precedence), True conditions only", () => {
  exhaustive(
    ['Failed', 'Active', 'Initialized'],
    { Failed: 'Failed', Active: 'Active', Initialized: 'Initialized' },
    boosterStatus,
  );
  assert.equal(boosterStatus({} as KubeObject), 'Unknown');
  assert.equal(boosterStatus({ status: { conditions: 'garbage' } } as KubeObject), 'Unknown');
});

test('ModelServing status: Available > Updating (UpdateInProgress) > Progressing > Unknown', () => {
  exhaustive(
    ['Available', 'UpdateInProgress', 'Progressing'],
    { Available: 'Available', UpdateInProgress: 'Updating', Progressing: 'Progressing' },
    servingStatus,
  );
});

test("upstream's resource words and aliases, plus the API's own names; unknown words list the known ones", () => {
  const cases: [string, string][] = [
    ['model-boosters', 'modelboosters'],
    ['model-booster', 'modelboosters'],
    ['ModelBooster', 'modelboosters'],
    ['ms', 'modelservings'],
    ['model-serving', 'modelservings'],
    ['asp', 'autoscalingpolicies'],
    ['autoscaling-policy', 'autoscalingpolicies'],
    ['mroute', 'modelroutes'],
    ['modelroutes', 'modelroutes'],
    ['mserver', 'modelservers'],
    ['model-servers', 'modelservers'],
  ];
  for (const [word, plural] of cases) assert.equal(findKind(word).ref.plural, plural, word);
  assert.throws(() => findKind('pods'), /unknown resource type "pods"; known: templates, template, model-boosters/);
  assert.equal(CLI_KINDS.length, 5);
});

test('tables: kubectl-style padding, NAMESPACE first with -A, AGE from creationTimestamp', () => {
  const now = Date.parse('2026-12-07T12:00:00Z');
  const route = {
    metadata: { name: 'r', namespace: 'ns', creationTimestamp: '2026-12-07T11:57:00Z' },
    spec: { modelName: 'llama', rules: [{}, {}, {}] },
  } as KubeObject;
  const rows = tableRows(findKind('mroute'), [route], true, now);
  assert.deepEqual(rows, [
    ['NAMESPACE', 'NAME', 'MODEL', 'RULES', 'AGE'],
    ['ns', 'r', 'llama', '3', '3m'],
  ]);
  assert.equal(formatTable(rows), 'NAMESPACE   NAME   MODEL   RULES   AGE\nns          r      llama   3       3m\n');
  assert.equal(formatTable([]), '');
  const ms = { metadata: { name: 'm' }, spec: {}, status: { availableReplicas: 2 } } as KubeObject;
  assert.deepEqual(tableRows(findKind('ms'), [ms], false, now)[1].slice(0, 3), ['m', '2/1', 'Unknown']);
});
