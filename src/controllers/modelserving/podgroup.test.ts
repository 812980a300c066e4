import assert from 'node:assert/strict';
import { test } from 'node:test';
import { buildPodGroup, mergePodGroup, minRoleReplicas, podGroupNeedsUpdate, usesPodGroup } from './podgroup.js';
import { modelServing, mut, role } from './testkit.js';

function withRequests(r: ReturnType<typeof role>, entry: Record<string, string>, worker?: Record<string, string>) {
  r.entryTemplate.spec!.containers[0].resources = { requests: entry, limits: { cpu: '100' } };
  if (worker && r.workerTemplate) r.workerTemplate.spec!.containers[0].resources = { requests: worker };
  return r;
}

test('PodGroup only for volcano with the CRD served', () => {
  const ms = modelServing('m', 1, [role('p', 1, 0)]);
  assert.equal(usesPodGroup(ms, true), true);
  assert.equal(usesPodGroup(ms, false), false);
  ms.spec.schedulerName = 'default-scheduler';
  assert.equal(usesPodGroup(ms, true), false);
});

test('minMember and minResources follow minRoleReplicas', () => {
  const p = withRequests(role('prefill', 2, 1), { cpu: '2', 'nvidia.com/gpu': '1' }, { cpu: '1', memory: '8Gi' });
  const d = withRequests(role('decode', 3, 0), { cpu: '500m', 'nvidia.com/gpu': '1' });
  const ms = modelServing('m', 1, [p, d]);
  ms.spec.template.gangPolicy = { minRoleReplicas: { prefill: 1, decode: 5 } };
  assert.equal(minRoleReplicas(ms, p), 1);
  assert.equal(minRoleReplicas(ms, d), 3, 'capped at role.replicas');
  const pg = buildPodGroup(ms, 0, ms.spec.template.roles, false);
  assert.equal(pg.metadata.name, 'm-0');
  // prefill: (1+1)×1 ; decode: (1+0)×3
  assert.equal(pg.spec.minMember, 5);
  assert.deepEqual(pg.spec.minResources, { cpu: '4500m', memory: '8Gi', 'nvidia.com/gpu': '4' });
  assert.equal(pg.spec.queue, '');
  assert.equal(pg.spec.subGroupPolicy, undefined);
  assert.deepEqual(pg.metadata.labels, {
    'modelserving.volcano.sh/name': 'm',
    'modelserving.volcano.sh/group-name': 'm-0',
  });
  assert.deepEqual(pg.metadata.annotations, { 'scheduling.k8s.io/group-name': 'm-0' });
});

test('without gangPolicy every pod is in the gang', () => {
  const ms = modelServing('m', 1, [role('prefill', 2, 3), role('decode', 1, 0)]);
  assert.equal(buildPodGroup(ms, 0, ms.spec.template.roles, false).spec.minMember, 2 * 4 + 1);
});

test('queue from the annotation, network topology and sub-group policy per role', () => {
  const ms = modelServing('m', 1, [role('prefill', 2, 1), role('decode', 1, 0)]);
  ms.metadata.annotations = { 'scheduling.volcano.sh/queue-name': 'gold' };
  ms.spec.template.networkTopology = {
    groupPolicy: { mode: 'hard', highestTierAllowed: 2 },
    rolePolicy: { mode: 'hard', highestTierAllowed: 1 },
  };
  const pg = buildPodGroup(ms, 1, ms.spec.template.roles, true);
  assert.equal(pg.spec.queue, 'gold');
  assert.deepEqual(pg.spec.networkTopology, { mode: 'hard', highestTierAllowed: 2 });
  assert.deepEqual(pg.spec.subGroupPolicy, [
    {
      name: 'prefill',
      labelSelector: {
        matchLabels: { 'modelserving.volcano.sh/name': 'm', 'modelserving.volcano.sh/role': 'prefill' },
      },
      matchLabelKeys: ['modelserving.volcano.sh/role-id'],
      subGroupSize: 2,
      minSubGroups: 2,
      networkTopology: { mode: 'hard', highestTierAllowed: 1 },
    },
    {
      name: 'decode',
      labelSelector: { matchLabels: { 'modelserving.volcano.sh/name': 'm', 'modelserving.volcano.sh/role': 'decode' } },
      matchLabelKeys: ['modelserving.volcano.sh/role-id'],
      subGroupSize: 1,
      minSubGroups: 1,
      networkTopology: { mode: 'hard', highestTierAllowed: 1 },
    },
  ]);
});

test('update detection and merge keep server fields', () => {
  const ms = modelServing('m', 1, [role('p', 2, 0)]);
  const desired = buildPodGroup(ms, 0, ms.spec.template.roles, false);
  const existing = { ...structuredClone(desired), status: { phase: 'Running' } };
  mut(existing.metadata).resourceVersion = '7';
  assert.equal(podGroupNeedsUpdate(existing, desired), false);
  ms.spec.template.roles[0].replicas = 3;
  const grown = buildPodGroup(ms, 0, ms.spec.template.roles, false);
  assert.equal(podGroupNeedsUpdate(existing, grown), true);
  const merged = mergePodGroup(existing, grown);
  assert.equal(merged.spec.minMember, 3);
  assert.equal(merged.metadata.resourceVersion, '7');
  assert.deepEqual(merged.status, { phase: 'Running' });
  ms.metadata.annotations = { 'scheduling.volcano.sh/queue-name': 'q' };
  assert.equal(podGroupNeedsUpdate(existing, buildPodGroup(ms, 0, ms.spec.template.roles, false)), true);
});
