import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { planReconcile } from './plan.js';
import { MiniCluster, modelServing, mut, role, setImage } from './testkit.js';
import type { ModelServing } from './types.js';

const REVISION = 'modelserving.volcano.sh/revision';
const GROUP = 'modelserving.volcano.sh/group-name';

function pd(replicas = 1): ModelServing {
  return modelServing('llm', replicas, [role('prefill', 1, 1), role('decode', 1, 0)]);
}

function _runningGroups(_c: MiniCluster, ms: ModelServing): string[] {
  return (ms.status?.servingGroups ?? []).filter((g) => g.phase === 'Running').map((g) => g.name);
}

describe('creation', () => {
  test('a PD ModelServing creates revision, PodGroups, pods entry-first, services', () => {
    const c = new MiniCluster({ podGroupCrd: true });
    const ms = pd(2);
    const plan = c.plan(ms);
    const kinds = plan.actions.map((a) => (a.type === 'createPod' ? `pod:${a.object.metadata?.name}` : a.type));
    assert.deepEqual(kinds, [
      'createPodGroup',
      'createControllerRevision',
      'pod:llm-0-prefill-0-0',
      'pod:llm-0-prefill-0-1',
      'pod:llm-0-decode-0-0',
      'createPodGroup',
      'pod:llm-1-prefill-0-0',
      'pod:llm-1-prefill-0-1',
      'pod:llm-1-decode-0-0',
      'createService',
      'createService',
    ]);
    assert.deepEqual(
      plan.actions
        .filter((a) => a.type === 'createService')
        .map((a) => a.type === 'createService' && a.object.metadata?.name),
      ['llm-0-prefill-0-0', 'llm-1-prefill-0-0'],
    );
    assert.equal(plan.events.filter((e) => e.reason === 'RoleCreating').length, 4);
    assert.equal(plan.status.replicas, 2);
    assert.equal(plan.status.availableReplicas, 0);
    assert.equal(plan.status.conditions?.find((x) => x.type === 'Progressing')?.status, 'True');
  });

  test('converges to Available, then an idle cluster causes no writes', () => {
    const c = new MiniCluster({ podGroupCrd: true });
    const ms = pd(2);
    c.converge(ms);
    assert.equal(ms.status?.availableReplicas, 2);
    assert.equal(ms.status?.updatedReplicas, 2);
    assert.equal(ms.status?.currentReplicas, 2, 'all updated and available, no partition: current = updated');
    assert.equal(ms.status?.currentRevision, ms.status?.updateRevision);
    const avail = ms.status?.conditions?.find((x) => x.type === 'Available');
    assert.equal(avail?.status, 'True');
    assert.equal(avail?.reason, 'AllGroupsReady');
    assert.equal(ms.status?.conditions?.find((x) => x.type === 'Progressing')?.status, 'False');
    const writes = c.writes;
    for (let i = 0; i < 5; i++) {
      c.now += 60_000;
      const plan = c.step(ms);
      assert.deepEqual(plan.actions, []);
      assert.equal(plan.requeueAfterMs, undefined);
    }
    assert.equal(c.writes, writes, 'no writes when nothing changes');
  });

  test('RoleRunning events are emitted once per transition', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    c.step(ms);
    c.readyAll();
    const plan = c.step(ms);
    assert.deepEqual(
      plan.events.filter((e) => e.reason === 'RoleRunning').map((e) => e.message),
      ['Role llm-0/decode-0 is running', 'Role llm-0/prefill-0 is running'],
    );
    assert.equal(c.step(ms).events.length, 0);
  });

  test('a pod name held by another owner is not touched and the reconcile is retried', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    c.pods.set('llm-0-decode-0-0', {
      metadata: {
        name: 'llm-0-decode-0-0',
        labels: { 'modelserving.volcano.sh/name': 'llm' },
        ownerReferences: [{ apiVersion: 'v', kind: 'ModelServing', name: 'llm', uid: 'old', controller: true }],
      },
    });
    const plan = c.plan(ms);
    assert.ok(!plan.actions.some((a) => a.type === 'createPod' && a.object.metadata?.name === 'llm-0-decode-0-0'));
    assert.ok(!plan.actions.some((a) => a.type === 'deletePod'), 'never deletes what it does not own');
    assert.equal(plan.requeueAfterMs, 1000);
  });
});

