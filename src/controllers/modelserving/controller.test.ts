import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { BY_MODELSERVING, ModelServingController, modelServingIndex, RBAC_RULES, REFS } from './controller.js';
import { FakeApiError, FakeClient, FakeInformer, FakeQueue } from './fakes.js';
import type { ObjectLike } from './io.js';
import { modelServing, mut, role } from './testkit.js';
import type { ModelServing } from './types.js';

function harness(opts: { podGroups?: boolean } = {}) {
  const client = new FakeClient();
  const idx = { [BY_MODELSERVING]: modelServingIndex };
  const stores = {
    modelServings: new FakeInformer<ModelServing>(),
    pods: new FakeInformer<Pod>(idx),
    services: new FakeInformer<ObjectLike>(idx),
    controllerRevisions: new FakeInformer<ObjectLike>(idx),
    podGroups: opts.podGroups ? new FakeInformer<ObjectLike>(idx) : undefined,
  };
  client.stores.set('modelservings', stores.modelServings as unknown as FakeInformer<ObjectLike>);
  client.stores.set('pods', stores.pods as unknown as FakeInformer<ObjectLike>);
  client.stores.set('services', stores.services);
  client.stores.set('controllerrevisions', stores.controllerRevisions);
  if (stores.podGroups) client.stores.set('podgroups', stores.podGroups);
  const queue = new FakeQueue();
  let now = Date.parse('2026-01-01T00:00:00Z');
  const ctrl = new ModelServingController({
    client,
    modelServings: stores.modelServings,
    pods: stores.pods,
    services: stores.services as never,
    controllerRevisions: stores.controllerRevisions as never,
    podGroups: stores.podGroups as never,
    queue,
    now: () => now,
  });
  const drain = async () => {
    let n = 0;
    for (let k = queue.next(); k !== undefined; k = queue.next()) {
      try {
        await ctrl.reconcile(k);
      } catch {
        queue.addRateLimited(k);
      }
      if (++n > 500) throw new Error('queue never drains');
    }
    return n;
  };
  const readyAll = () => {
    for (const p of stores.pods.list()) {
      if (p.status?.phase === 'Running') continue;
      stores.pods.upsert({
        ...p,
        status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] },
      });
    }
  };
  const add = async (ms: ModelServing) => {
    await client.create(REFS.modelServings, ms, { namespace: 'default' });
  };
  return { client, stores, queue, ctrl, drain, readyAll, add, tick: (ms: number) => (now += ms) };
}

