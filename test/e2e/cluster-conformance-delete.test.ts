// Reference §21 checks 55–73 (delete, finalizers, GC, namespaces, Tables, subresources, binding).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { ApiServer } from '../../src/cluster/apiserver/index.js';
import { microTime } from '../../src/cluster/apiserver/util.js';
import {
  CMS,
  call,
  eventually,
  PODS,
  pod,
  startTestServer,
  WIDGET_CRD,
  WIDGETS,
  watch,
  widget,
} from './cluster-helpers.js';

let srv: ApiServer;
let base: string;
const MP = { contentType: 'application/merge-patch+json' };
const TABLE =
  'application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json';

before(async () => {
  srv = await startTestServer({ nodeMonitorPeriodMs: 100, eventTtlMs: 1500 });
  base = srv.url;
  assert.equal(
    (await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', WIDGET_CRD)).status,
    201,
  );
});
after(async () => {
  await srv.close();
});

const gone = (path: string) =>
  eventually(async () => ((await call(base, 'GET', path)).status === 404 ? true : undefined), 10_000, `${path} gone`);

describe('delete and finalizers', () => {
  test('55. DELETE without finalizers: Status with details.uid (CR/ConfigMap), the object (Pod); DELETED event', async () => {
    const w = await call(base, 'POST', WIDGETS, widget('d55'));
    const rv = w.body.metadata.resourceVersion;
    const stream = await watch(base, `${WIDGETS}?watch=true&resourceVersion=${rv}`);
    const d = await call(base, 'DELETE', `${WIDGETS}/d55`);
    assert.equal(d.status, 200);
    assert.equal(d.body.kind, 'Status');
    assert.equal(d.body.status, 'Success');
    assert.deepEqual(d.body.details, {
      name: 'd55',
      group: 'test.kthena.io',
      kind: 'widgets',
      uid: w.body.metadata.uid,
    });
    assert.equal((await call(base, 'GET', `${WIDGETS}/d55`)).status, 404);
    assert.equal((await stream.next()).type, 'DELETED');
    stream.close();
    await call(base, 'POST', CMS, { metadata: { name: 'd55' } });
    assert.equal((await call(base, 'DELETE', `${CMS}/d55`)).body.kind, 'Status');
    await call(base, 'POST', PODS, pod('d55'));
    const p = await call(base, 'DELETE', `${PODS}/d55`);
    assert.equal(p.body.kind, 'Pod');
    assert.equal((await call(base, 'DELETE', `${PODS}/d55`)).status, 404);
  });

  test('56–58. finalizers: marked deleting; new finalizer → 422; removing the last one deletes', async () => {
    const w = await call(base, 'POST', WIDGETS, widget('d56', { size: 1 }, { metadata: { finalizers: ['test/a'] } }));
    const d = await call(base, 'DELETE', `${WIDGETS}/d56`);
    assert.equal(d.status, 200);
    assert.equal(d.body.kind, 'Widget');
    assert.ok(d.body.metadata.deletionTimestamp);
    assert.equal(d.body.metadata.deletionGracePeriodSeconds, 0);
    assert.equal(d.body.metadata.generation, 2);
    const again = await call(base, 'DELETE', `${WIDGETS}/d56`);
    assert.equal(again.body.metadata.resourceVersion, d.body.metadata.resourceVersion, 'repeated delete is a no-op');
    assert.equal((await call(base, 'GET', `${WIDGETS}/d56`)).status, 200);
    const add = await call(base, 'PATCH', `${WIDGETS}/d56`, { metadata: { finalizers: ['test/a', 'test/b'] } }, MP);
    assert.equal(add.status, 422);
    assert.match(add.body.message, /no new finalizers can be added if the object is being deleted/);
    const stream = await watch(base, `${WIDGETS}?watch=true&resourceVersion=${d.body.metadata.resourceVersion}`);
    const rm = await call(base, 'PATCH', `${WIDGETS}/d56`, { metadata: { finalizers: null } }, MP);
    assert.equal(rm.status, 200);
    assert.equal((await stream.next()).type, 'DELETED');
    assert.equal((await call(base, 'GET', `${WIDGETS}/d56`)).status, 404);
    stream.close();
    assert.ok(w.body.metadata.uid);
  });

  test('59–60. pods: bound → graceful (30 s), unbound → immediate; grace 0 completes', async () => {
    await call(base, 'POST', PODS, pod('d59'));
    const b = await call(base, 'POST', `${PODS}/d59/binding`, {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'd59' },
      target: { kind: 'Node', name: 'n1' },
    });
    assert.equal(b.status, 201);
    const t0 = Date.now();
    const d = await call(base, 'DELETE', `${PODS}/d59`);
    assert.equal(d.body.metadata.deletionGracePeriodSeconds, 30);
    const dt = Date.parse(d.body.metadata.deletionTimestamp);
    assert.ok(dt >= Math.floor(t0 / 1000) * 1000 + 29_000 && dt <= t0 + 31_000);
    assert.equal((await call(base, 'GET', `${PODS}/d59`)).status, 200);
    const table = await call(base, 'GET', `${PODS}/d59`, undefined, { accept: TABLE });
    assert.equal(table.body.rows[0].cells[2], 'Terminating');
    const uid = d.body.metadata.uid;
    const wrong = await call(base, 'DELETE', `${PODS}/d59`, { gracePeriodSeconds: 0, preconditions: { uid: 'nope' } });
    assert.equal(wrong.status, 409, '61. uid precondition mismatch');
    const fin = await call(base, 'DELETE', `${PODS}/d59?gracePeriodSeconds=0`, {
      kind: 'DeleteOptions',
      apiVersion: 'v1',
      preconditions: { uid },
    });
    assert.equal(fin.status, 200);
    assert.equal((await call(base, 'GET', `${PODS}/d59`)).status, 404);
    await call(base, 'POST', PODS, pod('d60'));
    await call(base, 'DELETE', `${PODS}/d60`);
    assert.equal((await call(base, 'GET', `${PODS}/d60`)).status, 404);
  });
});