describe('scaling', () => {
  test('scale 1→3→1 fills ordinals ascending and removes the highest', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    c.converge(ms);
    ms.spec.replicas = 3;
    c.converge(ms);
    assert.deepEqual(c.groupsOf(), ['llm-0', 'llm-1', 'llm-2']);
    assert.equal(ms.status?.availableReplicas, 3);
    ms.spec.replicas = 1;
    c.converge(ms);
    assert.deepEqual(c.groupsOf(), ['llm-0']);
    assert.deepEqual([...c.services.keys()], ['llm-0-prefill-0-0'], 'services of removed groups are gone');
    assert.equal(ms.status?.replicas, 1);
  });

  test('scale-down deletes not-ready groups first, then the lowest deletion cost, then the highest ordinal', () => {
    const c = new MiniCluster();
    const ms = pd(4);
    c.converge(ms);
    c.pods.get('llm-1-prefill-0-0')!.metadata!.annotations = { 'controller.kubernetes.io/pod-deletion-cost': '100' };
    c.pods.get('llm-3-decode-0-0')!.metadata!.annotations = { 'controller.kubernetes.io/pod-deletion-cost': '50' };
    c.pods.get('llm-0-prefill-0-0')!.metadata!.annotations = { 'controller.kubernetes.io/pod-deletion-cost': 'junk' };
    c.setReady('llm-1-decode-0-0', false);
    // llm-1 is not ready: it goes first despite its cost; then cost 0 groups (llm-0, llm-2) by ordinal desc.
    ms.spec.replicas = 2;
    const plan = c.step(ms);
    const deletedGroups = new Set(
      plan.actions.flatMap((a) => (a.type === 'deletePod' ? [a.name.split('-').slice(0, 2).join('-')] : [])),
    );
    assert.deepEqual([...deletedGroups].sort(), ['llm-1', 'llm-2']);
  });

  test('partition-protected groups are removed last on scale-down', () => {
    const c = new MiniCluster();
    const ms = pd(4);
    ms.spec.rolloutStrategy = { rollingUpdateConfiguration: { partition: 3 } };
    c.converge(ms);
    c.pods.get('llm-3-prefill-0-0')!.metadata!.annotations = { 'controller.kubernetes.io/pod-deletion-cost': '1000' };
    ms.spec.replicas = 3;
    c.converge(ms);
    assert.deepEqual(c.groupsOf(), ['llm-0', 'llm-1', 'llm-2']);
    ms.spec.replicas = 1;
    c.converge(ms);
    assert.deepEqual(c.groupsOf(), ['llm-0'], 'among protected ones: highest ordinal first');
  });

  test('role scale up and down inside every group', () => {
    const c = new MiniCluster();
    const ms = pd(2);
    c.converge(ms);
    ms.spec.template.roles[1].replicas = 3;
    c.converge(ms);
    assert.deepEqual(
      c.podNames().filter((n) => n.includes('decode')),
      [
        'llm-0-decode-0-0',
        'llm-0-decode-1-0',
        'llm-0-decode-2-0',
        'llm-1-decode-0-0',
        'llm-1-decode-1-0',
        'llm-1-decode-2-0',
      ],
    );
    c.setReady('llm-0-decode-0-0', false);
    ms.spec.template.roles[1].replicas = 2;
    c.step(ms);
    c.finishDeletions();
    assert.deepEqual(
      c.podNames().filter((n) => n.includes('decode')),
      ['llm-0-decode-1-0', 'llm-0-decode-2-0', 'llm-1-decode-0-0', 'llm-1-decode-1-0'],
      'not-ready instance first in llm-0, highest ordinal in llm-1',
    );
    c.converge(ms);
    assert.equal(ms.status?.availableReplicas, 2);
  });

  test('groups being deleted keep their ordinal until gone', () => {
    const c = new MiniCluster({ gracefulDelete: true });
    const ms = pd(2);
    c.converge(ms);
    ms.spec.replicas = 1;
    c.step(ms);
    ms.spec.replicas = 2;
    const plan = c.step(ms);
    assert.ok(!plan.actions.some((a) => a.type === 'createPod'), 'llm-1 is still terminating');
    assert.equal(plan.status.replicas, 2);
    c.finishDeletions();
    c.converge(ms);
    assert.deepEqual(c.groupsOf(), ['llm-0', 'llm-1']);
  });
});

