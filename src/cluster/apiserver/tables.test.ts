import assert from 'node:assert/strict';
import { test } from 'node:test';
import { evalJsonPath } from './jsonpath.js';
import { humanDuration, podStatusReason } from './tables.js';

test('human durations follow kubectl AGE formatting', () => {
  const s = 1000;
  const cases: [number, string][] = [
    [-5 * s, '<invalid>'],
    [0, '0s'],
    [119 * s, '119s'],
    [120 * s, '2m'],
    [125 * s, '2m5s'],
    [10 * 60 * s, '10m'],
    [179 * 60 * s, '179m'],
    [3 * 3600 * s, '3h'],
    [3 * 3600 * s + 5 * 60 * s, '3h5m'],
    [8 * 3600 * s, '8h'],
    [47 * 3600 * s, '47h'],
    [2 * 86400 * s, '2d'],
    [2 * 86400 * s + 3 * 3600 * s, '2d3h'],
    [30 * 86400 * s, '30d'],
    [800 * 86400 * s, '2y70d'],
    [9 * 365 * 86400 * s, '9y'],
  ];
  for (const [ms, want] of cases) assert.equal(humanDuration(ms), want, String(ms));
});

test('JSONPath: paths, indexes, quoted keys, filters, wildcards', () => {
  const o = {
    status: {
      conditions: [
        { type: 'A', status: 'False' },
        { type: 'Ready', status: 'True' },
      ],
    },
    metadata: { labels: { 'app.kubernetes.io/name': 'x' } },
    spec: { list: [1, 2] },
  };
  assert.deepEqual(evalJsonPath(o, '.status.conditions[1].type'), ['Ready']);
  assert.deepEqual(evalJsonPath(o, '.status.conditions[-1].status'), ['True']);
  assert.deepEqual(evalJsonPath(o, '.status.conditions[?(@.type=="Ready")].status'), ['True']);
  assert.deepEqual(evalJsonPath(o, ".metadata.labels['app.kubernetes.io/name']"), ['x']);
  assert.deepEqual(evalJsonPath(o, '.spec.list[*]'), [1, 2]);
  assert.deepEqual(evalJsonPath(o, '{.spec.missing}'), []);
  assert.throws(() => evalJsonPath(o, '.a[?(bad)]'));
});

test('pod STATUS column', () => {
  const pod = (status: any, extra: any = {}) => ({
    metadata: { name: 'p', ...extra },
    spec: { containers: [{ name: 'c' }] },
    status,
  });
  assert.equal(podStatusReason(pod({ phase: 'Pending' })), 'Pending');
  assert.equal(
    podStatusReason(
      pod({ phase: 'Pending', containerStatuses: [{ state: { waiting: { reason: 'ContainerCreating' } } }] }),
    ),
    'ContainerCreating',
  );
  assert.equal(
    podStatusReason(
      pod({ phase: 'Running', containerStatuses: [{ state: { waiting: { reason: 'CrashLoopBackOff' } } }] }),
    ),
    'CrashLoopBackOff',
  );
  assert.equal(
    podStatusReason(
      pod({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 1, reason: 'Error' } } }] }),
    ),
    'Error',
  );
  assert.equal(
    podStatusReason(pod({ phase: 'Failed', containerStatuses: [{ state: { terminated: { exitCode: 137 } } }] })),
    'ExitCode:137',
  );
  assert.equal(
    podStatusReason(pod({ phase: 'Running' }, { deletionTimestamp: '2026-01-01T00:00:00Z' })),
    'Terminating',
  );
  assert.equal(
    podStatusReason({
      ...pod({ phase: 'Pending', initContainerStatuses: [{ state: { running: {} } }] }),
      spec: { initContainers: [{}, {}], containers: [{}] },
    }),
    'Init:0/2',
  );
});
