import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HASH_LABEL, planDeployment, planReplicaSet, templateHash } from './workloads.js';

const template = { metadata: { labels: { app: 'a' } }, spec: { containers: [{ name: 'c', image: 'i' }] } };
const dep = (replicas: number, t = template, extra: any = {}) => ({
  metadata: { name: 'd', namespace: 'ns', uid: 'dep-uid', generation: 2 },
  spec: { replicas, selector: { matchLabels: { app: 'a' } }, template: t, ...extra },
});
const owned = (uid: string) => [{ apiVersion: 'apps/v1', kind: 'X', name: 'o', uid, controller: true }];

test('the template hash is stable under key order and changes with the template', () => {
  assert.equal(templateHash({ a: 1, b: [1, { c: 2, d: 3 }] }), templateHash({ b: [1, { d: 3, c: 2 }], a: 1 }));
  assert.notEqual(
    templateHash(template),
    templateHash({ ...template, spec: { containers: [{ name: 'c', image: 'j' }] } }),
  );
});

test('a new Deployment gets one owned ReplicaSet with the hash label in its selector and template', () => {
  const plan = planDeployment(dep(3), []);
  assert.equal(plan.actions.length, 1);
  const a = plan.actions[0];
  assert.ok(a.op === 'createReplicaSet');
  const h = templateHash(template);
  assert.equal(a.rs.metadata.name, `d-${h}`);
  assert.equal(a.rs.spec.replicas, 3);
  assert.equal(a.rs.spec.selector.matchLabels[HASH_LABEL], h);
  assert.equal(a.rs.spec.template.metadata.labels[HASH_LABEL], h);
  assert.equal(a.rs.metadata.ownerReferences[0].uid, 'dep-uid');
  assert.equal(plan.status.observedGeneration, 2);
  assert.equal(plan.status.conditions[0].status, 'False');
});

test('a template change makes a new ReplicaSet; the old one goes to zero once the new one is ready', () => {
  const oldRs = {
    metadata: {
      name: 'd-old',
      labels: { [HASH_LABEL]: 'old' },
      ownerReferences: owned('dep-uid'),
      annotations: { 'deployment.kubernetes.io/revision': '1' },
    },
    spec: { replicas: 2 },
    status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 },
  };
  const t2 = { ...template, spec: { containers: [{ name: 'c', image: 'j' }] } };
  const first = planDeployment(dep(2, t2), [oldRs]);
  assert.deepEqual(
    first.actions.map((a) => a.op),
    ['createReplicaSet'],
  );
  const rs = (first.actions[0] as any).rs;
  assert.equal(rs.metadata.annotations['deployment.kubernetes.io/revision'], '2');
  const ready = { ...rs, status: { replicas: 2, readyReplicas: 2, availableReplicas: 2 } };
  const second = planDeployment(dep(2, t2), [oldRs, ready]);
  assert.deepEqual(second.actions, [{ op: 'scaleReplicaSet', name: 'd-old', replicas: 0 }]);
  // Recreate does not wait.
  const recreate = planDeployment(dep(2, t2, { strategy: { type: 'Recreate' } }), [oldRs, { ...rs, status: {} }]);
  assert.deepEqual(recreate.actions, [{ op: 'scaleReplicaSet', name: 'd-old', replicas: 0 }]);
});

test('scaling a Deployment scales its current ReplicaSet', () => {
  const h = templateHash(template);
  const cur = {
    metadata: { name: `d-${h}`, labels: { [HASH_LABEL]: h }, ownerReferences: owned('dep-uid') },
    spec: { replicas: 1 },
  };
  assert.deepEqual(planDeployment(dep(4), [cur]).actions, [{ op: 'scaleReplicaSet', name: `d-${h}`, replicas: 4 }]);
});

test('a ReplicaSet creates missing pods and removes extra ones, unready first', () => {
  const rs = { metadata: { name: 'r', namespace: 'ns', uid: 'rs-uid' }, spec: { replicas: 3, template } };
  const p = (name: string, ready: boolean, extra: any = {}) => ({
    metadata: { name, ownerReferences: owned('rs-uid'), creationTimestamp: '2026-01-01T00:00:00Z', ...extra },
    spec: { nodeName: 'n' },
    status: { phase: 'Running', conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }] },
  });
  const grow = planReplicaSet(rs, [p('a', true), p('gone', true, { deletionTimestamp: 'x' })]);
  assert.equal(grow.create.length, 2);
  assert.equal(grow.create[0].metadata.ownerReferences[0].uid, 'rs-uid');
  assert.equal(grow.create[0].metadata.generateName, 'r-');
  const shrink = planReplicaSet({ ...rs, spec: { ...rs.spec, replicas: 1 } }, [
    p('a', true),
    p('b', false),
    p('c', true),
  ]);
  assert.equal(shrink.deleteNames.length, 2);
  assert.ok(shrink.deleteNames.includes('b'));
  assert.equal(shrink.status.readyReplicas, 2);
});