describe('rolling update', () => {
  test('ServingGroupRollingUpdate: highest ordinal first, never below the floor', () => {
    const c = new MiniCluster();
    const ms = pd(4);
    c.converge(ms);
    const oldRev = ms.status!.updateRevision;
    setImage(ms, 'decode', 'engine:v2');
    const order: string[] = [];
    for (let i = 0; i < 40; i++) {
      const plan = c.step(ms);
      for (const a of plan.actions)
        if (a.type === 'deletePod' && a.name.endsWith('decode-0-0'))
          order.push(a.name.split('-').slice(0, 2).join('-'));
      c.finishDeletions();
      // pods of the new revision become ready one step later, so unavailability is observable
      const running = [
        ...new Set(
          [...c.pods.values()].filter((p) => p.status?.phase === 'Running').map((p) => p.metadata!.labels![GROUP]),
        ),
      ];
      assert.ok(running.length >= 3 || i === 0, `step ${i}: only ${running.length} groups with running pods`);
      c.readyAll();
      if (plan.actions.length === 0 && ms.status?.updatedReplicas === 4 && ms.status.availableReplicas === 4) break;
    }
    assert.deepEqual(order, ['llm-3', 'llm-2', 'llm-1', 'llm-0']);
    assert.ok([...c.pods.values()].every((p) => p.metadata!.labels![REVISION] !== oldRev));
    assert.equal(ms.status?.currentRevision, ms.status?.updateRevision);
    assert.equal(ms.status?.conditions?.find((x) => x.type === 'Available')?.status, 'True');
  });

  test('availability never drops below replicas − maxUnavailable at any observed state', () => {
    for (const maxUnavailable of [1, 2, '50%']) {
      const c = new MiniCluster();
      const ms = pd(4);
      ms.spec.rolloutStrategy = { type: 'ServingGroupRollingUpdate', rollingUpdateConfiguration: { maxUnavailable } };
      c.converge(ms);
      setImage(ms, 'prefill', 'engine:v2');
      const floor = 4 - (maxUnavailable === '50%' ? 2 : (maxUnavailable as number));
      for (let i = 0; i < 40; i++) {
        const plan = c.step(ms);
        c.finishDeletions();
        assert.ok((ms.status?.availableReplicas ?? 0) >= floor, `maxUnavailable ${maxUnavailable} step ${i}`);
        // make only one new group ready per step
        const notReady = [...c.pods.values()].filter((p) => p.status?.phase !== 'Running');
        const g = notReady[0]?.metadata?.labels?.[GROUP];
        c.readyAll((p) => p.metadata?.labels?.[GROUP] === g);
        if (plan.actions.length === 0 && ms.status?.updatedReplicas === 4 && ms.status.availableReplicas === 4) break;
      }
      assert.equal(ms.status?.updatedReplicas, 4);
    }
  });

  test('a bad new revision stalls after maxUnavailable groups; the rest keep running', () => {
    const c = new MiniCluster();
    const ms = pd(4);
    c.converge(ms);
    const oldRev = ms.status!.updateRevision;
    setImage(ms, 'decode', 'engine:broken');
    for (let i = 0; i < 10; i++) {
      c.step(ms);
      c.finishDeletions();
      c.readyAll((p) => p.metadata?.labels?.[REVISION] === oldRev); // new pods never become ready
    }
    assert.equal(ms.status?.availableReplicas, 3);
    assert.equal(ms.status?.updatedReplicas, 1);
    assert.equal(ms.status?.conditions?.find((x) => x.type === 'UpdateInProgress')?.status, 'True');
    assert.match(
      ms.status?.conditions?.find((x) => x.type === 'UpdateInProgress')?.message ?? '',
      /Some groups is progressing: \[3\]/,
    );
  });

  test('partition protects the first groups; a deleted protected group comes back with the old revision', () => {
    const c = new MiniCluster();
    const ms = pd(4);
    ms.spec.rolloutStrategy = { rollingUpdateConfiguration: { partition: 2 } };
    c.converge(ms);
    const oldRev = ms.status!.updateRevision!;
    setImage(ms, 'decode', 'engine:v2');
    c.converge(ms);
    const revOf = (g: string) => c.pods.get(`${g}-decode-0-0`)!.metadata!.labels![REVISION];
    assert.equal(revOf('llm-0'), oldRev);
    assert.equal(revOf('llm-1'), oldRev);
    assert.notEqual(revOf('llm-2'), oldRev);
    assert.notEqual(revOf('llm-3'), oldRev);
    assert.equal(ms.status?.currentRevision, oldRev);
    assert.equal(ms.status?.updatedReplicas, 2);
    assert.equal(ms.status?.currentReplicas, 2);
    // a protected group is lost entirely: rebuilt from the ControllerRevision with the old template
    for (const n of c.podNames().filter((x) => x.startsWith('llm-1-'))) c.pods.delete(n);
    c.converge(ms);
    assert.equal(revOf('llm-1'), oldRev);
    assert.equal(c.pods.get('llm-1-decode-0-0')!.spec!.containers[0].image, 'engine:v1');
    // scale up with the partition active: new groups get the update revision
    ms.spec.replicas = 5;
    c.converge(ms);
    assert.notEqual(revOf('llm-4'), oldRev);
    // lifting the partition finishes the rollout
    ms.spec.rolloutStrategy = {};
    c.converge(ms);
    assert.equal(ms.status?.updatedReplicas, 5);
    assert.equal(c.revisions.size, 2, 'old revision kept as history');
  });

  test('RoleRollingUpdate replaces only the changed role, within the role maxUnavailable', () => {
    const c = new MiniCluster();
    const ms = modelServing(
      'llm',
      1,
      [role('prefill', 2, 1), role('decode', 4, 0, 'engine:v1', { maxUnavailable: 2 })],
      {
        rolloutStrategy: { type: 'RoleRollingUpdate' },
      },
    );
    c.converge(ms);
    const prefillUids = ['llm-0-prefill-0-0', 'llm-0-prefill-1-1'].map((n) => c.pods.get(n)!.metadata!.uid);
    setImage(ms, 'decode', 'engine:v2');
    const first = c.step(ms);
    const deleted = first.actions.filter((a) => a.type === 'deletePod').map((a) => a.type === 'deletePod' && a.name);
    assert.deepEqual(deleted, ['llm-0-decode-3-0', 'llm-0-decode-2-0']);
    c.finishDeletions();
    c.converge(ms);
    assert.deepEqual(
      ['llm-0-prefill-0-0', 'llm-0-prefill-1-1'].map((n) => c.pods.get(n)!.metadata!.uid),
      prefillUids,
      'prefill pods untouched',
    );
    assert.ok(
      c
        .podNames()
        .filter((n) => n.includes('decode'))
        .every((n) => c.pods.get(n)!.spec!.containers[0].image === 'engine:v2'),
    );
    assert.equal(ms.status?.updatedReplicas, 1, 'the group counts as updated although prefill kept its pods');
    assert.equal(ms.status?.currentRevision, ms.status?.updateRevision);
  });

  test('RoleRollingUpdate role partition keeps low ordinals on the old template', () => {
    const c = new MiniCluster();
    const ms = modelServing('llm', 1, [role('decode', 4, 0, 'engine:v1', { partition: 2 })], {
      rolloutStrategy: { type: 'RoleRollingUpdate' },
    });
    c.converge(ms);
    setImage(ms, 'decode', 'engine:v2');
    c.converge(ms);
    const images = c.podNames().map((n) => c.pods.get(n)!.spec!.containers[0].image);
    assert.deepEqual(images, ['engine:v1', 'engine:v1', 'engine:v2', 'engine:v2']);
    // a protected instance that is lost comes back with the historical template
    c.pods.delete('llm-0-decode-0-0');
    c.converge(ms);
    assert.equal(c.pods.get('llm-0-decode-0-0')!.spec!.containers[0].image, 'engine:v1');
  });

  test('cross-role skew bound keeps prefill and decode within the bound', () => {
    const c = new MiniCluster();
    const ms = modelServing(
      'llm',
      1,
      [role('prefill', 4, 0, 'v1', { maxUnavailable: 4 }), role('decode', 4, 0, 'v1', { maxUnavailable: 4 })],
      {
        rolloutStrategy: { type: 'RoleRollingUpdate' },
      },
    );
    ms.metadata.annotations = { 'kthena.io/role-max-skew': '25%' };
    c.converge(ms);
    setImage(ms, 'prefill', 'v2');
    setImage(ms, 'decode', 'v2');
    const updated = (r: string) =>
      c.podNames().filter((n) => n.includes(r) && c.pods.get(n)!.spec!.containers[0].image === 'v2').length;
    let maxSkew = 0;
    for (let i = 0; i < 40; i++) {
      const plan = c.step(ms);
      c.finishDeletions();
      // a replaced instance counts as progress from the moment its deletion is decided
      maxSkew = Math.max(maxSkew, Math.abs(updated('prefill') - updated('decode')));
      // decode pods come up one step later than prefill pods
      c.readyAll((p) => p.metadata!.labels!['modelserving.volcano.sh/role'] === 'prefill');
      if (i % 2 === 1) c.readyAll();
      if (plan.actions.length === 0 && updated('prefill') === 4 && updated('decode') === 4) break;
    }
    assert.equal(updated('prefill'), 4);
    assert.equal(updated('decode'), 4);
    assert.ok(maxSkew <= 2, `skew ${maxSkew} instances of 4 exceeds 25% + the step in flight`);
  });

  test('without a skew bound the same update moves prefill all at once', () => {
    const c = new MiniCluster();
    const ms = modelServing(
      'llm',
      1,
      [role('prefill', 4, 0, 'v1', { maxUnavailable: 4 }), role('decode', 4, 0, 'v1', { maxUnavailable: 1 })],
      {
        rolloutStrategy: { type: 'RoleRollingUpdate' },
      },
    );
    c.converge(ms);
    setImage(ms, 'prefill', 'v2');
    setImage(ms, 'decode', 'v2');
    const plan = c.step(ms);
    assert.equal(plan.actions.filter((a) => a.type === 'deletePod' && a.name.includes('prefill')).length, 4);
    assert.equal(plan.actions.filter((a) => a.type === 'deletePod' && a.name.includes('decode')).length, 1);
  });
});

