// The controller shell against the scripted API server of src/controllers/modelserving/fakes.ts: writes land in
// the stores, stores emit watch events, the test drives the queue by hand.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { FakeApiError, FakeClient, FakeInformer, FakeQueue } from '../modelserving/fakes.js';
import type { ObjectLike } from '../modelserving/io.js';
import { BOOSTER_RBAC_RULES, BY_MODEL_UID, ModelBoosterController, modelUidIndex } from './controller.js';
import { BOOSTER_REFS, LABEL_REVISION } from './naming.js';
import { pdBooster, vllmBooster } from './testing/fixtures.js';
import type { Child, ModelBooster } from './types.js';

function harness() {
  const client = new FakeClient();
  const idx = { [BY_MODEL_UID]: modelUidIndex };
  const boosters = new FakeInformer<ModelBooster>();
  const children = {
    modelServing: new FakeInformer<Child>(idx),
    modelServer: new FakeInformer<Child>(idx),
    modelRoute: new FakeInformer<Child>(idx),
    autoscalingPolicy: new FakeInformer<Child>(idx),
  };
  client.stores.set('modelboosters', boosters as unknown as FakeInformer<ObjectLike>);
  client.stores.set('modelservings', children.modelServing as unknown as FakeInformer<ObjectLike>);
  client.stores.set('modelservers', children.modelServer as unknown as FakeInformer<ObjectLike>);
  client.stores.set('modelroutes', children.modelRoute as unknown as FakeInformer<ObjectLike>);
  client.stores.set('autoscalingpolicies', children.autoscalingPolicy as unknown as FakeInformer<ObjectLike>);
  const queue = new FakeQueue();
  const ctrl = new ModelBoosterController({ client, modelBoosters: boosters, children, queue, now: () => 0 });
  const drain = async () => {
    for (let n = 0, k = queue.next(); k !== undefined; k = queue.next()) {
      await ctrl.reconcile(k);
      if (++n > 100) throw new Error('queue never drains');
    }
  };
  const create = async (mb: ModelBooster) => {
    const stored = await client.create<ModelBooster>(BOOSTER_REFS.modelBoosters, mb, { namespace: 'default' });
    await drain();
    return stored;
  };
  const booster = (name: string) => boosters.get('default', name)!;
  const cond = (name: string, type: string) => booster(name).status?.conditions?.find((c) => c.type === type);
  const update = async (mb: ModelBooster, change: (m: ModelBooster) => void) => {
    const next = structuredClone(booster(mb.metadata.name));
    change(next);
    next.metadata = { ...next.metadata, generation: (next.metadata.generation ?? 1) + 1 };
    await client.replace(BOOSTER_REFS.modelBoosters, next);
    await drain();
  };
  const available = (ms: Child) =>
    children.modelServing.upsert({ ...ms, status: { conditions: [{ type: 'Available', status: 'True' }] } });
  return { client, boosters, children, queue, ctrl, drain, create, booster, cond, update, available };
}

test('create: the three children appear, owned; Initialized, then Active once the ModelServing is Available', async () => {
  const h = harness();
  const mb = await h.create(vllmBooster());
  const uid = mb.metadata.uid;
  const ms = h.children.modelServing.get('default', 'demo-backend1')!;
  assert.ok(ms, 'ModelServing demo-backend1');
  assert.ok(h.children.modelServer.get('default', 'demo-backend1'));
  assert.ok(h.children.modelRoute.get('default', 'demo'));
  assert.equal(h.children.autoscalingPolicy.list().length, 0);
  for (const c of [
    ...h.children.modelServing.list(),
    ...h.children.modelServer.list(),
    ...h.children.modelRoute.list(),
  ])
    assert.equal(c.metadata.ownerReferences?.[0].uid, uid);
  assert.equal(h.cond('demo', 'Initialized')?.status, 'True');
  assert.equal(h.cond('demo', 'Active')?.status, 'False');
  assert.equal(h.cond('demo', 'Active')?.reason, 'ModelProcessing');
  assert.equal(h.booster('demo').status?.observedGeneration, 1);
  h.available(ms);
  await h.drain();
  assert.equal(h.cond('demo', 'Active')?.status, 'True');
  assert.equal(h.cond('demo', 'Active')?.reason, 'ModelAvailable');
  assert.equal(h.cond('demo', 'Active')?.observedGeneration, 1);
});

test('a steady booster makes no writes on a resync', async () => {
  const h = harness();
  await h.create(vllmBooster());
  h.available(h.children.modelServing.get('default', 'demo-backend1')!);
  await h.drain();
  const before = h.client.calls.length;
  h.ctrl.enqueueAll();
  await h.drain();
  assert.deepEqual(h.client.calls.slice(before), []);
});

