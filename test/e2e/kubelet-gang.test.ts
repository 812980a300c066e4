// Volcano gang scheduling against a real local API server: all or nothing, then all at once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS, NODES, PODGROUPS, PODS } from '../../src/kube/index.js';
import { cluster, condition, eventually, getPod } from './kubelet-helpers.js';

let env: Awaited<ReturnType<typeof cluster>>;
before(async () => {
  env = await cluster({ nodes: 1, gpusPerNode: 2 });
});
after(async () => {
  await env?.close();
});

const member = (i: number): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: {
    name: `gang-${i}`,
    namespace: 'default',
    annotations: { 'scheduling.k8s.io/group-name': 'gang', 'volcano.sh/task-spec': 'worker' },
  },
  spec: {
    schedulerName: 'volcano',
    containers: [
      { name: 'c', image: 'busybox', command: ['sleep', '600'], resources: { limits: { 'nvidia.com/gpu': '1' } } },
    ],
  },
});

test('a PodGroup that does not fit binds nothing; when a node appears it binds all members at once', async () => {
  const { client } = env;
  await client.create(PODGROUPS, {
    apiVersion: 'scheduling.volcano.sh/v1beta1',
    kind: 'PodGroup',
    metadata: { name: 'gang', namespace: 'default' },
    spec: { minMember: 4, minTaskMember: { worker: 4 } },
  } as never);
  for (let i = 0; i < 4; i++) await client.create(PODS, member(i));

  // Every member is reported unschedulable with the gang's reason, and none is bound.
  await eventually('all members unschedulable', async () => {
    const pods = await Promise.all([0, 1, 2, 3].map((i) => getPod(client, `gang-${i}`)));
    return pods.every((p) => condition(p, 'PodScheduled')?.status === 'False') ? pods : undefined;
  });
  const before = await Promise.all([0, 1, 2, 3].map((i) => getPod(client, `gang-${i}`)));
  assert.deepEqual(
    before.map((p) => p.spec?.nodeName ?? null),
    [null, null, null, null],
  );
  assert.match(
    condition(before[0], 'PodScheduled')?.message ?? '',
    /2\/4 tasks in gang unschedulable: pod group is not ready, 2 schedulable, 4 minAvailable/,
  );
  const pg = await client.get<{ status?: { phase?: string; conditions?: { type: string; reason?: string }[] } }>(
    PODGROUPS,
    'gang',
    'default',
  );
  assert.equal(pg.status?.phase, 'Inqueue');
  assert.equal(pg.status?.conditions?.[0]?.type, 'Unschedulable');
  const events = await client.list<{ reason: string }>(EVENTS, {
    namespace: 'default',
    fieldSelector: 'involvedObject.name=gang-0',
  });
  assert.ok(events.items.some((e) => e.reason === 'FailedScheduling'));

  // A second node with two GPUs appears (registered by hand, as an extra machine would be).
  await client.create(NODES, {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: 'extra-0', labels: { 'kubernetes.io/hostname': 'extra-0' } },
  } as never);
  await client.patch(
    NODES,
    'extra-0',
    undefined,
    {
      status: {
        capacity: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2' },
        allocatable: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '2' },
      },
    },
    'merge',
    { subresource: 'status' },
  );
  const bound = await eventually('all members bound', async () => {
    const pods = await Promise.all([0, 1, 2, 3].map((i) => getPod(client, `gang-${i}`)));
    return pods.every((p) => p.spec?.nodeName) ? pods : undefined;
  });
  const perNode = new Map<string, number>();
  for (const p of bound) perNode.set(p.spec?.nodeName ?? '', (perNode.get(p.spec?.nodeName ?? '') ?? 0) + 1);
  assert.deepEqual(Object.fromEntries(perNode), { 'extra-0': 2, 'node-0': 2 });
  await eventually('PodGroup Running', async () => {
    const g = await client.get<{ status?: { phase?: string } }>(PODGROUPS, 'gang', 'default');
    return g.status?.phase === 'Running';
  });
});

test('a malformed PodGroup is reported on its pods and does not stop scheduling of others', async () => {
  const { client } = env;
  let accepted = true;
  try {
    await client.create(PODGROUPS, {
      apiVersion: 'scheduling.volcano.sh/v1beta1',
      kind: 'PodGroup',
      metadata: { name: 'bad', namespace: 'default' },
      spec: { minMember: 1, minResources: { 'nvidia.com/gpu': 'lots' } },
    } as never);
  } catch (err) {
    accepted = false; // the API server's schema rejected it: also fine
    assert.ok(err instanceof Error);
  }
  if (accepted) {
    await client.create(PODS, {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'bad-0', namespace: 'default', annotations: { 'scheduling.k8s.io/group-name': 'bad' } },
      spec: { schedulerName: 'volcano', containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }] },
    } as Pod);
    const p = await eventually('bad member reported', async () => {
      const x = await getPod(client, 'bad-0');
      return condition(x, 'PodScheduled')?.status === 'False' ? x : undefined;
    });
    assert.match(condition(p, 'PodScheduled')?.message ?? '', /invalid quantity "lots"/);
  }
  await client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'plain', namespace: 'default' },
    spec: { containers: [{ name: 'c', image: 'busybox', command: ['sleep', '60'] }] },
  } as Pod);
  await eventually('ordinary pod still scheduled', async () => !!(await getPod(client, 'plain')).spec?.nodeName);
});