describe('recovery', () => {
  test('RoleRecreate (default): a deleted entry pod takes its role instance down and back', () => {
    const c = new MiniCluster();
    const ms = pd(2);
    c.converge(ms);
    const decodeUid = c.pods.get('llm-0-decode-0-0')!.metadata!.uid;
    const workerUid = c.pods.get('llm-0-prefill-0-1')!.metadata!.uid;
    c.externalDelete('llm-0-prefill-0-0');
    const plan = c.step(ms);
    assert.deepEqual(
      plan.actions.map((a) => `${a.type}:${'name' in a ? a.name : a.object.metadata?.name}`),
      ['deletePod:llm-0-prefill-0-1', 'deleteService:llm-0-prefill-0-0'],
    );
    assert.ok(plan.events.some((e) => e.reason === 'RoleDeleting'));
    c.converge(ms);
    assert.notEqual(c.pods.get('llm-0-prefill-0-1')!.metadata!.uid, workerUid, 'worker recreated');
    assert.equal(c.pods.get('llm-0-decode-0-0')!.metadata!.uid, decodeUid, 'other roles untouched');
    assert.equal(ms.status?.availableReplicas, 2);
    assert.equal(ms.status?.servingGroups?.find((g) => g.name === 'llm-0')?.restarts, 1);
  });

  test('RoleRecreate also applies after a controller restart (a worker left without its entry)', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    c.converge(ms);
    c.pods.delete('llm-0-prefill-0-0'); // no watch event seen: the controller was down
    const plan = c.step(ms);
    assert.ok(plan.actions.some((a) => a.type === 'deletePod' && a.name === 'llm-0-prefill-0-1'));
  });

  test('ServingGroupRecreate: deleting one pod recreates the whole group', () => {
    const c = new MiniCluster({ podGroupCrd: true });
    const ms = pd(2);
    ms.spec.recoveryPolicy = 'ServingGroupRecreate';
    c.converge(ms);
    const uids = new Map([...c.pods].map(([n, p]) => [n, p.metadata!.uid]));
    c.externalDelete('llm-1-decode-0-0');
    const plan = c.step(ms);
    assert.deepEqual(plan.actions.map((a) => a.type).sort(), [
      'deletePod',
      'deletePod',
      'deletePodGroup',
      'deleteService',
    ]);
    c.converge(ms);
    for (const n of c.podNames()) {
      if (n.startsWith('llm-1-')) assert.notEqual(c.pods.get(n)!.metadata!.uid, uids.get(n), n);
      else assert.equal(c.pods.get(n)!.metadata!.uid, uids.get(n), n);
    }
    assert.ok(c.podGroups.has('llm-1'));
  });

  test('None: only the missing pod comes back', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.spec.recoveryPolicy = 'None';
    c.converge(ms);
    const workerUid = c.pods.get('llm-0-prefill-0-1')!.metadata!.uid;
    c.externalDelete('llm-0-prefill-0-0');
    const plan = c.step(ms);
    assert.deepEqual(
      plan.actions.map((a) => (a.type === 'createPod' ? a.object.metadata?.name : a.type)),
      ['llm-0-prefill-0-0'],
    );
    assert.equal(c.pods.get('llm-0-prefill-0-1')!.metadata!.uid, workerUid);
  });

  test('a failed pod waits restartGracePeriodSeconds, then the policy applies', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.spec.template.restartGracePeriodSeconds = 30;
    c.converge(ms);
    c.crash('llm-0-prefill-0-1');
    const early = c.step(ms);
    assert.deepEqual(early.actions, []);
    assert.equal(early.requeueAfterMs, 30_000);
    const inst = ms.status?.servingGroups?.[0].roles.find((r) => r.name === 'prefill-0');
    assert.equal(inst?.phase, 'Failed');
    assert.match(inst?.reason ?? '', /llm-0-prefill-0-1: restarted 1× \(CrashLoopBackOff\)/);
    c.now += 29_000;
    assert.equal(c.step(ms).requeueAfterMs, 1000);
    c.now += 1000;
    const late = c.step(ms);
    assert.deepEqual(
      late.actions.filter((a) => a.type === 'deletePod').map((a) => a.type === 'deletePod' && a.name),
      ['llm-0-prefill-0-0', 'llm-0-prefill-0-1'],
    );
  });

  test('None deletes just the failed pod', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.spec.recoveryPolicy = 'None';
    c.converge(ms);
    c.crash('llm-0-prefill-0-1');
    const plan = c.step(ms);
    assert.deepEqual(
      plan.actions.map((a) => a.type === 'deletePod' && a.name),
      ['llm-0-prefill-0-1'],
    );
  });

  test('a group that keeps failing is recreated with exponential back-off', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.spec.recoveryPolicy = 'ServingGroupRecreate';
    ms.metadata.annotations = { 'kthena.io/restart-backoff': '10,40' };
    c.converge(ms);
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) {
      c.crash('llm-0-decode-0-0');
      c.step(ms); // deletes the group
      c.finishDeletions();
      let plan = c.step(ms);
      let waited = 0;
      while (!plan.actions.some((a) => a.type === 'createPod')) {
        assert.ok(plan.requeueAfterMs !== undefined, 'back-off must schedule a retry');
        waited += plan.requeueAfterMs;
        c.now += plan.requeueAfterMs;
        plan = c.step(ms);
      }
      waits.push(waited);
      c.readyAll();
      c.step(ms);
    }
    assert.deepEqual(waits, [0, 10_000, 20_000, 40_000, 40_000]);
    assert.equal(ms.status?.servingGroups?.[0].restarts, 5);
    // a long healthy spell resets the count
    c.now += 10 * 60_000;
    c.step(ms);
    assert.equal(ms.status?.servingGroups?.[0].restarts, undefined);
  });
});