test('a ModelServing converges through the shell: pods, services, revision, status', async () => {
  const h = harness();
  await h.add(modelServing('llm', 2, [role('prefill', 1, 1), role('decode', 1, 0)]));
  await h.drain();
  assert.equal(h.stores.pods.list().length, 6);
  assert.equal(h.stores.services.list().length, 2);
  assert.equal(h.stores.controllerRevisions.list().length, 1);
  h.readyAll();
  await h.drain();
  const ms = h.stores.modelServings.get('default', 'llm')!;
  assert.equal(ms.status?.availableReplicas, 2);
  assert.equal(ms.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
  // idle: a resync causes no writes at all
  const before = h.client.calls.length;
  h.queue.add('default/llm');
  await h.drain();
  assert.deepEqual(h.client.calls.slice(before), []);
});

test('owner UID is the one the server assigned; defaults are applied before planning', async () => {
  const h = harness();
  const ms = modelServing('llm', 1, [role('decode', 1, 0)]);
  mut(ms.metadata).uid = undefined;
  delete ms.spec.replicas;
  delete ms.spec.schedulerName;
  await h.add(ms);
  await h.drain();
  const stored = h.stores.modelServings.get('default', 'llm')!;
  const pod = h.stores.pods.list()[0];
  assert.equal(pod.metadata?.ownerReferences?.[0].uid, stored.metadata.uid);
  assert.equal(pod.spec?.schedulerName, 'volcano', 'schedulerName defaulted');
});

test('a stale cache is not acted on: expectations hold the next reconcile back', async () => {
  const h = harness();
  await h.add(modelServing('llm', 1, [role('prefill', 1, 1)]));
  const key = h.queue.next()!;
  // pods are created, but pretend the watch has not delivered them yet
  const created: Pod[] = [];
  const realUpsert = h.stores.pods.upsert.bind(h.stores.pods);
  h.stores.pods.upsert = (p: Pod) => void created.push(p);
  await h.ctrl.reconcile(key);
  assert.equal(created.length, 2);
  assert.equal(await h.ctrl.reconcile(key), 'skipped');
  assert.equal(h.client.calls.filter((c) => c.startsWith('create pods')).length, 2, 'no duplicate creates');
  h.stores.pods.upsert = realUpsert;
  for (const p of created) realUpsert(p);
  assert.notEqual(await h.ctrl.reconcile(key), 'skipped');
});

test('a pod deleted by someone else triggers RoleRecreate; our own deletions do not', async () => {
  const h = harness();
  await h.add(modelServing('llm', 1, [role('prefill', 1, 2), role('decode', 1, 0)]));
  await h.drain();
  h.readyAll();
  await h.drain();
  const uids = new Map(h.stores.pods.list().map((p) => [p.metadata!.name!, p.metadata!.uid]));
  await h.client.delete(REFS.pods, 'llm-0-prefill-0-1', 'default');
  await h.drain();
  h.readyAll();
  await h.drain();
  for (const p of h.stores.pods.list()) {
    const same = p.metadata!.uid === uids.get(p.metadata!.name!);
    assert.equal(same, p.metadata!.name!.includes('decode'), p.metadata!.name);
  }
  // scale down of a role (our deletions) is not mistaken for a failure
  const ms = structuredClone(h.stores.modelServings.get('default', 'llm')!);
  ms.spec.template.roles[1].replicas = 2;
  mut(ms.metadata).generation = 2;
  await h.client.replace(REFS.modelServings, ms);
  await h.drain();
  h.readyAll();
  await h.drain();
  const ms2 = structuredClone(h.stores.modelServings.get('default', 'llm')!);
  ms2.spec.template.roles[1].replicas = 1;
  mut(ms2.metadata).generation = 3;
  const prefillUids = h.stores.pods
    .list()
    .filter((p) => p.metadata!.name!.includes('prefill'))
    .map((p) => p.metadata!.uid);
  await h.client.replace(REFS.modelServings, ms2);
  await h.drain();
  assert.deepEqual(
    h.stores.pods
      .list()
      .filter((p) => p.metadata!.name!.includes('prefill'))
      .map((p) => p.metadata!.uid),
    prefillUids,
  );
  assert.equal(h.stores.pods.list().filter((p) => p.metadata!.name!.includes('decode')).length, 1);
});

test('a ModelServing whose writes fail never takes the others down', async () => {
  const h = harness();
  h.client.failWith = (verb, plural, obj) =>
    verb === 'create' && plural === 'pods' && obj?.metadata?.name?.startsWith('bad-')
      ? new FakeApiError(500, 'InternalError')
      : undefined;
  await h.add(modelServing('bad', 1, [role('decode', 1, 0)]));
  await h.add(modelServing('good', 1, [role('decode', 1, 0)]));
  await h.drain();
  assert.ok(h.queue.rateLimited.includes('default/bad'));
  assert.equal(h.stores.pods.list().filter((p) => p.metadata!.name!.startsWith('good-')).length, 1);
  h.client.failWith = undefined;
  h.queue.add('default/bad');
  await h.drain();
  assert.equal(h.stores.pods.list().filter((p) => p.metadata!.name!.startsWith('bad-')).length, 1);
});

test('workers: a planner crash on one object is isolated and the loop keeps serving', async () => {
  const h = harness();
  // a ModelServing with no template at all makes the planner throw
  await h.client.create(
    REFS.modelServings,
    { metadata: { name: 'broken', namespace: 'default' }, spec: {} },
    { namespace: 'default' },
  );
  await h.add(modelServing('fine', 1, [role('decode', 1, 0)]));
  const ac = new AbortController();
  const running = h.ctrl.run(ac.signal);
  for (let i = 0; i < 50 && h.stores.pods.list().length === 0; i++) await new Promise((r) => setImmediate(r));
  assert.equal(h.stores.pods.list().length, 1);
  assert.ok(h.queue.rateLimited.includes('default/broken'));
  ac.abort();
  await running;
});

test('recovery policy None: a deleted pod is recreated by the shell without waiting for other events', async () => {
  const h = harness();
  const ms = modelServing('llm', 1, [role('prefill', 1, 1)]);
  ms.spec.recoveryPolicy = 'None';
  await h.add(ms);
  await h.drain();
  h.readyAll();
  await h.drain();
  const entryUid = h.stores.pods.get('default', 'llm-0-prefill-0-0')!.metadata!.uid;
  await h.client.delete(REFS.pods, 'llm-0-prefill-0-1', 'default');
  await h.drain();
  assert.ok(h.stores.pods.get('default', 'llm-0-prefill-0-1'));
  assert.equal(h.stores.pods.get('default', 'llm-0-prefill-0-0')!.metadata!.uid, entryUid);
});

test('grace periods requeue after the remaining time', async () => {
  const h = harness();
  const ms = modelServing('llm', 1, [role('decode', 1, 0)]);
  ms.spec.template.restartGracePeriodSeconds = 20;
  await h.add(ms);
  await h.drain();
  const p = h.stores.pods.get('default', 'llm-0-decode-0-0')!;
  h.stores.pods.upsert({
    ...p,
    status: {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'False', lastTransitionTime: '2026-01-01T00:00:00Z' }],
      containerStatuses: [{ name: 'c', ready: false, restartCount: 2, image: 'x', imageID: 'x' }],
    },
  });
  h.tick(5000);
  h.queue.delayed = [];
  await h.drain();
  assert.deepEqual(h.queue.delayed.at(-1), { key: 'default/llm', ms: 15_000 });
  assert.ok(h.stores.pods.get('default', 'llm-0-decode-0-0'), 'not deleted inside the grace period');
});

