import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decideModelServing, type LeaderWorkerSet, lwsStatusFor, modelServingFor } from './lws.js';
import type { ModelServing } from './types.js';

const tpl = (image: string) => ({ metadata: { labels: { app: image } }, spec: { containers: [{ name: 'c', image }] } });
function lws(extra: Partial<NonNullable<LeaderWorkerSet['spec']>> = {}): LeaderWorkerSet {
  return {
    apiVersion: 'leaderworkerset.x-k8s.io/v1',
    kind: 'LeaderWorkerSet',
    metadata: { name: 'vllm', namespace: 'ns', uid: 'u1' },
    spec: {
      replicas: 2,
      leaderWorkerTemplate: { size: 3, leaderTemplate: tpl('leader'), workerTemplate: tpl('worker') },
      ...extra,
    },
  };
}

test('an LWS maps onto one `default` role: leader = entry, size−1 workers, owned by the LWS', () => {
  const ms = modelServingFor(lws());
  assert.equal(ms.metadata.name, 'vllm');
  assert.equal(ms.metadata.namespace, 'ns');
  assert.deepEqual(ms.metadata.ownerReferences, [
    {
      apiVersion: 'leaderworkerset.x-k8s.io/v1',
      kind: 'LeaderWorkerSet',
      name: 'vllm',
      uid: 'u1',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(ms.spec.replicas, 2);
  assert.deepEqual(ms.spec.plugins, [{ name: 'lws-standard-labels', type: 'BuiltIn' }]);
  const [role] = ms.spec.template.roles;
  assert.deepEqual(
    [
      role.name,
      role.replicas,
      role.workerReplicas,
      role.entryTemplate.spec?.containers[0].image,
      role.workerTemplate?.spec?.containers[0].image,
    ],
    ['default', 1, 2, 'leader', 'worker'],
  );
});

test('defaults: no leader template → the worker template leads; size and replicas default to 1', () => {
  const ms = modelServingFor({ metadata: { name: 'x' }, spec: { leaderWorkerTemplate: { workerTemplate: tpl('w') } } });
  const [role] = ms.spec.template.roles;
  assert.equal(ms.spec.replicas, 1);
  assert.equal(role.workerReplicas, 0);
  assert.equal(role.entryTemplate.spec?.containers[0].image, 'w');
});

test('decisions: create, nothing when equal after server defaults, update on change, leave foreign ones alone', () => {
  const l = lws();
  assert.equal(decideModelServing(l, undefined).type, 'create');
  // what the server stores: defaults filled in, metadata of its own
  const stored: ModelServing = {
    ...modelServingFor(l),
    metadata: { ...modelServingFor(l).metadata, resourceVersion: '7', uid: 'ms-uid' },
    spec: { ...modelServingFor(l).spec, schedulerName: 'volcano', recoveryPolicy: 'RoleRecreate' },
  };
  assert.equal(decideModelServing(l, stored).type, 'none');
  const bigger = lws({ replicas: 5 });
  const upd = decideModelServing(bigger, stored);
  assert.ok(upd.type === 'update');
  assert.equal(upd.object.spec.replicas, 5);
  assert.equal(upd.object.metadata.resourceVersion, '7', 'optimistic concurrency on the stored object');
  const foreign = { ...stored, metadata: { ...stored.metadata, ownerReferences: [] } };
  assert.equal(decideModelServing(l, foreign).type, 'conflict');
});

test('status: replicas and readyReplicas from the ModelServing, written only when they change', () => {
  const l = lws();
  const ms = { ...modelServingFor(l), status: { replicas: 2, availableReplicas: 1 } };
  assert.deepEqual(lwsStatusFor(l, ms), { replicas: 2, readyReplicas: 1 });
  assert.equal(lwsStatusFor({ ...l, status: { replicas: 2, readyReplicas: 1 } }, ms), undefined);
  assert.equal(lwsStatusFor(l, undefined), undefined);
});