describe('startup ordering', () => {
  test('LeaderReady: workers only after the entry pod is ready', () => {
    const c = new MiniCluster();
    const ms = modelServing('llm', 1, [role('prefill', 1, 2)]);
    ms.metadata.annotations = { 'kthena.io/worker-startup': 'LeaderReady' };
    const first = c.step(ms);
    assert.deepEqual(
      first.actions.filter((a) => a.type === 'createPod').map((a) => a.type === 'createPod' && a.object.metadata?.name),
      ['llm-0-prefill-0-0'],
    );
    assert.deepEqual(c.step(ms).actions, [], 'no worker while the entry is pending; no recovery either');
    c.setReady('llm-0-prefill-0-0');
    const second = c.step(ms);
    assert.deepEqual(
      second.actions.map((a) => a.type === 'createPod' && a.object.metadata?.name),
      ['llm-0-prefill-0-1', 'llm-0-prefill-0-2'],
    );
  });

  test('role startup InOrder: decode starts after prefill is running', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.metadata.annotations = { 'kthena.io/role-startup': 'InOrder' };
    const first = c.step(ms);
    assert.ok(first.actions.every((a) => a.type !== 'createPod' || a.object.metadata?.name?.includes('prefill')));
    c.step(ms);
    assert.ok(!c.podNames().some((n) => n.includes('decode')));
    c.readyAll();
    const next = c.step(ms);
    assert.deepEqual(
      next.actions.filter((a) => a.type === 'createPod').map((a) => a.type === 'createPod' && a.object.metadata?.name),
      ['llm-0-decode-0-0'],
    );
    c.converge(ms);
    assert.equal(ms.status?.availableReplicas, 1);
  });

  test('a malformed option annotation is reported and defaults apply', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.metadata.annotations = { 'kthena.io/worker-startup': 'Sometimes' };
    const plan = c.plan(ms);
    assert.ok(plan.events.some((e) => e.type === 'Warning' && e.reason === 'InvalidAnnotation'));
    assert.equal(plan.actions.filter((a) => a.type === 'createPod').length, 3);
  });
});