describe('garbage collection and namespaces', () => {
  const owned = (name: string, owners: { name: string; uid: string; block?: boolean }[]) => ({
    metadata: {
      name,
      ownerReferences: owners.map((o) => ({
        apiVersion: 'test.kthena.io/v1',
        kind: 'Widget',
        name: o.name,
        uid: o.uid,
        ...(o.block ? { blockOwnerDeletion: true } : {}),
      })),
    },
  });

  test('62. background: dependents deleted after the owner; a second live owner keeps it', async () => {
    const o1 = (await call(base, 'POST', WIDGETS, widget('o62a'))).body.metadata.uid;
    const o2 = (await call(base, 'POST', WIDGETS, widget('o62b'))).body.metadata.uid;
    await call(base, 'POST', CMS, owned('dep62', [{ name: 'o62a', uid: o1 }]));
    await call(
      base,
      'POST',
      CMS,
      owned('both62', [
        { name: 'o62a', uid: o1 },
        { name: 'o62b', uid: o2 },
      ]),
    );
    const d = await call(base, 'DELETE', `${WIDGETS}/o62a`, { propagationPolicy: 'Background' });
    assert.equal(d.body.kind, 'Status');
    assert.equal((await call(base, 'GET', `${WIDGETS}/o62a`)).status, 404, 'owner gone immediately');
    await gone(`${CMS}/dep62`);
    const both = await eventually(async () => {
      const r = await call(base, 'GET', `${CMS}/both62`);
      return r.body.metadata.ownerReferences.length === 1 ? r : undefined;
    });
    assert.equal(both.body.metadata.ownerReferences[0].uid, o2);
  });

  test('63. foreground: owner waits for blocking dependents', async () => {
    const o = (await call(base, 'POST', WIDGETS, widget('o63'))).body.metadata.uid;
    await call(base, 'POST', CMS, {
      ...owned('dep63', [{ name: 'o63', uid: o, block: true }]),
      metadata: { ...owned('dep63', [{ name: 'o63', uid: o, block: true }]).metadata, finalizers: ['test/hold'] },
    });
    const d = await call(base, 'DELETE', `${WIDGETS}/o63`, { propagationPolicy: 'Foreground' });
    assert.deepEqual(d.body.metadata.finalizers, ['foregroundDeletion']);
    const dep = await eventually(async () => {
      const r = await call(base, 'GET', `${CMS}/dep63`);
      return r.body.metadata.deletionTimestamp ? r : undefined;
    });
    assert.ok(dep);
    assert.equal((await call(base, 'GET', `${WIDGETS}/o63`)).status, 200, 'owner held by a blocking dependent');
    await call(base, 'PATCH', `${CMS}/dep63`, { metadata: { finalizers: null } }, MP);
    await gone(`${WIDGETS}/o63`);
  });

  test('64. orphan: dependents survive without the reference', async () => {
    const o = (await call(base, 'POST', WIDGETS, widget('o64'))).body.metadata.uid;
    await call(base, 'POST', CMS, owned('dep64', [{ name: 'o64', uid: o }]));
    await call(base, 'DELETE', `${WIDGETS}/o64?propagationPolicy=Orphan`);
    await gone(`${WIDGETS}/o64`);
    const dep = await call(base, 'GET', `${CMS}/dep64`);
    assert.equal(dep.status, 200);
    assert.equal(dep.body.metadata.ownerReferences, undefined);
  });

  test('65–66. dangling owner at creation → collected; two controller refs → 422', async () => {
    await call(base, 'POST', CMS, owned('dep65', [{ name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' }]));
    await gone(`${CMS}/dep65`);
    const two = await call(base, 'POST', CMS, {
      metadata: {
        name: 'two',
        ownerReferences: [
          { apiVersion: 'v1', kind: 'A', name: 'a', uid: 'u1', controller: true },
          { apiVersion: 'v1', kind: 'B', name: 'b', uid: 'u2', controller: true },
        ],
      },
    });
    assert.equal(two.status, 422);
    const bad = await call(base, 'DELETE', `${CMS}/two?propagationPolicy=Sideways`);
    assert.equal(bad.status, 404, 'object does not exist');
  });

  test('67. namespace delete: Terminating, contents removed, then the namespace', async () => {
    await call(base, 'POST', '/api/v1/namespaces', { metadata: { name: 'doomed' } });
    await call(base, 'POST', '/api/v1/namespaces/doomed/configmaps', { metadata: { name: 'a' } });
    await call(base, 'POST', '/apis/test.kthena.io/v1/namespaces/doomed/widgets', widget('w'));
    await call(base, 'POST', '/api/v1/namespaces/doomed/pods', pod('p'));
    const d = await call(base, 'DELETE', '/api/v1/namespaces/doomed');
    assert.equal(d.body.status.phase, 'Terminating');
    await gone('/api/v1/namespaces/doomed');
    assert.equal((await call(base, 'GET', '/api/v1/namespaces/doomed/configmaps')).body.items.length, 0);
  });

  test('5. deleting a CRD deletes its objects, then leaves discovery', async () => {
    const crd = structuredClone(WIDGET_CRD);
    crd.metadata.name = 'gadgets.test.kthena.io';
    crd.spec.names = { plural: 'gadgets', kind: 'Gadget' };
    assert.equal(
      (await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd)).status,
      201,
    );
    const path = '/apis/test.kthena.io/v1/namespaces/default/gadgets';
    await call(base, 'POST', path, {
      apiVersion: 'test.kthena.io/v1',
      kind: 'Gadget',
      metadata: { name: 'g', finalizers: ['test/x'] },
      spec: { size: 1 },
    });
    const d = await call(
      base,
      'DELETE',
      '/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.test.kthena.io',
    );
    assert.ok(d.body.status.conditions.some((c: any) => c.type === 'Terminating' && c.status === 'True'));
    const held = await eventually(async () => {
      const r = await call(base, 'GET', `${path}/g`);
      return r.body?.metadata?.deletionTimestamp ? r : undefined;
    });
    assert.ok(held);
    await call(base, 'PATCH', `${path}/g`, { metadata: { finalizers: null } }, MP);
    await gone('/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.test.kthena.io');
    const disc = await call(base, 'GET', '/apis/test.kthena.io/v1');
    assert.ok(!disc.body.resources.some((r: any) => r.name === 'gadgets'));
    assert.equal((await call(base, 'GET', path)).status, 404);
  });
});

describe('tables and subresources', () => {
  test('68 + 71. CR Table: Name + printer columns, age strings, priority, PartialObjectMetadata rows', async () => {
    await call(base, 'POST', WIDGETS, widget('t68', { size: 1, replicas: 3 }, { metadata: { labels: { l: 'v' } } }));
    const r = await call(base, 'GET', WIDGETS, undefined, { accept: TABLE });
    assert.equal(r.body.kind, 'Table');
    assert.equal(r.body.apiVersion, 'meta.k8s.io/v1');
    assert.deepEqual(
      r.body.columnDefinitions.map((c: any) => c.name),
      ['Name', 'Replicas', 'Phase', 'Age', 'Color'],
    );
    assert.equal(r.body.columnDefinitions[0].format, 'name');
    assert.equal(r.body.columnDefinitions[4].priority, 1);
    const row = r.body.rows.find((x: any) => x.cells[0] === 't68');
    assert.equal(row.cells[1], 3);
    assert.equal(row.cells[2], null);
    assert.match(row.cells[3], /^\d+s$/);
    assert.equal(row.cells[4], 'blue');
    assert.equal(row.object.kind, 'PartialObjectMetadata');
    assert.equal(row.object.metadata.namespace, 'default');
    assert.deepEqual(row.object.metadata.labels, { l: 'v' });
    assert.ok(r.body.metadata.resourceVersion);
    const none = await call(base, 'GET', `${WIDGETS}?includeObject=None`, undefined, { accept: TABLE });
    assert.equal(none.body.rows[0].object, undefined);
  });

  test('69. CRD without printer columns → Name, Age', async () => {
    const crd = structuredClone(WIDGET_CRD);
    crd.metadata.name = 'plains.test.kthena.io';
    crd.spec.names = { plural: 'plains', kind: 'Plain' };
    delete crd.spec.versions[0].additionalPrinterColumns;
    await call(base, 'POST', '/apis/apiextensions.k8s.io/v1/customresourcedefinitions', crd);
    const r = await call(base, 'GET', '/apis/test.kthena.io/v1/namespaces/default/plains', undefined, {
      accept: TABLE,
    });
    assert.deepEqual(
      r.body.columnDefinitions.map((c: any) => c.name),
      ['Name', 'Age'],
    );
  });

  test('70. Pod Table: READY and STATUS per state', async () => {
    await call(base, 'POST', PODS, pod('t70'));
    const get = async () => (await call(base, 'GET', `${PODS}/t70`, undefined, { accept: TABLE })).body.rows[0].cells;
    let cells = await get();
    assert.equal(cells[1], '0/1');
    assert.equal(cells[2], 'Pending');
    const setStatus = (status: any) => call(base, 'PATCH', `${PODS}/t70/status`, { status }, MP);
    await setStatus({
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 0, state: { waiting: { reason: 'ContainerCreating' } } },
      ],
    });
    assert.equal((await get())[2], 'ContainerCreating');
    await setStatus({
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [
        { name: 'c', ready: true, restartCount: 0, state: { running: { startedAt: '2026-01-01T00:00:00Z' } } },
      ],
    });
    cells = await get();
    assert.equal(cells[1], '1/1');
    assert.equal(cells[2], 'Running');
    await setStatus({
      phase: 'Succeeded',
      containerStatuses: [
        { name: 'c', ready: false, restartCount: 0, state: { terminated: { exitCode: 0, reason: 'Completed' } } },
      ],
    });
    assert.equal((await get())[2], 'Completed');
  });

  test('72. CR scale subresource', async () => {
    await call(base, 'POST', WIDGETS, widget('s72', { size: 1, replicas: 1 }));
    await call(base, 'PATCH', `${WIDGETS}/s72/status`, { status: { replicas: 1, selector: 'app=s72' } }, MP);
    const s = await call(base, 'GET', `${WIDGETS}/s72/scale`);
    assert.equal(s.body.kind, 'Scale');
    assert.equal(s.body.apiVersion, 'autoscaling/v1');
    assert.equal(s.body.spec.replicas, 1);
    assert.equal(s.body.status.selector, 'app=s72');
    const u = await call(base, 'PUT', `${WIDGETS}/s72/scale`, { ...s.body, spec: { replicas: 3 } });
    assert.equal(u.status, 200, u.text);
    assert.equal(u.body.spec.replicas, 3);
    const w = await call(base, 'GET', `${WIDGETS}/s72`);
    assert.equal(w.body.spec.replicas, 3);
    assert.equal(w.body.metadata.generation, 2);
    const stale = await call(base, 'PUT', `${WIDGETS}/s72/scale`, { ...s.body, spec: { replicas: 4 } });
    assert.equal(stale.status, 409);
    const p = await call(base, 'PATCH', `${WIDGETS}/s72/scale`, { spec: { replicas: 5 } }, MP);
    assert.equal(p.body.spec.replicas, 5);
    const neg = await call(base, 'PATCH', `${WIDGETS}/s72/scale`, { spec: { replicas: -1 } }, MP);
    assert.equal(neg.status, 422);
  });

  test('73. pods/binding sets nodeName and PodScheduled; second binding → 409', async () => {
    await call(base, 'POST', PODS, pod('b73'));
    const body = {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'b73' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'n1' },
    };
    const r = await call(base, 'POST', `${PODS}/b73/binding`, body);
    assert.equal(r.status, 201);
    assert.equal(r.body.status, 'Success');
    const p = await call(base, 'GET', `${PODS}/b73`);
    assert.equal(p.body.spec.nodeName, 'n1');
    assert.equal(p.body.status.conditions.find((c: any) => c.type === 'PodScheduled').status, 'True');
    const again = await call(base, 'POST', `${PODS}/b73/binding`, { ...body, target: { kind: 'Node', name: 'n2' } });
    assert.equal(again.status, 409);
    assert.match(again.body.message, /is already assigned to node "n1"/);
    const noTarget = await call(base, 'POST', `${PODS}/b73/binding`, { kind: 'Binding' });
    assert.equal(noTarget.status, 422);
  });

  test('namespace and node Tables', async () => {
    const ns = await call(base, 'GET', '/api/v1/namespaces/default', undefined, { accept: TABLE });
    assert.deepEqual(
      ns.body.columnDefinitions.map((c: any) => c.name),
      ['Name', 'Status', 'Age'],
    );
    assert.equal(ns.body.rows[0].cells[1], 'Active');
    await call(base, 'POST', '/api/v1/nodes', {
      metadata: { name: 'n1', labels: { 'node-role.kubernetes.io/gpu': '' } },
      status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.32.0' } },
    });
    const n = await call(base, 'GET', '/api/v1/nodes', undefined, { accept: TABLE });
    assert.deepEqual(n.body.rows[0].cells.slice(0, 3), ['n1', 'Ready', 'gpu']);
    assert.equal(n.body.rows[0].cells[4], 'v1.32.0');
  });
});

