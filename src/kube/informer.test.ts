import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeClient } from './client.js';
import { ManualClock } from './clock.js';
import { Informer, type InformerOptions } from './informer.js';
import type { KubeObject } from './resource.js';
import { PODS } from './resource.js';
import { FakeApiServer } from './testing/fake-apiserver.js';

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

interface Pod extends KubeObject {
  spec?: { nodeName?: string };
}

/** One informer per test, on its own namespace so tests sharing the server do not see each other. */
function setup(ns: string, opts: InformerOptions<Pod> = {}) {
  const clock = new ManualClock();
  const inf = new Informer<Pod>(client, PODS, { namespace: ns, clock, random: () => 0.5, ...opts });
  const log: string[] = [];
  const errors: Error[] = [];
  inf.on('add', (o) => log.push(`add ${o.metadata!.name}`));
  inf.on('update', (a, b) =>
    log.push(`update ${a.metadata!.name} ${a.metadata!.resourceVersion}->${b.metadata!.resourceVersion}`),
  );
  inf.on('delete', (o) => log.push(`delete ${o.metadata!.name}`));
  inf.on('error', (e) => errors.push(e));
  return { clock, inf, log, errors };
}

const pod = (ns: string, name: string, nodeName?: string): Pod => ({
  metadata: { name, namespace: ns },
  spec: nodeName ? { nodeName } : {},
});

const listsOf = (ns: string) => server.requestsWhere((r) => !r.watch && r.path === `/api/v1/namespaces/${ns}/pods`);

/** Resolves when `cond` holds (polled on a short real tick: waits for I/O, never a timing assertion). */
async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 2));
}

test('initial paginated list fills the cache, then watch events update it in order', async () => {
  const ns = 'inf-basic';
  for (let i = 0; i < 5; i++) server.put(PODS, pod(ns, `p${i}`, i % 2 ? 'n1' : 'n2'));
  const { inf, log } = setup(ns, {
    pageSize: 2,
    indexers: { node: (p) => (p.spec?.nodeName ? [p.spec.nodeName] : []) },
  });
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  assert.equal(inf.hasSynced(), true);
  assert.deepEqual(
    inf
      .list(ns)
      .map((p) => p.metadata!.name)
      .sort(),
    ['p0', 'p1', 'p2', 'p3', 'p4'],
  );
  const lists = listsOf(ns).filter((r) => r.seq >= from);
  assert.equal(lists.length, 3, 'five items in pages of two');
  assert.equal(lists[0].query.get('limit'), '2');
  assert.equal(lists[1].query.get('continue') !== null, true);
  assert.deepEqual(
    inf
      .byIndex('node', 'n1')
      .map((p) => p.metadata!.name)
      .sort(),
    ['p1', 'p3'],
  );

  const w = await server.waitForWatch(PODS, from);
  assert.equal(w.query.get('resourceVersion'), inf.resourceVersion);
  assert.equal(w.query.get('allowWatchBookmarks'), 'true');
  // timeoutSeconds is randomised in [300, 600); random() = 0.5 here.
  assert.equal(w.query.get('timeoutSeconds'), '450');

  log.length = 0;
  server.put(PODS, pod(ns, 'p5', 'n1'));
  const moved = server.put(PODS, pod(ns, 'p1', 'n9'));
  server.remove(PODS, ns, 'p0');
  await until(() => log.length === 3);
  assert.deepEqual(log.slice(0, 1), ['add p5']);
  assert.match(log[1], /^update p1 \d+->\d+$/);
  assert.equal(log[2], 'delete p0');
  assert.equal(inf.get(ns, 'p1')!.metadata!.resourceVersion, moved.metadata!.resourceVersion);
  assert.equal(inf.get(ns, 'p0'), undefined);
  assert.deepEqual(
    inf
      .byIndex('node', 'n1')
      .map((p) => p.metadata!.name)
      .sort(),
    ['p3', 'p5'],
  );
  assert.deepEqual(
    inf.byIndex('node', 'n9').map((p) => p.metadata!.name),
    ['p1'],
  );
  await inf.stop();
  await until(() => server.openWatches(PODS) === 0); // stop() closed the connection
});

test('a bookmark moves the resume point: the next watch carries its resourceVersion', async () => {
  const ns = 'inf-bookmark';
  server.put(PODS, pod(ns, 'a'));
  const { inf } = setup(ns);
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  const w1 = await server.waitForWatch(PODS, from);
  // Unrelated writes elsewhere move the global resourceVersion; then the server bookmarks it.
  server.put(PODS, pod('elsewhere', 'z'));
  server.put(PODS, pod('elsewhere', 'z'));
  const bookmarkRv = server.resourceVersion;
  assert.notEqual(bookmarkRv, w1.query.get('resourceVersion'));
  server.bookmark(PODS);
  await until(() => inf.resourceVersion === bookmarkRv);
  server.endWatches(PODS);
  const w2 = await server.waitForWatch(PODS, w1.seq + 1);
  assert.equal(w2.query.get('resourceVersion'), bookmarkRv);
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 1, 'no relist');
  await inf.stop();
});

test('a dropped connection resumes the watch from the last resourceVersion without relisting', async () => {
  const ns = 'inf-drop';
  const { inf, log, clock } = setup(ns);
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  const w1 = await server.waitForWatch(PODS, from);
  server.put(PODS, pod(ns, 'a'));
  await until(() => log.length === 1);
  const rvAfterA = inf.resourceVersion;
  server.dropWatches(PODS);
  // Changes while disconnected are replayed from the server's history on resume.
  server.put(PODS, pod(ns, 'b'));
  // The drop is an error: the informer backs off (on its clock) before reconnecting.
  const t = await clock.waitForTimer('informer-backoff');
  assert.ok(t.due - clock.now() >= 800 && t.due - clock.now() <= 1600, `backoff ${t.due - clock.now()}`);
  clock.advanceTo(t.due);
  const w2 = await server.waitForWatch(PODS, w1.seq + 1);
  assert.equal(w2.query.get('resourceVersion'), rvAfterA);
  await until(() => log.length === 2);
  assert.deepEqual(log, ['add a', 'add b']);
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 1, 'no relist');
  await inf.stop();
});
