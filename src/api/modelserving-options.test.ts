import assert from 'node:assert/strict';
import { test } from 'node:test';
import { API_VERSION_WORKLOAD, validate } from './index.js';
import { DEFAULT_MODELSERVING_OPTIONS, parseModelServingOptions } from './modelserving-options.js';

test('option annotations parse; a malformed one is a problem and keeps its default', () => {
  const { options, problems } = parseModelServingOptions({
    'kthena.io/eviction-budget': 'role:1',
    'kthena.io/worker-startup': 'LeaderReady',
    'kthena.io/role-max-skew': '25%',
    'kthena.io/restart-backoff': '5,60',
    'kthena.io/revision-history-limit': '3',
    'other.io/x': 'ignored',
  });
  assert.deepEqual(problems, []);
  assert.deepEqual(options.evictionBudget, { scope: 'role', maxUnavailable: 1 });
  assert.equal(options.workerStartup, 'LeaderReady');
  assert.equal(options.roleMaxSkew, 0.25);
  assert.deepEqual([options.backoffBaseMs, options.backoffMaxMs], [5000, 60000]);
  assert.equal(options.revisionHistoryLimit, 3);
  for (const [k, v] of [
    ['kthena.io/eviction-budget', 'pods:1'],
    ['kthena.io/eviction-budget', 'role:-1'],
    ['kthena.io/eviction-budget', 'role:99999999999'],
    ['kthena.io/role-max-skew', '120%'],
    ['kthena.io/restart-backoff', '1,2,3'],
    ['kthena.io/restart-backoff', ','],
    ['kthena.io/role-startup', 'Sideways'],
    ['kthena.io/revision-history-limit', 'ten'],
  ]) {
    const r = parseModelServingOptions({ [k]: v });
    assert.equal(r.problems.length, 1, `${k}=${v}`);
    assert.equal(r.problems[0].annotation, k);
    assert.deepEqual(r.options, DEFAULT_MODELSERVING_OPTIONS);
  }
});

test('validate reports a malformed eviction budget at its annotation path', () => {
  const ms = {
    apiVersion: API_VERSION_WORKLOAD,
    kind: 'ModelServing',
    metadata: { name: 'm', annotations: { 'kthena.io/eviction-budget': 'everything' } },
    spec: {
      template: {
        roles: [
          { name: 'decode', workerReplicas: 0, entryTemplate: { spec: { containers: [{ name: 'c', image: 'x' }] } } },
        ],
      },
    },
  };
  const { errors } = validate(ms);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.match(errors[0].path, /metadata\.annotations.*kthena\.io\/eviction-budget/);
  assert.match(errors[0].message, /want "role:N" or "group:N"/);
  ms.metadata.annotations['kthena.io/eviction-budget'] = 'group:1';
  assert.deepEqual(validate(ms).errors, []);
});
