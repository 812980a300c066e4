// Our own src/kube client and informer against the local API server (the path every controller,
// the kubelet and the scheduler take): kubeconfig loading, CRUD, patches, status, binding, informer
// sync, resume after a dropped watch and relist after 410.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { ApiServer } from '../../src/cluster/apiserver/index.js';
import { CONFIGMAPS, Informer, KubeApiError, KubeClient, LEASES, PODGROUPS, PODS } from '../../src/kube/index.js';
import { eventually, startTestServer } from './cluster-helpers.js';

let srv: ApiServer;
let dir: string;
let client: KubeClient;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kthena-kube-'));
  srv = await startTestServer({ kubeconfigPath: join(dir, 'kc.yaml') });
  client = KubeClient.fromKubeconfig(join(dir, 'kc.yaml'));
});
after(async () => {
  await client.destroy();
  await srv.close();
  await rm(dir, { recursive: true, force: true });
});

test('CRUD, patch types, conflicts and Status errors through KubeClient', async () => {
  const cm: any = await client.create(CONFIGMAPS, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'a', namespace: 'default' },
    data: { x: '1' },
  } as any);
  assert.equal(cm.metadata.name, 'a');
  await assert.rejects(
    client.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'a', namespace: 'default' },
    } as any),
    (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists',
  );
  const merged: any = await client.patch(CONFIGMAPS, 'a', 'default', { data: { y: '2' } }, 'merge');
  assert.deepEqual(merged.data, { x: '1', y: '2' });
  const json: any = await client.patch(CONFIGMAPS, 'a', 'default', [{ op: 'remove', path: '/data/x' }], 'json');
  assert.deepEqual(json.data, { y: '2' });
  await assert.rejects(
    client.replace(CONFIGMAPS, { ...cm, data: { z: '3' } } as any),
    (e: unknown) => e instanceof KubeApiError && e.status === 409 && e.reason === 'Conflict',
  );
  const applied: any = await client.patch(
    CONFIGMAPS,
    'b',
    'default',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'b' }, data: { k: 'v' } },
    'apply',
    { fieldManager: 'test' },
  );
  assert.equal(applied.data.k, 'v');
  await client.delete(CONFIGMAPS, 'a', 'default');
  await assert.rejects(
    client.get(CONFIGMAPS, 'a', 'default'),
    (e: unknown) => e instanceof KubeApiError && e.status === 404,
  );
});

test('pods: create, binding, status subresource; PodGroup via the Volcano CRD; Lease optimistic concurrency', async () => {
  await client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'default' },
    spec: { schedulerName: 'volcano', containers: [{ name: 'c', image: 'i:1' }] },
  } as any);
  await client.create(
    PODS,
    {
      apiVersion: 'v1',
      kind: 'Binding',
      metadata: { name: 'p', namespace: 'default' },
      target: { apiVersion: 'v1', kind: 'Node', name: 'node-0' },
    } as any,
    { namespace: 'default', subresource: 'binding' } as any,
  );
  const bound: any = await client.get(PODS, 'p', 'default');
  assert.equal(bound.spec.nodeName, 'node-0');
  const st: any = await client.patch(
    PODS,
    'p',
    'default',
    { status: { phase: 'Running', podIP: '127.0.0.2' } },
    'merge',
    { subresource: 'status' },
  );
  assert.equal(st.status.phase, 'Running');
  const pg: any = await client.create(PODGROUPS, {
    apiVersion: 'scheduling.volcano.sh/v1beta1',
    kind: 'PodGroup',
    metadata: { name: 'g', namespace: 'default' },
    spec: { minMember: 2 },
  } as any);
  assert.equal(pg.spec.queue, 'default');
  const lease: any = await client.create(LEASES, {
    apiVersion: 'coordination.k8s.io/v1',
    kind: 'Lease',
    metadata: { name: 'l', namespace: 'default' },
    spec: { holderIdentity: 'a', leaseDurationSeconds: 15 },
  } as any);
  await client.replace(LEASES, { ...lease, spec: { ...lease.spec, holderIdentity: 'b' } } as any);
  await assert.rejects(
    client.replace(LEASES, { ...lease, spec: { ...lease.spec, holderIdentity: 'c' } } as any),
    (e: unknown) => e instanceof KubeApiError && e.status === 409,
  );
});

test('Informer: sync, live events, resume after a dropped watch, relist after 410', async () => {
  for (const n of ['i1', 'i2'])
    await client.create(CONFIGMAPS, {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: n, namespace: 'kube-public' },
    } as any);
  const inf = new Informer<any>(client, CONFIGMAPS, { namespace: 'kube-public' });
  const deleted: string[] = [];
  const updated: string[] = [];
  inf.on('delete', (o) => deleted.push(o.metadata.name));
  inf.on('update', (_old, o) => updated.push(o.metadata.name));
  inf.start();
  await inf.waitForSync();
  assert.deepEqual(
    inf
      .list()
      .map((o) => o.metadata.name)
      .sort(),
    ['i1', 'i2'],
  );
  await client.patch(CONFIGMAPS, 'i1', 'kube-public', { data: { a: '1' } }, 'merge');
  await eventually(() => (updated.includes('i1') ? true : undefined), 10_000, 'update');
  // Drop the watch: the informer resumes from its last RV without losing the next change.
  srv.closeWatches();
  await client.patch(CONFIGMAPS, 'i2', 'kube-public', { data: { b: '1' } }, 'merge');
  await eventually(() => (inf.get('kube-public', 'i2')?.data?.b === '1' ? true : undefined), 15_000, 'resumed');
  // Drop the watch and compact history while an object disappears unseen: 410 → relist → delete.
  srv.closeWatches();
  const del = srv.core.delete(srv.core.registry.builtin('', 'configmaps'), 'kube-public', 'i1');
  srv.compactHistory();
  await del;
  await eventually(() => (deleted.includes('i1') ? true : undefined), 15_000, 'delete after relist');
  await inf.stop();
});
