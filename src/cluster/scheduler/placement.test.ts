import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { canEnqueue, placeGang, scheduleOne, TASK_ANNOTATION } from './placement.js';
import type { NodeInfo } from './predicates.js';
import type { HyperNode } from './topology.js';

const gpuNode = (name: string, gpus: number, labels: Record<string, string> = {}, used = 0): NodeInfo => ({
  name,
  labels: { 'kubernetes.io/hostname': name, ...labels },
  taints: [],
  unschedulable: false,
  ready: true,
  allocatable: { cpu: 16000, memory: 64 * 2 ** 30, pods: 110, 'nvidia.com/gpu': gpus },
  requested: { 'nvidia.com/gpu': used },
});
const gpuPod = (name: string, gpus = 1, task?: string): Pod => ({
  metadata: { name, namespace: 'default', annotations: task ? { [TASK_ANNOTATION]: task } : {} },
  spec: { containers: [{ name: 'c', image: 'x', resources: { requests: { 'nvidia.com/gpu': String(gpus) } } }] },
});

test('single pod goes to the least allocated feasible node; ties break by name', () => {
  const nodes = [gpuNode('b', 8, {}, 6), gpuNode('a', 8, {}, 2), gpuNode('c', 8, {}, 2)];
  assert.deepEqual(scheduleOne(gpuPod('p'), nodes), { ok: true, node: 'a' });
  assert.equal(nodes[1].requested['nvidia.com/gpu'], 2, 'input snapshot is not mutated');
});

test('single pod that fits nowhere gets the kube-scheduler style message', () => {
  const r = scheduleOne(gpuPod('p', 4), [
    gpuNode('a', 2),
    gpuNode('b', 8, {}, 6),
    { ...gpuNode('c', 8), unschedulable: true },
  ]);
  assert.deepEqual(r, {
    ok: false,
    message: '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu.',
  });
});

test('preferred node affinity outweighs spreading', () => {
  const p = gpuPod('p');
  p.spec!.affinity = {
    nodeAffinity: {
      preferredDuringSchedulingIgnoredDuringExecution: [
        { weight: 10, preference: { matchExpressions: [{ key: 'pool', operator: 'In', values: ['hot'] }] } },
      ],
    },
  };
  const r = scheduleOne(p, [gpuNode('a', 8), gpuNode('b', 8, { pool: 'hot' }, 7)]);
  assert.deepEqual(r, { ok: true, node: 'b' });
});

test('gang that does not fit binds nothing; with one more slot it binds all at once', () => {
  const pods = ['w-0', 'w-1', 'w-2', 'w-3'].map((n) => gpuPod(n));
  const tight = [gpuNode('a', 2), gpuNode('b', 2, {}, 1)];
  const r = placeGang({ name: 'g', spec: { minMember: 4 }, pending: pods, bound: [], nodes: tight });
  assert.equal(r.ok, false);
  if (!r.ok) {
    assert.equal(r.reason, 'NotEnoughResources');
    assert.match(r.message, /1\/4 tasks in gang unschedulable: pod group is not ready, 3 schedulable, 4 minAvailable/);
    assert.match(r.message, /Insufficient nvidia.com\/gpu/);
  }
  const roomy = [gpuNode('a', 2), gpuNode('b', 2)];
  const ok = placeGang({ name: 'g', spec: { minMember: 4 }, pending: pods, bound: [], nodes: roomy });
  assert.equal(ok.ok, true);
  if (ok.ok) {
    assert.equal(ok.bindings.length, 4);
    const perNode = new Map<string, number>();
    for (const b of ok.bindings) perNode.set(b.node, (perNode.get(b.node) ?? 0) + 1);
    assert.deepEqual([...perNode.values()].sort(), [2, 2], 'never more GPUs than allocatable');
  }
});

test('gang binds extra members beyond minMember when they fit, and counts already bound members', () => {
  const nodes = [gpuNode('a', 8)];
  const bound = [{ pod: gpuPod('w-0'), node: 'a' }];
  const r = placeGang({ name: 'g', spec: { minMember: 2 }, pending: [gpuPod('w-1'), gpuPod('w-2')], bound, nodes });
  assert.equal(r.ok && r.bindings.length, 2);
});

test('gang waits for its members to exist (NotEnoughTasks)', () => {
  const r = placeGang({
    name: 'g',
    spec: { minMember: 3 },
    pending: [gpuPod('a')],
    bound: [],
    nodes: [gpuNode('a', 8)],
  });
  assert.deepEqual(r, {
    ok: false,
    reason: 'NotEnoughTasks',
    message: 'pod group is not ready, 1 Pending, 3 minAvailable',
  });
});

test('minTaskMember: every task must reach its minimum', () => {
  const pods = [gpuPod('p-0', 1, 'prefill-0'), gpuPod('d-0', 4, 'decode-0')];
  const spec = { minMember: 1, minTaskMember: { 'prefill-0': 1, 'decode-0': 1 } };
  const r = placeGang({ name: 'g', spec, pending: pods, bound: [], nodes: [gpuNode('a', 2)] });
  assert.equal(r.ok, false, 'decode does not fit, so nothing is bound even though minMember=1 is met');
  const missing = placeGang({ name: 'g', spec, pending: [pods[0]], bound: [], nodes: [gpuNode('a', 8)] });
  assert.equal(missing.ok, false);
  if (!missing.ok) assert.match(missing.message, /decode-0: 0\/1/);
  const fits = placeGang({ name: 'g', spec, pending: pods, bound: [], nodes: [gpuNode('a', 8)] });
  assert.equal(fits.ok && fits.bindings.length, 2);
});

