import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import {
  filterNode,
  fitErrorMessage,
  matchesRequirement,
  type NodeInfo,
  nodeAffinityFits,
  tolerates,
  untoleratedTaint,
} from './predicates.js';
import { podRequests } from './resources.js';

const node = (over: Partial<NodeInfo> = {}): NodeInfo => ({
  name: 'n1',
  labels: { zone: 'a', gpus: '8' },
  taints: [],
  unschedulable: false,
  ready: true,
  allocatable: { cpu: 4000, memory: 8 * 2 ** 30, pods: 110, 'nvidia.com/gpu': 2 },
  requested: {},
  ...over,
});
const pod = (spec: Pod['spec'] = { containers: [] }): Pod => ({ metadata: { name: 'p' }, spec });

test('node selector requirement operators', () => {
  const labels = { a: '1', b: 'x', n: '10' };
  assert.equal(matchesRequirement(labels, { key: 'b', operator: 'In', values: ['x', 'y'] }), true);
  assert.equal(matchesRequirement(labels, { key: 'b', operator: 'In', values: ['y'] }), false);
  assert.equal(matchesRequirement(labels, { key: 'missing', operator: 'In', values: ['y'] }), false);
  assert.equal(matchesRequirement(labels, { key: 'b', operator: 'NotIn', values: ['x'] }), false);
  assert.equal(matchesRequirement(labels, { key: 'missing', operator: 'NotIn', values: ['x'] }), true);
  assert.equal(matchesRequirement(labels, { key: 'a', operator: 'Exists' }), true);
  assert.equal(matchesRequirement(labels, { key: 'z', operator: 'Exists' }), false);
  assert.equal(matchesRequirement(labels, { key: 'z', operator: 'DoesNotExist' }), true);
  assert.equal(matchesRequirement(labels, { key: 'a', operator: 'DoesNotExist' }), false);
  assert.equal(matchesRequirement(labels, { key: 'n', operator: 'Gt', values: ['9'] }), true);
  assert.equal(matchesRequirement(labels, { key: 'n', operator: 'Gt', values: ['10'] }), false);
  assert.equal(matchesRequirement(labels, { key: 'n', operator: 'Lt', values: ['11'] }), true);
  assert.equal(matchesRequirement(labels, { key: 'b', operator: 'Gt', values: ['1'] }), false, 'non-integer label');
  assert.equal(matchesRequirement(labels, { key: 'missing', operator: 'Lt', values: ['1'] }), false);
  assert.equal(matchesRequirement(labels, { key: 'n', operator: 'Gt', values: ['1', '2'] }), false);
  assert.equal(matchesRequirement(labels, { key: 'a', operator: 'Bogus', values: ['1'] }), false);
});

