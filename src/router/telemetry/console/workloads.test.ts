import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { KubeClient } from '../../../kube/client.js';
import { WorkloadReader } from './workloads.js';

const ITEMS: Record<string, unknown[]> = {
  modelboosters: [
    { metadata: { name: 'demo', namespace: 'default' }, status: { conditions: [{ type: 'Active', status: 'True' }] } },
  ],
  modelservings: [
    {
      metadata: { name: 'demo-server', namespace: 'default' },
      spec: { replicas: 3, template: { roles: [{ name: 'decode', replicas: 2 }] } },
      status: { availableReplicas: 2, updatedReplicas: 3 },
    },
  ],
};

test('workloads: boosters, servings with roles, policies; a refused list becomes a message; one API read per ttl', async () => {
  let calls = 0;
  const client = {
    async list(ref: { plural: string }) {
      calls++;
      if (ref.plural === 'autoscalingpolicies') throw new Error('forbidden: cannot list autoscalingpolicies');
      return { items: ITEMS[ref.plural] ?? [], metadata: { resourceVersion: '1' } };
    },
  } as unknown as KubeClient;
  let now = 1000;
  const r = new WorkloadReader(client, undefined, 5000, () => now);
  const v = await r.read();
  assert.deepEqual(v.modelBoosters, [
    { key: 'default/demo', conditions: [{ type: 'Active', status: 'True', reason: undefined, message: undefined }] },
  ]);
  assert.deepEqual(v.modelServings[0], {
    key: 'default/demo-server',
    replicas: 3,
    availableReplicas: 2,
    updatedReplicas: 3,
    roles: [{ name: 'decode', replicas: 2 }],
    conditions: [],
  });
  assert.deepEqual(v.autoscalingPolicies, []);
  assert.match(v.errors.AutoscalingPolicy, /forbidden/);
  assert.equal(calls, 3);
  now += 4999;
  await r.read();
  assert.equal(calls, 3, 'cached within the ttl');
  now += 1;
  await r.read();
  assert.equal(calls, 6);
});