const rack = (name: string, tier: number, members: NonNullable<HyperNode['spec']>['members']): HyperNode => ({
  metadata: { name },
  spec: { tier, members },
});
const topology: HyperNode[] = [
  rack('s0', 1, [
    { type: 'Node', selector: { exactMatch: { name: 'n0' } } },
    { type: 'Node', selector: { exactMatch: { name: 'n1' } } },
  ]),
  rack('s1', 1, [{ type: 'Node', selector: { regexMatch: { pattern: '^n[23]$' } } }]),
  rack('spine', 2, [{ type: 'HyperNode', selector: { regexMatch: { pattern: '^s' } } }]),
];
const four = () => [gpuNode('n0', 2), gpuNode('n1', 2), gpuNode('n2', 2), gpuNode('n3', 2, {}, 1)];

test('hard topology: all members inside one tier-1 HyperNode or none', () => {
  const pods = ['a', 'b', 'c', 'd'].map((n) => gpuPod(n));
  const spec = { minMember: 4, networkTopology: { mode: 'hard' as const, highestTierAllowed: 1 } };
  const r = placeGang({ name: 'g', spec, pending: pods, bound: [], nodes: four(), hyperNodes: topology });
  assert.equal(r.ok, true);
  if (r.ok) {
    assert.equal(r.hyperNode, 's0');
    assert.deepEqual(new Set(r.bindings.map((b) => b.node)), new Set(['n0', 'n1']));
  }
  const five = [...pods, gpuPod('e')];
  const no = placeGang({
    name: 'g',
    spec: { ...spec, minMember: 5 },
    pending: five,
    bound: [],
    nodes: four(),
    hyperNodes: topology,
  });
  assert.equal(no.ok, false);
  if (!no.ok) assert.equal(no.reason, 'NetworkTopology');
  const tier2 = placeGang({
    name: 'g',
    spec: { minMember: 5, networkTopology: { mode: 'hard', highestTierAllowed: 2 } },
    pending: five,
    bound: [],
    nodes: four(),
    hyperNodes: topology,
  });
  assert.equal(tier2.ok && tier2.hyperNode, 'spine');
});

test('hard topology keeps new members with the already bound ones', () => {
  const spec = { minMember: 1, networkTopology: { mode: 'hard' as const, highestTierAllowed: 1 } };
  const r = placeGang({
    name: 'g',
    spec,
    pending: [gpuPod('b')],
    bound: [{ pod: gpuPod('a'), node: 'n2' }],
    nodes: four(),
    hyperNodes: topology,
  });
  assert.equal(r.ok && r.hyperNode, 's1');
  if (r.ok) assert.ok(['n2', 'n3'].includes(r.bindings[0].node));
});

test('highestTierName resolves through tierName; unknown name fails in hard mode', () => {
  const named = topology.map((h) => ({ ...h, spec: { ...h.spec, tierName: h.spec?.tier === 1 ? 'leaf' : 'spine' } }));
  const spec = { minMember: 4, networkTopology: { mode: 'hard' as const, highestTierName: 'leaf' } };
  const r = placeGang({
    name: 'g',
    spec,
    pending: ['a', 'b', 'c', 'd'].map((n) => gpuPod(n)),
    bound: [],
    nodes: four(),
    hyperNodes: named,
  });
  assert.equal(r.ok && r.hyperNode, 's0');
  const bad = placeGang({
    name: 'g',
    spec: { minMember: 1, networkTopology: { highestTierName: 'nope' } },
    pending: [gpuPod('a')],
    bound: [],
    nodes: four(),
    hyperNodes: named,
  });
  assert.equal(bad.ok, false);
});

test('soft topology prefers one HyperNode but falls back to anywhere', () => {
  const pods = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((n) => gpuPod(n));
  const spec = { minMember: 8, networkTopology: { mode: 'soft' as const, highestTierAllowed: 1 } };
  const nodes = [...four(), gpuNode('lonely', 2)];
  const r = placeGang({ name: 'g', spec, pending: pods, bound: [], nodes, hyperNodes: topology });
  assert.equal(r.ok, true);
  if (r.ok) assert.equal(r.hyperNode, undefined);
});

test('hard topology with no HyperNodes at all schedules nothing', () => {
  const r = placeGang({
    name: 'g',
    spec: { minMember: 1, networkTopology: { mode: 'hard', highestTierAllowed: 1 } },
    pending: [gpuPod('a')],
    bound: [],
    nodes: four(),
    hyperNodes: [],
  });
  assert.equal(r.ok, false);
});

test('enqueue admits a group once its minResources fit into free capacity', () => {
  assert.deepEqual(canEnqueue({ minResources: { 'nvidia.com/gpu': '4' } }, [gpuNode('a', 2), gpuNode('b', 2, {}, 1)]), {
    ok: false,
    short: ['nvidia.com/gpu'],
  });
  assert.equal(canEnqueue({ minResources: { 'nvidia.com/gpu': '4' } }, [gpuNode('a', 2), gpuNode('b', 2)]).ok, true);
  assert.equal(canEnqueue({}, []).ok, true);
  assert.equal(
    canEnqueue({ minResources: { 'nvidia.com/gpu': '1' } }, [{ ...gpuNode('a', 8), unschedulable: true }]).ok,
    false,
  );
});