test('PodGroups are created and kept when the CRD is served', async () => {
  const h = harness({ podGroups: true });
  await h.add(modelServing('llm', 2, [role('decode', 2, 0)]));
  await h.drain();
  assert.deepEqual(
    h.stores
      .podGroups!.list()
      .map((p) => p.metadata!.name)
      .sort(),
    ['llm-0', 'llm-1'],
  );
  await h.client.delete(REFS.podGroups, 'llm-1', 'default');
  await h.drain();
  assert.ok(h.stores.podGroups!.get('default', 'llm-1'), 'recreated after deletion');
});

test('every API call the controller makes is covered by RBAC_RULES', async () => {
  const h = harness({ podGroups: true });
  const ms = modelServing('llm', 2, [role('prefill', 1, 1), role('decode', 2, 0)]);
  await h.add(ms);
  await h.drain();
  h.readyAll();
  await h.drain();
  await h.client.delete(REFS.pods, 'llm-0-prefill-0-0', 'default');
  const cur = structuredClone(h.stores.modelServings.get('default', 'llm')!);
  cur.spec.replicas = 1;
  cur.spec.template.roles[1].entryTemplate.spec!.containers[0].image = 'v2';
  mut(cur.metadata).generation = 5;
  await h.client.replace(REFS.modelServings, cur);
  const start = h.client.calls.length;
  for (let i = 0; i < 5; i++) {
    await h.drain();
    h.readyAll();
  }
  const groupOf: Record<string, string> = {
    pods: '',
    services: '',
    events: '',
    controllerrevisions: 'apps',
    podgroups: 'scheduling.volcano.sh',
    modelservings: 'workload.serving.volcano.sh',
  };
  const used = new Set(h.client.calls.slice(start).map((c) => c.split(' ').slice(0, 2).join(' ')));
  assert.ok(used.size >= 8, [...used].join(', '));
  for (const call of used) {
    const [verb, plural] = call.split(' ');
    const [v, sub] = verb.split('/');
    const resource = sub ? `${plural}/${sub}` : plural;
    const ok = RBAC_RULES.some(
      (r) => r.apiGroups.includes(groupOf[plural]) && r.resources.includes(resource) && r.verbs.includes(v),
    );
    assert.ok(ok, `${call} is not allowed by RBAC_RULES`);
  }
});
