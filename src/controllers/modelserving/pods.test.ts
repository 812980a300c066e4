import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildHeadlessService, buildPod, buildRoleInstancePods, needsService } from './pods.js';
import { modelServing, role } from './testkit.js';

const LABELS = {
  name: 'modelserving.volcano.sh/name',
  group: 'modelserving.volcano.sh/group-name',
  role: 'modelserving.volcano.sh/role',
  roleId: 'modelserving.volcano.sh/role-id',
  revision: 'modelserving.volcano.sh/revision',
  hash: 'modelserving.volcano.sh/role-template-hash',
  entry: 'modelserving.volcano.sh/entry',
};

test('entry and worker pods carry upstream names, labels, env and owner', () => {
  const r = role('prefill', 2, 2);
  r.entryTemplate.spec!.containers[0].env = [
    { name: 'GROUP_SIZE', value: 'user' },
    { name: 'KEEP', value: '1' },
  ];
  r.entryTemplate.metadata = { labels: { team: 'a', [LABELS.role]: 'user-overrides' }, annotations: { note: 'x' } };
  r.entryTemplate.spec!.initContainers = [{ name: 'init', image: 'busybox' }];
  const ms = modelServing('llama', 1, [r]);
  ms.metadata.namespace = 'ai';
  const pods = buildRoleInstancePods(ms, { g: 3, role: r, r: 1, revision: 'rev1', roleHash: 'h1', gang: true });
  assert.deepEqual(
    pods.map((p) => p.metadata?.name),
    ['llama-3-prefill-1-0', 'llama-3-prefill-1-1', 'llama-3-prefill-1-2'],
  );
  const [entry, worker] = pods;
  assert.deepEqual(entry.metadata?.labels, {
    [LABELS.name]: 'llama',
    [LABELS.group]: 'llama-3',
    [LABELS.role]: 'user-overrides',
    [LABELS.roleId]: 'prefill-1',
    [LABELS.revision]: 'rev1',
    [LABELS.hash]: 'h1',
    [LABELS.entry]: 'true',
    team: 'a',
  });
  assert.equal(worker.metadata?.labels?.[LABELS.entry], undefined, 'entry label only on the entry pod');
  assert.deepEqual(entry.metadata?.annotations, {
    note: 'x',
    'scheduling.k8s.io/group-name': 'llama-3',
    'volcano.sh/task-spec': 'prefill-1',
  });
  assert.deepEqual(entry.spec?.containers[0].env, [
    { name: 'KEEP', value: '1' },
    { name: 'GROUP_SIZE', value: '3' },
    { name: 'ENTRY_ADDRESS', value: 'llama-3-prefill-1-0.ai' },
    { name: 'WORKER_INDEX', value: '0' },
  ]);
  assert.deepEqual(
    entry.spec?.initContainers?.[0].env?.map((e) => e.name),
    ['GROUP_SIZE', 'ENTRY_ADDRESS', 'WORKER_INDEX'],
  );
  assert.equal(pods[2].spec?.containers[0].env?.find((e) => e.name === 'WORKER_INDEX')?.value, '2');
  assert.equal(worker.spec?.containers[0].name, 'worker', 'workers use the worker template');
  assert.equal(entry.spec?.schedulerName, 'volcano');
  assert.deepEqual(entry.metadata?.ownerReferences, [
    {
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'ModelServing',
      name: 'llama',
      uid: 'uid-llama',
      controller: true,
      blockOwnerDeletion: true,
    },
  ]);
  assert.equal(r.entryTemplate.spec!.containers[0].env!.length, 2, 'the template is not mutated');
});

test('no gang annotations without a PodGroup', () => {
  const r = role('decode', 1, 0);
  const pod = buildPod(modelServing('m', 1, [r]), {
    g: 0,
    role: r,
    r: 0,
    k: 0,
    revision: 'a',
    roleHash: 'b',
    gang: false,
  });
  assert.equal(pod.metadata?.annotations, undefined);
});

test('headless service per role instance, only for roles with a worker template', () => {
  const ms = modelServing('llama', 1, [role('prefill', 1, 1), role('decode', 1, 0)]);
  assert.equal(needsService(ms.spec.template.roles[0]), true);
  assert.equal(needsService(ms.spec.template.roles[1]), false);
  const svc = buildHeadlessService(ms, 0, 'prefill', 0);
  assert.equal(svc.metadata?.name, 'llama-0-prefill-0-0');
  assert.equal(svc.spec?.clusterIP, 'None');
  assert.equal(svc.spec?.publishNotReadyAddresses, true);
  assert.deepEqual(svc.spec?.selector, {
    [LABELS.group]: 'llama-0',
    [LABELS.role]: 'prefill',
    [LABELS.roleId]: 'prefill-0',
    [LABELS.entry]: 'true',
  });
  assert.deepEqual(svc.metadata?.labels, {
    [LABELS.name]: 'llama',
    [LABELS.group]: 'llama-0',
    [LABELS.role]: 'prefill',
    [LABELS.roleId]: 'prefill-0',
  });
});