describe('revisions, PodGroups and services', () => {
  test('ControllerRevision history is bounded', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    ms.metadata.annotations = { 'kthena.io/revision-history-limit': '2' };
    c.converge(ms);
    for (let v = 2; v <= 6; v++) {
      setImage(ms, 'decode', `engine:v${v}`);
      c.converge(ms);
    }
    assert.equal(c.revisions.size, 3, 'current + 2 old');
    const numbers = [...c.revisions.values()].map((r) => r.revision).sort();
    assert.deepEqual(numbers, [4, 5, 6]);
  });

  test('every template change is a numbered revision with its change-cause; going back renumbers it', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    const cause = (v: string) => {
      ms.metadata.annotations = { 'kubernetes.io/change-cause': v };
    };
    cause('create');
    c.converge(ms);
    cause('image v2');
    setImage(ms, 'decode', 'engine:v2');
    c.converge(ms);
    cause('image v3');
    setImage(ms, 'decode', 'engine:v3');
    c.converge(ms);
    const history = () =>
      [...c.revisions.values()]
        .map((r) => [r.revision, r.metadata?.annotations?.['kubernetes.io/change-cause']])
        .sort((a, b) => Number(a[0]) - Number(b[0]));
    assert.deepEqual(history(), [
      [1, 'create'],
      [2, 'image v2'],
      [3, 'image v3'],
    ]);
    // back to v2's template: no new ControllerRevision, revision 2 becomes number 4
    cause('rollback');
    setImage(ms, 'decode', 'engine:v2');
    const plan = c.step(ms);
    assert.equal(plan.actions.filter((a) => a.type === 'createControllerRevision').length, 0);
    const upd = plan.actions.filter((a) => a.type === 'updateControllerRevision');
    assert.equal(upd.length, 1);
    c.converge(ms);
    assert.deepEqual(history(), [
      [1, 'create'],
      [3, 'image v3'],
      [4, 'rollback'],
    ]);
    assert.equal(c.pods.get('llm-0-decode-0-0')?.spec?.containers[0].image, 'engine:v2');
    // silence afterwards: the renumbered revision is the newest, nothing more to write
    assert.deepEqual(c.plan(ms).actions, []);
  });

  test('a template behind a partition (no pod made from it) is still recorded', () => {
    const c = new MiniCluster();
    const ms = pd(2);
    c.converge(ms);
    ms.spec.rolloutStrategy = { rollingUpdateConfiguration: { partition: 2 } };
    setImage(ms, 'decode', 'engine:v2');
    const plan = c.step(ms);
    assert.equal(plan.actions.filter((a) => a.type === 'createPod').length, 0);
    assert.deepEqual(
      plan.actions.map((a) => a.type === 'createControllerRevision' && a.object.revision),
      [2],
    );
  });

  test('eviction budget: one PodDisruptionBudget per role or per group, kept in step with the spec', () => {
    const c = new MiniCluster();
    const ms = pd(2); // prefill: 1 instance × 2 pods, decode: 1 × 1, per group
    ms.metadata.annotations = { 'kthena.io/eviction-budget': 'role:1' };
    c.converge(ms);
    const view = () =>
      [...c.budgets.values()]
        .map((b) => `${b.metadata?.name} min=${b.spec?.minAvailable} ${JSON.stringify(b.spec?.selector?.matchLabels)}`)
        .sort();
    assert.deepEqual(view(), [
      'llm-decode min=1 {"modelserving.volcano.sh/name":"llm","modelserving.volcano.sh/role":"decode"}',
      'llm-prefill min=3 {"modelserving.volcano.sh/name":"llm","modelserving.volcano.sh/role":"prefill"}',
    ]);
    assert.equal(c.budgets.get('llm-decode')?.metadata?.ownerReferences?.[0].uid, 'uid-llm');
    ms.spec.replicas = 3;
    const plan = c.step(ms);
    assert.deepEqual(
      plan.actions
        .filter((a) => a.type === 'updatePodDisruptionBudget')
        .map((a) => a.type === 'updatePodDisruptionBudget' && a.object.spec?.minAvailable),
      [5, 2],
    );
    c.converge(ms);
    ms.metadata.annotations = { 'kthena.io/eviction-budget': 'group:1' };
    c.converge(ms);
    assert.deepEqual(view(), [
      'llm-0 min=2 {"modelserving.volcano.sh/name":"llm","modelserving.volcano.sh/group-name":"llm-0"}',
      'llm-1 min=2 {"modelserving.volcano.sh/name":"llm","modelserving.volcano.sh/group-name":"llm-1"}',
      'llm-2 min=2 {"modelserving.volcano.sh/name":"llm","modelserving.volcano.sh/group-name":"llm-2"}',
    ]);
    ms.spec.replicas = 1;
    c.converge(ms);
    assert.deepEqual([...c.budgets.keys()], ['llm-0']);
    assert.deepEqual(c.plan(ms).actions, [], 'silent once in step');
    ms.metadata.annotations = {};
    c.converge(ms);
    assert.equal(c.budgets.size, 0, 'no annotation, no budgets');
    // a budget edited by hand is put back
    ms.metadata.annotations = { 'kthena.io/eviction-budget': 'group:0' };
    c.converge(ms);
    c.budgets.get('llm-0')!.spec = { maxUnavailable: 5, selector: {} };
    const fix = c.step(ms);
    assert.equal(fix.actions[0]?.type, 'updatePodDisruptionBudget');
    assert.deepEqual(c.budgets.get('llm-0')?.spec?.minAvailable, 3);
  });

  test('PodGroup spec follows role replicas; PodGroups go away when volcano is no longer used', () => {
    const c = new MiniCluster({ podGroupCrd: true });
    const ms = pd(2);
    c.converge(ms);
    assert.equal(c.podGroups.get('llm-0')!.spec.minMember, 3);
    ms.spec.template.roles[1].replicas = 2;
    const plan = c.step(ms);
    assert.equal(plan.actions.filter((a) => a.type === 'updatePodGroup').length, 2);
    c.converge(ms);
    assert.equal(c.podGroups.get('llm-1')!.spec.minMember, 4);
    ms.spec.schedulerName = 'default-scheduler';
    c.step(ms);
    assert.equal(c.podGroups.size, 0);
  });

  test('a deleted headless service is recreated; leftover services are removed', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    c.converge(ms);
    c.services.delete('llm-0-prefill-0-0');
    c.services.set('llm-7-prefill-0-0', {
      metadata: {
        name: 'llm-7-prefill-0-0',
        labels: { 'modelserving.volcano.sh/name': 'llm', 'modelserving.volcano.sh/group-name': 'llm-7' },
        ownerReferences: [{ apiVersion: 'x', kind: 'ModelServing', name: 'llm', uid: 'uid-llm', controller: true }],
      },
    });
    const plan = c.step(ms);
    assert.deepEqual(plan.actions.map((a) => a.type).sort(), ['createService', 'deleteService']);
    assert.equal(ms.status?.availableReplicas, 1, 'still available');
  });
});