describe('node lifecycle and event expiry', () => {
  test('a node whose Lease expired becomes Ready=Unknown with the unreachable taint; a fresh lease clears the taint', async () => {
    await call(base, 'POST', '/api/v1/nodes', {
      metadata: { name: 'lc1' },
      status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] },
    });
    const leases = '/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases';
    const old = microTime(Date.now() - 60_000);
    const lease = await call(base, 'POST', leases, {
      metadata: { name: 'lc1' },
      spec: { holderIdentity: 'lc1', leaseDurationSeconds: 40, renewTime: old },
    });
    assert.equal(lease.status, 201, lease.text);
    const node = await eventually(async () => {
      const n = await call(base, 'GET', '/api/v1/nodes/lc1');
      const ready = n.body.status.conditions.find((c: any) => c.type === 'Ready');
      const tainted = (n.body.spec?.taints ?? []).some(
        (t: any) => t.key === 'node.kubernetes.io/unreachable' && t.effect === 'NoExecute',
      );
      return ready.status === 'Unknown' && tainted ? n.body : undefined;
    });
    assert.equal(node.status.conditions[0].reason, 'NodeStatusUnknown');
    // The kubelet comes back: renews the lease and posts Ready=True.
    const fresh = microTime(Date.now());
    await call(base, 'PATCH', `${leases}/lc1`, { spec: { renewTime: fresh } }, MP);
    await call(
      base,
      'PATCH',
      '/api/v1/nodes/lc1/status',
      { status: { conditions: [{ type: 'Ready', status: 'True', reason: 'KubeletReady' }] } },
      MP,
    );
    await eventually(async () => {
      const n = await call(base, 'GET', '/api/v1/nodes/lc1');
      return (n.body.spec?.taints ?? []).length === 0 ? true : undefined;
    });
  });

  test('events expire after their TTL', async () => {
    await call(base, 'POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'old-event' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'x' },
      reason: 'Old',
      message: 'm',
      type: 'Normal',
      lastTimestamp: new Date(Date.now() - 10_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    await gone('/api/v1/namespaces/default/events/old-event');
  });
});