test('nodeSelector and required affinity: terms ORed, expressions ANDed, empty term matches nothing', () => {
  const n = node();
  assert.equal(nodeAffinityFits(pod({ containers: [], nodeSelector: { zone: 'a' } }), n), true);
  assert.equal(nodeAffinityFits(pod({ containers: [], nodeSelector: { zone: 'b' } }), n), false);
  const affinity = (terms: any[]) =>
    pod({
      containers: [],
      affinity: { nodeAffinity: { requiredDuringSchedulingIgnoredDuringExecution: { nodeSelectorTerms: terms } } },
    });
  assert.equal(
    nodeAffinityFits(
      affinity([
        { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
        {
          matchExpressions: [
            { key: 'zone', operator: 'In', values: ['a'] },
            { key: 'gpus', operator: 'Gt', values: ['4'] },
          ],
        },
      ]),
      n,
    ),
    true,
  );
  assert.equal(
    nodeAffinityFits(
      affinity([
        {
          matchExpressions: [
            { key: 'zone', operator: 'In', values: ['a'] },
            { key: 'gpus', operator: 'Lt', values: ['4'] },
          ],
        },
      ]),
      n,
    ),
    false,
  );
  assert.equal(nodeAffinityFits(affinity([{}]), n), false);
  assert.equal(nodeAffinityFits(affinity([]), n), false);
  assert.equal(
    nodeAffinityFits(affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n1'] }] }]), n),
    true,
  );
  assert.equal(
    nodeAffinityFits(affinity([{ matchFields: [{ key: 'metadata.name', operator: 'In', values: ['n2'] }] }]), n),
    false,
  );
});

test('tolerations match taints by key, value, effect and operator', () => {
  const taint = { key: 'gpu', value: 'a100', effect: 'NoSchedule' as const };
  assert.equal(tolerates({ key: 'gpu', operator: 'Equal', value: 'a100' }, taint), true);
  assert.equal(tolerates({ key: 'gpu', value: 'a100', effect: 'NoSchedule' }, taint), true);
  assert.equal(tolerates({ key: 'gpu', value: 'h100' }, taint), false);
  assert.equal(tolerates({ key: 'gpu', operator: 'Exists' }, taint), true);
  assert.equal(tolerates({ operator: 'Exists' }, taint), true);
  assert.equal(tolerates({ key: 'gpu', operator: 'Exists', effect: 'NoExecute' }, taint), false);
  assert.equal(tolerates({ value: 'a100' }, taint), false);
  const p = pod({ containers: [], tolerations: [{ key: 'gpu', operator: 'Exists' }] });
  assert.equal(untoleratedTaint(p, [taint]), undefined);
  assert.deepEqual(untoleratedTaint(p, [taint, { key: 'x', effect: 'NoExecute' }]), { key: 'x', effect: 'NoExecute' });
  assert.equal(untoleratedTaint(pod(), [{ key: 'x', effect: 'PreferNoSchedule' }]), undefined);
});

test('podRequests: sum of containers, max of init containers, limits as default requests, a pod slot', () => {
  const p = pod({
    initContainers: [{ name: 'i', resources: { requests: { cpu: '3' } } }],
    containers: [
      { name: 'a', resources: { requests: { cpu: '500m', memory: '1Gi' } } },
      { name: 'b', resources: { limits: { 'nvidia.com/gpu': '2', cpu: '1' } } },
    ],
  });
  assert.deepEqual(podRequests(p), { cpu: 3000, memory: 2 ** 30, 'nvidia.com/gpu': 2, pods: 1 });
});

test('filterNode reports the reasons kube-scheduler would', () => {
  const gpuPod = pod({ containers: [{ name: 'c', resources: { requests: { 'nvidia.com/gpu': '3', cpu: '5' } } }] });
  assert.deepEqual(filterNode(gpuPod, podRequests(gpuPod), node()), [
    'Insufficient cpu',
    'Insufficient nvidia.com/gpu',
  ]);
  assert.deepEqual(filterNode(pod(), podRequests(pod()), node({ requested: { pods: 110 } })), ['Too many pods']);
  assert.deepEqual(filterNode(pod(), podRequests(pod()), node({ unschedulable: true })), [
    'node(s) were unschedulable',
  ]);
  assert.deepEqual(
    filterNode(
      pod({ containers: [], tolerations: [{ key: 'node.kubernetes.io/unschedulable', operator: 'Exists' }] }),
      { pods: 1 },
      node({ unschedulable: true }),
    ),
    [],
  );
  assert.match(filterNode(pod(), { pods: 1 }, node({ ready: false }))[0], /not-ready/);
  assert.deepEqual(filterNode(pod(), { pods: 1 }, node({ taints: [{ key: 'k', value: 'v', effect: 'NoSchedule' }] })), [
    'node(s) had untolerated taint {k: v}',
  ]);
  assert.deepEqual(filterNode(pod(), { pods: 1 }, node()), []);
});

test('fit error message lists counted reasons sorted', () => {
  const m = new Map([
    ['Insufficient nvidia.com/gpu', 2],
    ['node(s) were unschedulable', 1],
  ]);
  assert.equal(
    fitErrorMessage(3, m),
    '0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu.',
  );
  assert.equal(fitErrorMessage(0, new Map()), 'no nodes available to schedule pods');
});
