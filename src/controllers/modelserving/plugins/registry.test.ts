import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { buildPod } from '../pods.js';
import { modelServing, role } from '../testkit.js';
import { buildPluginChain } from './registry.js';

function pods(ms: ReturnType<typeof modelServing>) {
  const r = ms.spec.template.roles[0];
  return [0, 1].map((k) => buildPod(ms, { g: 2, role: r, r: 0, k, revision: 'x', roleHash: 'y', gang: false }));
}

test('demo-pod-tweaks sets runtimeClass, annotations and env, honouring scope', () => {
  const ms = modelServing('m', 1, [role('prefill', 1, 1)]);
  ms.spec.plugins = [
    {
      name: 'demo-pod-tweaks',
      config: { runtimeClassName: 'nvidia', annotations: { a: 'b' }, env: [{ name: 'X', value: '1' }] },
      scope: { target: 'Worker' },
    },
  ];
  const chain = buildPluginChain(ms);
  const [entry, worker] = pods(ms);
  for (const [pod, isEntry] of [
    [entry, true],
    [worker, false],
  ] as const)
    chain.onPodCreate({ ms, groupName: 'm-2', roleName: 'prefill', roleId: 'prefill-0', isEntry, pod });
  assert.equal(entry.spec?.runtimeClassName, undefined);
  assert.equal(worker.spec?.runtimeClassName, 'nvidia');
  assert.equal(worker.metadata?.annotations?.a, 'b');
  assert.deepEqual(worker.spec?.containers[0].env?.at(-1), { name: 'X', value: '1' });
});

test('scope.roles filters by role name', () => {
  const ms = modelServing('m', 1, [role('prefill', 1, 1)]);
  ms.spec.plugins = [{ name: 'demo-pod-tweaks', config: { runtimeClassName: 'r' }, scope: { roles: ['decode'] } }];
  const [entry] = pods(ms);
  buildPluginChain(ms).onPodCreate({
    ms,
    groupName: 'm-2',
    roleName: 'prefill',
    roleId: 'prefill-0',
    isEntry: true,
    pod: entry,
  });
  assert.equal(entry.spec?.runtimeClassName, undefined);
});

test('lws-standard-labels only acts on LWS-owned ModelServings', () => {
  const ms = modelServing('m', 1, [role('default', 1, 1)]);
  ms.spec.plugins = [{ name: 'lws-standard-labels', type: 'BuiltIn' }];
  const [e0] = pods(ms);
  buildPluginChain(ms).onPodCreate({
    ms,
    groupName: 'm-2',
    roleName: 'default',
    roleId: 'default-0',
    isEntry: true,
    pod: e0,
  });
  assert.equal(e0.metadata?.labels?.['leaderworkerset.sigs.k8s.io/name'], undefined);
  ms.metadata.ownerReferences = [
    { apiVersion: 'leaderworkerset.x-k8s.io/v1', kind: 'LeaderWorkerSet', name: 'lws', uid: 'u' },
  ];
  const [entry, worker] = pods(ms);
  const chain = buildPluginChain(ms);
  chain.onPodCreate({ ms, groupName: 'm-2', roleName: 'default', roleId: 'default-0', isEntry: true, pod: entry });
  chain.onPodCreate({ ms, groupName: 'm-2', roleName: 'default', roleId: 'default-0', isEntry: false, pod: worker });
  assert.equal(entry.metadata?.labels?.['leaderworkerset.sigs.k8s.io/name'], 'lws');
  assert.equal(entry.metadata?.labels?.['leaderworkerset.sigs.k8s.io/group-index'], '2');
  assert.equal(entry.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index'], '0');
  assert.equal(worker.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index'], '1');
  assert.equal(
    entry.metadata?.labels?.['leaderworkerset.sigs.k8s.io/group-key'],
    createHash('sha1').update('lws-2').digest('hex'),
  );
});

test('unknown plugins, non-BuiltIn types and bad configs are errors', () => {
  const ms = modelServing('m', 1, [role('p', 1, 0)]);
  ms.spec.plugins = [{ name: 'nope' }];
  assert.throws(() => buildPluginChain(ms), /not registered/);
  ms.spec.plugins = [{ name: 'demo-pod-tweaks', type: 'External' }];
  assert.throws(() => buildPluginChain(ms), /unsupported type/);
  ms.spec.plugins = [{ name: 'demo-pod-tweaks', config: { env: 'x' } }];
  assert.throws(() => buildPluginChain(ms), /env must be a list/);
  ms.spec.plugins = [{ name: 'demo-pod-tweaks', config: [1] }];
  assert.throws(() => buildPluginChain(ms), /config must be an object/);
});
