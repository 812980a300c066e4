import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeClient } from '../../kube/client.js';
import { MODEL_ROUTES, MODEL_SERVERS, PODS } from '../../kube/resource.js';
import { FakeApiServer } from '../../kube/testing/fake-apiserver.js';
import { RouterStore } from '../store/store.js';
import { KubeSource, podEndpoint } from './kubernetes.js';

let server: FakeApiServer;
let client: KubeClient;

before(async () => {
  server = await FakeApiServer.start();
  client = new KubeClient({ server: server.url });
});
after(async () => {
  await client.destroy();
  await server.close();
});

const API = 'networking.serving.volcano.sh/v1alpha1';

const modelServer = (ns: string, name: string, app: string) => ({
  apiVersion: API,
  kind: 'ModelServer',
  metadata: { name, namespace: ns, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { inferenceEngine: 'vLLM', workloadSelector: { matchLabels: { app } }, workloadPort: { port: 8000 } },
});

const modelRoute = (ns: string, name: string, model: string, target: string, extra: object = {}) => ({
  apiVersion: API,
  kind: 'ModelRoute',
  metadata: { name, namespace: ns, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { modelName: model, rules: [{ targetModels: [{ modelServerName: target }] }], ...extra },
});

const pod = (ns: string, name: string, app: string, ip: string, ready = true) => ({
  metadata: { name, namespace: ns, labels: { app } },
  spec: { nodeName: 'n1' },
  status: {
    phase: 'Running',
    podIP: ip,
    conditions: [{ type: 'Ready', status: ready ? 'True' : 'False' }],
  },
});

/** Polls until `cond` holds; the long limit only turns a hang into a readable failure (no timing assertion). */
async function until(cond: () => boolean, what: string | (() => string)): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 60_000) throw new Error(`gave up waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function source(ns: string, writeStatus = false) {
  const store = new RouterStore();
  const src = new KubeSource(store, {
    client,
    namespace: ns,
    writeStatus,
    leaseNamespace: ns,
    identity: `test-${ns}`,
    leaseDurationMs: 3000,
    renewDeadlineMs: 2000,
    retryPeriodMs: 500,
    statusDelayMs: 5,
  });
  const endpoints = (server = 'ms') =>
    (store.view.endpointsByServer.get(`${ns}/${server}`) ?? []).map((e) => `${e.state.name}@${e.origin}`).sort();
  return { store, src, endpoints };
}

test('podEndpoint: only Running, Ready=True pods with an IP that are not being deleted', () => {
  assert.equal(podEndpoint(pod('a', 'p', 'x', '10.0.0.1'))?.address, '10.0.0.1');
  assert.equal(podEndpoint(pod('a', 'p', 'x', '10.0.0.1', false)), undefined);
  assert.equal(podEndpoint({ ...pod('a', 'p', 'x', ''), status: { phase: 'Running', conditions: [] } }), undefined);
  const pending = pod('a', 'p', 'x', '10.0.0.1');
  pending.status.phase = 'Pending';
  assert.equal(podEndpoint(pending), undefined);
  const deleting = pod('a', 'p', 'x', '10.0.0.1');
  (deleting.metadata as Record<string, unknown>).deletionTimestamp = '2026-01-01T00:00:00Z';
  assert.equal(podEndpoint(deleting), undefined);
});

test('list then watch: only ready pods are endpoints; unready, relabelled and deleted pods leave at once', async () => {
  const ns = 'ks-basic';
  server.put(MODEL_SERVERS, modelServer(ns, 'ms', 'llm'));
  server.put(MODEL_ROUTES, modelRoute(ns, 'r', 'm1', 'ms'));
  server.put(PODS, pod(ns, 'p1', 'llm', '10.0.0.1'));
  server.put(PODS, pod(ns, 'p2', 'llm', '10.0.0.2', false));
  server.put(PODS, pod(ns, 'other', 'nope', '10.0.0.3'));
  const { store, src, endpoints } = source(ns);
  assert.equal(src.hasSynced(), false);
  src.start();
  try {
    await src.waitForSync();
    assert.equal(src.hasSynced(), true);
    assert.deepEqual(endpoints(), ['p1@http://10.0.0.1:8000']);
    assert.equal(store.view.routesByModel.get('m1')?.[0]?.metadata.name, 'r');

    server.put(PODS, pod(ns, 'p2', 'llm', '10.0.0.2', true));
    await until(() => endpoints().length === 2, 'p2 to become an endpoint');
    server.put(PODS, pod(ns, 'p1', 'llm', '10.0.0.1', false));
    await until(
      () => endpoints().join() === 'p2@http://10.0.0.2:8000',
      () => `p1 to leave: ${endpoints()}`,
    );
    server.put(PODS, pod(ns, 'p2', 'elsewhere', '10.0.0.2'));
    await until(() => endpoints().length === 0, 'relabelled p2 to leave');
    server.put(PODS, pod(ns, 'p3', 'llm', '10.0.0.4'));
    await until(() => endpoints().length === 1, 'p3');
    server.remove(PODS, ns, 'p3');
    await until(() => endpoints().length === 0, 'deleted p3 to leave');
  } finally {
    await src.stop();
  }
});

test('an invalid object is skipped with a reason; fixing it brings it in', async () => {
  const ns = 'ks-invalid';
  server.put(MODEL_SERVERS, modelServer(ns, 'ms', 'llm'));
  server.put(MODEL_ROUTES, modelRoute(ns, 'bad', 'm2', 'ms', { rules: [] }));
  server.put(
    MODEL_ROUTES,
    modelRoute(ns, 'badre', 'm3', 'ms', {
      rules: [{ modelMatch: { uri: { regex: '([' } }, targetModels: [{ modelServerName: 'ms' }] }],
    }),
  );
  const { store, src } = source(ns);
  src.start();
  try {
    await src.waitForSync();
    assert.equal(store.view.routesByModel.get('m2'), undefined);
    assert.equal(store.view.routesByModel.get('m3'), undefined);
    assert.match(src.invalid.get(`ModelRoute/${ns}/bad`)?.join() ?? '', /spec\.rules/);
    assert.match(src.invalid.get(`ModelRoute/${ns}/badre`)?.join() ?? '', /regex/);
    server.put(MODEL_ROUTES, modelRoute(ns, 'bad', 'm2', 'ms'));
    await until(() => store.view.routesByModel.has('m2'), 'the fixed route');
    assert.equal(src.invalid.has(`ModelRoute/${ns}/bad`), false);
    // A valid route turned invalid stops routing.
    server.put(MODEL_ROUTES, modelRoute(ns, 'bad', 'm2', 'ms', { rules: [] }));
    await until(() => !store.view.routesByModel.has('m2'), 'the broken route to leave');
  } finally {
    await src.stop();
  }
});

test('bookmarks, a dropped connection and a 410 relist converge on the server state', async () => {
  const ns = 'ks-faults';
  server.put(MODEL_SERVERS, modelServer(ns, 'ms', 'llm'));
  server.put(PODS, pod(ns, 'a', 'llm', '10.1.0.1'));
  server.put(PODS, pod(ns, 'b', 'llm', '10.1.0.2'));
  const { src, endpoints } = source(ns);
  src.start();
  try {
    await src.waitForSync();
    assert.equal(endpoints().length, 2);
    server.bookmark();
    // Dropped connection: changes made while disconnected arrive after the resume.
    const seq = server.requests.length;
    server.dropWatches(PODS);
    server.remove(PODS, ns, 'a');
    server.put(PODS, pod(ns, 'c', 'llm', '10.1.0.3'));
    await server.waitForWatch(PODS, seq);
    await until(
      () => endpoints().join() === 'b@http://10.1.0.2:8000,c@http://10.1.0.3:8000',
      () => `${endpoints()}`,
    );
    // History compacted while disconnected: the resume gets 410, the informer relists and diffs (b vanished).
    server.dropWatches(PODS);
    server.remove(PODS, ns, 'b');
    server.compact();
    await until(
      () => endpoints().join() === 'c@http://10.1.0.3:8000',
      () => `after relist: ${endpoints()}`,
    );
    assert.ok(src.hasSynced());
  } finally {
    await src.stop();
  }
});

test('status: written once by the Lease holder, not rewritten while nothing changes, follows ready pods', async () => {
  const ns = 'ks-status';
  server.put(MODEL_SERVERS, modelServer(ns, 'ms', 'llm'));
  server.put(MODEL_ROUTES, modelRoute(ns, 'old', 'm', 'ms'));
  const newer = modelRoute(ns, 'new', 'm', 'missing');
  newer.metadata.creationTimestamp = '2026-02-01T00:00:00Z';
  server.put(MODEL_ROUTES, newer);
  server.put(PODS, pod(ns, 'p1', 'llm', '10.2.0.1'));
  const { store, src } = source(ns, true);
  const statusWrites = () =>
    server.requestsWhere(
      (r) => r.method === 'PATCH' && r.path.includes(`/namespaces/${ns}/`) && r.path.endsWith('/status'),
    );
  const get = (ref: typeof MODEL_SERVERS, name: string) =>
    client.request<any>({
      method: 'GET',
      path: `/apis/networking.serving.volcano.sh/v1alpha1/namespaces/${ns}/${ref.plural}/${name}`,
    });
  /** Applies a change, waits until the store saw it and a status pass after it has finished. */
  const settledAfter = async (change: () => void) => {
    const version = store.version;
    change();
    await until(() => store.version > version, 'the store to see the change');
    const passes = src.statusPasses;
    await until(() => src.statusPasses > passes && src.statusIdle(), 'a status pass after the change');
  };
  src.start();
  try {
    await until(() => src.isLeader(), 'leadership');
    const lease = await client.request<any>({
      method: 'GET',
      path: `/apis/coordination.k8s.io/v1/namespaces/${ns}/leases/kthena-router`,
    });
    assert.equal(lease.spec.holderIdentity, `test-${ns}`);
    await until(
      () => statusWrites().length >= 3,
      () => `3 status writes, saw ${statusWrites().length}`,
    );
    await until(() => src.statusIdle(), 'the first passes to finish');
    assert.equal(statusWrites().length, 3, 'one write per object');
    let ms = await get(MODEL_SERVERS, 'ms');
    assert.equal(ms.status.readyEndpoints, 1);
    assert.deepEqual(
      ms.status.conditions.map((c: any) => [c.type, c.status, c.reason, c.observedGeneration]),
      [['Ready', 'True', 'EndpointsReady', 1]],
    );
    const oldR = await get(MODEL_ROUTES, 'old');
    assert.deepEqual(
      oldR.status.conditions.map((c: any) => [c.type, c.status, c.reason]),
      [
        ['Accepted', 'True', 'Accepted'],
        ['ResolvedRefs', 'True', 'ResolvedRefs'],
      ],
    );
    const newR = await get(MODEL_ROUTES, 'new');
    const byType = Object.fromEntries(newR.status.conditions.map((c: any) => [c.type, c]));
    assert.equal(byType.Accepted.reason, 'Conflicted');
    assert.match(byType.Accepted.message, new RegExp(`${ns}/old`));
    assert.equal(byType.ResolvedRefs.reason, 'BackendNotFound');
    assert.match(byType.ResolvedRefs.message, /missing/);

    // Idle: a change that triggers a pass but alters no status causes no write.
    const writes = statusWrites().length;
    await settledAfter(() => server.put(PODS, pod(ns, 'unrelated', 'other', '10.2.0.9')));
    server.bookmark();
    await settledAfter(() => server.put(PODS, pod(ns, 'unrelated', 'other2', '10.2.0.9')));
    assert.equal(statusWrites().length, writes, 'no status write when nothing changed');

    // A pod turning unready flips Ready to False with 0 endpoints: exactly one more write, then quiet again.
    await settledAfter(() => server.put(PODS, pod(ns, 'p1', 'llm', '10.2.0.1', false)));
    await settledAfter(() => server.put(PODS, pod(ns, 'unrelated', 'other3', '10.2.0.9')));
    ms = await get(MODEL_SERVERS, 'ms');
    assert.equal(ms.status.readyEndpoints, 0);
    assert.equal(ms.status.conditions[0].status, 'False');
    assert.equal(ms.status.conditions[0].reason, 'NoReadyEndpoints');
    assert.equal(statusWrites().length, writes + 1, 'exactly one write for the change');
  } finally {
    await src.stop();
  }
});
