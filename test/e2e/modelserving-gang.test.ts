// Gang placement of a ModelServing on the local control plane: a ServingGroup that does not fit binds none of
// its pods (no half-placed group holding GPUs), and binds all of them once a node with room appears.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Informer, NODES, PODGROUPS, PODS } from '../../src/kube/index.js';
import { eventually, getMs, LABEL, type MsEnv, NS, podsOf, simServing, startMsEnv } from './modelserving-helpers.js';

let env: MsEnv;
before(async () => {
  env = await startMsEnv({ nodes: 1, gpusPerNode: 2 });
});
after(async () => {
  await env?.close();
});

const scheduled = (p: Pod) => p.status?.conditions?.find((c) => c.type === 'PodScheduled');

test('a ServingGroup needing 3 GPUs on a 2-GPU cluster stays entirely pending, then binds at once on a new node', async () => {
  const ms = simServing('gang', 1, [{ name: 'prefill', replicas: 2 }, { name: 'decode' }], {
    schedulerName: 'volcano',
  });
  for (const r of ms.spec.template.roles) {
    const c = r.entryTemplate.spec!.containers[0];
    c.resources = { limits: { 'nvidia.com/gpu': '1' } };
  }
  // Record every binding the watch sees, to show nothing was bound before the node came.
  const informer = new Informer<Pod>(env.client, PODS, { namespace: NS, labelSelector: `${LABEL.name}=gang` });
  const boundSeen: string[] = [];
  let nodeAdded = false;
  let boundBeforeNode = 0;
  const onPod = (p: Pod) => {
    if (!p.spec?.nodeName || boundSeen.includes(p.metadata!.name!)) return;
    boundSeen.push(p.metadata!.name!);
    if (!nodeAdded) boundBeforeNode++;
  };
  informer.on('add', onPod);
  informer.on('update', (_a: Pod, b: Pod) => onPod(b));
  informer.start();
  try {
    const r = await env.kubectl(['apply', '-f', '-'], JSON.stringify(ms));
    assert.equal(r.status, 0, r.stderr);

    const pending = await eventually(
      'all three pods reported unschedulable',
      async () => {
        const pods = await podsOf(env.client, 'gang');
        return pods.length === 3 && pods.every((p) => scheduled(p)?.status === 'False') ? pods : undefined;
      },
      120_000,
    );
    assert.deepEqual(
      pending.map((p) => p.spec?.nodeName ?? null),
      [null, null, null],
      'no pod of the group is bound',
    );
    assert.match(scheduled(pending[0])?.message ?? '', /gang unschedulable|pod group is not ready/);
    const pg = await env.client.get<any>(PODGROUPS, 'gang-0', NS);
    assert.equal(pg.spec.minMember, 3);
    assert.notEqual(pg.status?.phase, 'Running');
    const ms1 = await getMs(env.client, 'gang');
    assert.equal(ms1.status?.availableReplicas ?? 0, 0);

    // A node with two more GPUs registers (as a new machine would).
    nodeAdded = true;
    await env.client.create(NODES, {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: 'extra-0', labels: { 'kubernetes.io/hostname': 'extra-0' } },
    } as never);
    await env.client.patch(
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
    const bound = await eventually(
      'all three pods bound',
      async () => {
        const pods = await podsOf(env.client, 'gang');
        return pods.length === 3 && pods.every((p) => p.spec?.nodeName) ? pods : undefined;
      },
      120_000,
    );
    assert.equal(boundBeforeNode, 0, `bound before the node was added: ${boundSeen.join(',')}`);
    const perNode: Record<string, number> = {};
    for (const p of bound) perNode[p.spec!.nodeName!] = (perNode[p.spec!.nodeName!] ?? 0) + 1;
    assert.deepEqual(Object.values(perNode).sort(), [1, 2], `GPUs fill both nodes: ${JSON.stringify(perNode)}`);
    await eventually('PodGroup Running', async () => {
      const g = await env.client.get<any>(PODGROUPS, 'gang-0', NS);
      return g.status?.phase === 'Running';
    });
  } finally {
    await informer.stop();
  }
});