test('update spec → children replaced by revision; observedGeneration follows', async () => {
  const h = harness();
  const mb = await h.create(vllmBooster());
  const rev = h.children.modelServing.get('default', 'demo-backend1')!.metadata.labels![LABEL_REVISION];
  await h.update(mb, (m) => {
    m.spec.backend.replicas = 3;
  });
  const ms = h.children.modelServing.get('default', 'demo-backend1')!;
  assert.equal(ms.spec.replicas, 3);
  assert.notEqual(ms.metadata.labels![LABEL_REVISION], rev);
  assert.equal(h.booster('demo').status?.observedGeneration, 2);
  await h.update(mb, (m) => {
    m.spec.name = 'renamed-model';
  });
  assert.equal(h.children.modelRoute.get('default', 'demo')!.spec.modelName, 'renamed-model');
});

test('rename backend: new children created, the old ModelServing and ModelServer deleted', async () => {
  const h = harness();
  const mb = await h.create(vllmBooster());
  await h.update(mb, (m) => {
    m.spec.backend.name = 'backend2';
  });
  assert.deepEqual(
    h.children.modelServing.list().map((o) => o.metadata.name),
    ['demo-backend2'],
  );
  assert.deepEqual(
    h.children.modelServer.list().map((o) => o.metadata.name),
    ['demo-backend2'],
  );
  assert.equal(
    h.children.modelRoute.get('default', 'demo')!.spec.rules[0].targetModels[0].modelServerName,
    'demo-backend2',
  );
});

test('deleted children come back; a hand edit is reconciled back', async () => {
  const h = harness();
  await h.create(pdBooster());
  await h.client.delete(BOOSTER_REFS.modelServers, 'pd-b', 'default');
  await h.client.delete(BOOSTER_REFS.modelRoutes, 'pd', 'default');
  await h.drain();
  assert.ok(h.children.modelServer.get('default', 'pd-b'));
  assert.ok(h.children.modelRoute.get('default', 'pd'));
  const server = structuredClone(h.children.modelServer.get('default', 'pd-b')!);
  server.spec.workloadPort = { port: 1234 };
  await h.client.replace(BOOSTER_REFS.modelServers, server);
  await h.drain();
  assert.deepEqual(h.children.modelServer.get('default', 'pd-b')!.spec.workloadPort, { port: 8000 });
  const ms = structuredClone(h.children.modelServing.get('default', 'pd-b')!);
  ms.spec.template.roles[0].replicas = 7;
  await h.client.replace(BOOSTER_REFS.modelServings, ms);
  await h.drain();
  assert.equal(h.children.modelServing.get('default', 'pd-b')!.spec.template.roles[0].replicas, 2);
});

test('a foreign object with the wanted name → Failed with a clear message, never deleted; Failed clears after', async () => {
  const h = harness();
  const foreign: Child = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name: 'demo', namespace: 'default', uid: 'someone', resourceVersion: '1' },
    spec: { modelName: 'theirs', rules: [] },
  };
  h.children.modelRoute.upsert(foreign);
  await h.create(vllmBooster());
  const failed = h.cond('demo', 'Failed');
  assert.equal(failed?.status, 'True');
  assert.equal(failed?.reason, 'ModelAbnormal');
  assert.match(
    failed?.message ?? '',
    /ModelRoute default\/demo already exists and is owned by no controller, not by this ModelBooster/,
  );
  assert.equal(h.children.modelRoute.get('default', 'demo')!.spec.modelName, 'theirs', 'untouched');
  assert.ok(h.children.modelServing.get('default', 'demo-backend1'), 'the other children are still made');
  assert.ok(!h.client.calls.some((c) => c.startsWith('delete modelroutes') || c.startsWith('update modelroutes')));
  assert.equal(h.queue.next(), undefined);
  // its owner removes it: the next retry creates ours and clears Failed
  h.children.modelRoute.remove('default', 'demo');
  await h.ctrl.reconcile('default/demo');
  assert.equal(h.children.modelRoute.get('default', 'demo')!.spec.modelName, 'demo');
  assert.equal(h.cond('demo', 'Failed')?.status, 'False');
  assert.equal(h.cond('demo', 'Failed')?.reason, 'ModelRecovered');
});

