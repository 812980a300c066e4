import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { KubeClient, type WatchEvent } from './client.js';
import { isAlreadyExists, isConflict, isNotFound, KubeApiError, WatchDecodeError } from './errors.js';
import { CONFIGMAPS, LEASES, NODES, PODS } from './resource.js';
import { FakeApiServer } from './testing/fake-apiserver.js';

let server: FakeApiServer;
let client: KubeClient;

before(async () => {
  server = await FakeApiServer.start();
  client = new KubeClient({ server: server.url, headers: { Authorization: 'Bearer t0k' } });
});
after(async () => {
  await client.destroy();
  await server.close();
});

const cm = (name: string, data: Record<string, string> = {}) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace: 'ns1' },
  data,
});

test('create, get, replace with optimistic concurrency, delete', async () => {
  const created = await client.create<any>(CONFIGMAPS, cm('a', { k: '1' }));
  assert.equal(created.metadata.name, 'a');
  assert.ok(created.metadata.resourceVersion);
  const seen = server.requests.at(-1)!;
  assert.equal(seen.method, 'POST');
  assert.equal(seen.path, '/api/v1/namespaces/ns1/configmaps');
  assert.equal(seen.headers.authorization, 'Bearer t0k');
  assert.equal(seen.headers['content-type'], 'application/json');

  await assert.rejects(client.create(CONFIGMAPS, cm('a')), (e: unknown) => isAlreadyExists(e));

  const got = await client.get<any>(CONFIGMAPS, 'a', 'ns1');
  assert.deepEqual(got.data, { k: '1' });

  const replaced = await client.replace<any>(CONFIGMAPS, { ...got, data: { k: '2' } });
  assert.notEqual(replaced.metadata.resourceVersion, got.metadata.resourceVersion);
  // The old resourceVersion is now stale: 409 Conflict with the server's reason and message.
  await assert.rejects(client.replace(CONFIGMAPS, { ...got, data: { k: '3' } }), (e: unknown) => {
    assert.ok(e instanceof KubeApiError);
    assert.equal(e.status, 409);
    assert.equal(e.reason, 'Conflict');
    assert.match(e.message, /the object has been modified/);
    assert.ok(isConflict(e));
    return true;
  });

  await client.delete(CONFIGMAPS, 'a', 'ns1', { propagationPolicy: 'Background' });
  const del = server.requests.at(-1)!;
  assert.equal(del.method, 'DELETE');
  assert.deepEqual(del.body, { kind: 'DeleteOptions', apiVersion: 'v1', propagationPolicy: 'Background' });
  await assert.rejects(client.get(CONFIGMAPS, 'a', 'ns1'), (e: unknown) => {
    assert.ok(isNotFound(e));
    assert.equal((e as KubeApiError).reason, 'NotFound');
    return true;
  });
});

test('patch sends the content type of each patch strategy', async () => {
  await client.create(CONFIGMAPS, cm('p', { a: '1' }));
  await client.patch(CONFIGMAPS, 'p', 'ns1', { data: { b: '2' } }, 'merge');
  assert.equal(server.requests.at(-1)!.headers['content-type'], 'application/merge-patch+json');
  await client.patch(CONFIGMAPS, 'p', 'ns1', { data: { c: '3' } }, 'strategic');
  assert.equal(server.requests.at(-1)!.headers['content-type'], 'application/strategic-merge-patch+json');
  const j = await client.patch<any>(CONFIGMAPS, 'p', 'ns1', [{ op: 'remove', path: '/data/a' }], 'json');
  assert.equal(server.requests.at(-1)!.headers['content-type'], 'application/json-patch+json');
  assert.deepEqual(j.data, { b: '2', c: '3' });
  const applied = await client.patch<any>(
    CONFIGMAPS,
    'p',
    'ns1',
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'p' }, data: { d: '4' } },
    'apply',
    { fieldManager: 'kthena-test', force: true },
  );
  const r = server.requests.at(-1)!;
  assert.equal(r.headers['content-type'], 'application/apply-patch+yaml');
  assert.equal(r.query.get('fieldManager'), 'kthena-test');
  assert.equal(r.query.get('force'), 'true');
  assert.equal(applied.data.d, '4');
  await assert.rejects(client.patch(CONFIGMAPS, 'p', 'ns1', {}, 'apply'), /fieldManager/);
});