describe('status', () => {
  test('empty ModelServing reports revisions and selector', () => {
    const ms = modelServing('m', 0, [role('decode', 1, 0)]);
    const plan = planReconcile({
      ms,
      pods: [],
      services: [],
      podGroups: [],
      controllerRevisions: [],
      podGroupCrdServed: false,
      subGroupPolicySupported: false,
      now: 0,
    });
    // no pods, but the template is still recorded as revision 1 (history is per template, not per pod)
    assert.deepEqual(
      plan.actions.map((a) => a.type === 'createControllerRevision' && a.object.revision),
      [1],
    );
    assert.equal(plan.status.replicas, 0);
    assert.equal(plan.status.currentRevision, plan.updateRevision);
    assert.match(plan.status.labelSelector ?? '', /role-id=decode-0/);
  });

  test('role-level status names the unready pod and why', () => {
    const c = new MiniCluster();
    const ms = pd(1);
    c.step(ms);
    c.setReady('llm-0-prefill-0-0');
    mut(c.pods.get('llm-0-prefill-0-1')).status = {
      phase: 'Pending',
      conditions: [{ type: 'PodScheduled', status: 'False', message: '0/2 nodes have enough nvidia.com/gpu' }],
    };
    c.step(ms);
    const roles = ms.status!.servingGroups![0].roles;
    assert.deepEqual(
      roles.map((r) => [r.name, r.phase, `${r.readyPods}/${r.pods}`]),
      [
        ['decode-0', 'Creating', '0/1'],
        ['prefill-0', 'Creating', '1/2'],
      ],
    );
    assert.equal(roles[1].reason, 'pod llm-0-prefill-0-1: Unschedulable: 0/2 nodes have enough nvidia.com/gpu');
  });
});