test('the wanted name taken by an object the informers do not see (AlreadyExists): read, reported, untouched', async () => {
  const h = harness();
  h.client.failWith = (verb, plural) =>
    verb === 'create' && plural === 'modelservers' ? new FakeApiError(409, 'AlreadyExists') : undefined;
  const origGet = h.client.get.bind(h.client);
  h.client.get = async <T>(ref: Parameters<typeof origGet>[0], name: string, ns?: string) =>
    ref.plural === 'modelservers'
      ? ({
          metadata: {
            name,
            namespace: ns,
            ownerReferences: [{ apiVersion: 'x/v1', kind: 'Team', name: 'other', uid: 'u', controller: true }],
          },
        } as T)
      : origGet<T>(ref, name, ns);
  await h.create(vllmBooster());
  assert.match(
    h.cond('demo', 'Failed')?.message ?? '',
    /ModelServer default\/demo-backend1 already exists and is owned by Team other/,
  );
  assert.ok(!h.client.calls.some((c) => c.startsWith('delete')));
});

test('API errors set Failed and are retried; the booster deleted → nothing more is written', async () => {
  const h = harness();
  h.client.failWith = (verb, plural) =>
    verb === 'create' && plural === 'modelroutes' ? new FakeApiError(500, 'InternalError') : undefined;
  await h.create(vllmBooster());
  assert.equal(h.cond('demo', 'Failed')?.status, 'True');
  assert.match(h.cond('demo', 'Failed')?.message ?? '', /500/);
  h.client.failWith = undefined;
  await h.ctrl.reconcile('default/demo');
  assert.equal(h.cond('demo', 'Failed')?.status, 'False');
  await h.client.delete(BOOSTER_REFS.modelBoosters, 'demo', 'default');
  const before = h.client.calls.length;
  await h.ctrl.reconcile('default/demo');
  assert.deepEqual(h.client.calls.slice(before), []);
});

test('autoscaling annotations → an owned AutoscalingPolicy; removing them deletes it', async () => {
  const h = harness();
  const mb = vllmBooster();
  mb.metadata.annotations = { 'autoscaling.kthena.io/max-replicas': '4', 'autoscaling.kthena.io/target-value': '3' };
  await h.create(mb);
  const p = h.children.autoscalingPolicy.get('default', 'demo-backend1')!;
  assert.deepEqual(p.spec, {
    metrics: [{ name: 'load', targetValue: '3' }],
    homogeneousTarget: {
      target: {
        targetRef: { kind: 'ModelServing', name: 'demo-backend1' },
        metricSources: { load: { pod: { name: 'kthena:num_requests_waiting', uri: '/metrics', port: 8100 } } },
      },
      minReplicas: 1,
      maxReplicas: 4,
    },
  });
  const next = structuredClone(h.booster('demo'));
  next.metadata = { ...next.metadata, annotations: {} };
  await h.client.replace(BOOSTER_REFS.modelBoosters, next);
  await h.drain();
  assert.equal(h.children.autoscalingPolicy.list().length, 0);
});

test('every API call the controller makes is covered by BOOSTER_RBAC_RULES', async () => {
  const h = harness();
  const mb = vllmBooster();
  mb.metadata.annotations = { 'autoscaling.kthena.io/max-replicas': '2' };
  const start = h.client.calls.length;
  await h.create(mb);
  await h.update(mb, (m) => {
    m.spec.backend.name = 'renamed';
    m.metadata.annotations = {};
  });
  await h.client.delete(BOOSTER_REFS.modelRoutes, 'demo', 'default');
  await h.drain();
  const groupOf: Record<string, string> = {
    modelboosters: 'workload.serving.volcano.sh',
    modelservings: 'workload.serving.volcano.sh',
    autoscalingpolicies: 'workload.serving.volcano.sh',
    modelservers: 'networking.serving.volcano.sh',
    modelroutes: 'networking.serving.volcano.sh',
  };
  // the test's own writes (the booster create/update, the route delete) are not the controller's
  const used = new Set(
    h.client.calls
      .slice(start)
      .filter((c) => !/^(create|update) modelboosters /.test(c) && c !== 'delete modelroutes demo')
      .map((c) => c.split(' ').slice(0, 2).join(' ')),
  );
  assert.ok(used.size >= 6, [...used].join(', '));
  for (const call of used) {
    const [verb, plural] = call.split(' ');
    const [v, sub] = verb.split('/');
    const resource = sub ? `${plural}/${sub}` : plural;
    const ok = BOOSTER_RBAC_RULES.some(
      (r) => r.apiGroups.includes(groupOf[plural]) && r.resources.includes(resource) && r.verbs.includes(v),
    );
    assert.ok(ok, `${call} is not allowed by BOOSTER_RBAC_RULES`);
  }
});