test('list passes selectors and pagination parameters', async () => {
  server.put(PODS, { metadata: { name: 'x1', namespace: 'ns2', labels: { app: 'a' } } });
  server.put(PODS, { metadata: { name: 'x2', namespace: 'ns2', labels: { app: 'b' } } });
  server.put(PODS, { metadata: { name: 'x3', namespace: 'ns2', labels: { app: 'a' } } });
  const page1 = await client.list<any>(PODS, { namespace: 'ns2', labelSelector: 'app=a', limit: 1 });
  assert.equal(page1.items.length, 1);
  assert.ok(page1.metadata.continue);
  assert.equal(server.requests.at(-1)!.query.get('labelSelector'), 'app=a');
  assert.equal(server.requests.at(-1)!.query.get('limit'), '1');
  const page2 = await client.list<any>(PODS, { namespace: 'ns2', limit: 1, continue: page1.metadata.continue });
  assert.deepEqual(
    [...page1.items, ...page2.items].map((p) => p.metadata.name),
    ['x1', 'x3'],
  );
  assert.equal(page2.metadata.continue, undefined);
});

test('errors without a Status body still become KubeApiError', async () => {
  server.inject({ path: '/api/v1/nodes' }, { status: 503, body: 'upstream down' });
  await assert.rejects(client.list(NODES), (e: unknown) => {
    assert.ok(e instanceof KubeApiError);
    assert.equal(e.status, 503);
    assert.equal(e.reason, 'ServiceUnavailable');
    assert.equal(e.body, 'upstream down');
    return true;
  });
  await assert.rejects(client.get(PODS, 'x'), /namespaced: a namespace is required/);
});

test('watch decodes split chunks incrementally and resolves when the server ends the stream', async () => {
  server.splitWrites = true;
  try {
    const events: WatchEvent[] = [];
    const from = server.nextSeq;
    const done = client.watch(
      LEASES,
      { namespace: 'w', resourceVersion: server.resourceVersion, allowWatchBookmarks: true },
      (e) => events.push(e),
    );
    const req = await server.waitForWatch(LEASES, from);
    assert.equal(req.query.get('allowWatchBookmarks'), 'true');
    server.put(LEASES, { metadata: { name: 'l1', namespace: 'w', annotations: { note: 'héllo ✓ 漢字' } } });
    server.put(LEASES, { metadata: { name: 'l1', namespace: 'w', annotations: { note: 'again' } } });
    server.bookmark(LEASES);
    server.endWatches(LEASES);
    await done;
    assert.deepEqual(
      events.map((e) => e.type),
      ['ADDED', 'MODIFIED', 'BOOKMARK'],
    );
    assert.equal(events[0].object.metadata.annotations.note, 'héllo ✓ 漢字');
    assert.equal(events[2].object.metadata.resourceVersion, server.resourceVersion);
  } finally {
    server.splitWrites = false;
  }
});

test('watch reports a malformed line as an error', async () => {
  server.scriptWatch(LEASES, { kind: 'malformed' });
  const events: WatchEvent[] = [];
  await assert.rejects(
    client.watch(LEASES, { resourceVersion: server.resourceVersion }, (e) => events.push(e)),
    WatchDecodeError,
  );
  assert.equal(events.length, 0);
});

test('watch stops on abort with the signal reason, and non-2xx becomes KubeApiError', async () => {
  const ac = new AbortController();
  const from = server.nextSeq;
  const p = client.watch(LEASES, { resourceVersion: server.resourceVersion, signal: ac.signal }, () => {});
  await server.waitForWatch(LEASES, from);
  ac.abort(new Error('enough'));
  await assert.rejects(p, /enough/);
  server.scriptWatch(LEASES, { kind: 'gone-status' });
  await assert.rejects(
    client.watch(LEASES, { resourceVersion: '1' }, () => {}),
    (e: unknown) => {
      assert.ok(e instanceof KubeApiError);
      assert.equal(e.status, 410);
      assert.equal(e.reason, 'Expired');
      return true;
    },
  );
});

test('fromKubeconfig reads server, token and namespace; inCluster reads the service account', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kube-client-'));
  try {
    const kc = join(dir, 'config');
    writeFileSync(
      kc,
      `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "${server.url}" }
users:
- name: u
  user: { token: abc123 }
contexts:
- name: ctx
  context: { cluster: c, user: u, namespace: team-a }
current-context: ctx
`,
    );
    const c1 = KubeClient.fromKubeconfig(kc);
    assert.equal(c1.defaultNamespace, 'team-a');
    await c1.list(NODES);
    assert.equal(server.requests.at(-1)!.headers.authorization, 'Bearer abc123');
    await c1.close();

    writeFileSync(join(dir, 'token'), 'sa-token\n');
    writeFileSync(join(dir, 'namespace'), 'kthena-system');
    writeFileSync(join(dir, 'ca.crt'), '');
    const c2 = KubeClient.inCluster({
      dir,
      env: { KUBERNETES_SERVICE_HOST: '10.0.0.1', KUBERNETES_SERVICE_PORT: '443' },
    });
    assert.equal(c2.server, 'https://10.0.0.1:443');
    assert.equal(c2.defaultNamespace, 'kthena-system');
    await c2.destroy();
    assert.throws(() => KubeClient.inCluster({ dir, env: {} }), /not running in a cluster/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
