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

/** The first watch of this test's namespace with seq ≥ fromSeq (requests of other namespaces never match). */
const watchOf = (ns: string, fromSeq: number) =>
  server.waitForRequest((r) => r.watch && r.path === `/api/v1/namespaces/${ns}/pods`, fromSeq);
const listsOf = (ns: string) => server.requestsWhere((r) => !r.watch && r.path === `/api/v1/namespaces/${ns}/pods`);

/**
 * Resolves when `cond` holds, polling on a short real tick (it waits for I/O; no assertion depends on elapsed time).
 * The 30 s guard only turns a hang into a readable failure.
 */
async function until(cond: () => boolean, what: string | (() => string) = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 30_000) throw new Error(`gave up waiting for ${typeof what === 'string' ? what : what()}`);
    await new Promise((r) => setTimeout(r, 2));
  }
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

  const w = await watchOf(ns, from);
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
  const w1 = await watchOf(ns, from);
  // Unrelated writes elsewhere move the global resourceVersion; then the server bookmarks it.
  server.put(PODS, pod('elsewhere', 'z'));
  server.put(PODS, pod('elsewhere', 'z'));
  const bookmarkRv = server.resourceVersion;
  assert.notEqual(bookmarkRv, w1.query.get('resourceVersion'));
  server.bookmark(PODS);
  await until(() => inf.resourceVersion === bookmarkRv);
  server.endWatches(PODS);
  const w2 = await watchOf(ns, w1.seq + 1);
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
  const w1 = await watchOf(ns, from);
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
  const w2 = await watchOf(ns, w1.seq + 1);
  assert.equal(w2.query.get('resourceVersion'), rvAfterA);
  await until(() => log.length === 2);
  assert.deepEqual(log, ['add a', 'add b']);
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 1, 'no relist');
  await inf.stop();
});

for (const how of ['gone-event', 'gone-status'] as const) {
  test(`410 (${how}) → relist; objects gone while disconnected produce deletes`, async () => {
    const ns = `inf-410-${how}`;
    server.put(PODS, pod(ns, 'keep'));
    server.put(PODS, pod(ns, 'vanish'));
    server.put(PODS, pod(ns, 'change'));
    const { inf, log, clock } = setup(ns);
    const from = server.nextSeq;
    inf.start();
    await inf.waitForSync();
    const w1 = await watchOf(ns, from);
    log.length = 0;
    // While the informer is disconnected, the server changes state and compacts its history.
    server.dropWatches(PODS);
    server.remove(PODS, ns, 'vanish');
    server.put(PODS, { ...pod(ns, 'change'), spec: { nodeName: 'n2' } });
    server.put(PODS, pod(ns, 'new'));
    if (how === 'gone-event') server.compact();
    else server.scriptWatchIn(PODS, ns, { kind: 'gone-status' });
    await clock.fireNext('informer-backoff');
    // The resumed watch is refused with 410; the informer relists at once (no backoff) …
    const relist = await server.waitForRequest((r) => !r.watch && r.path.endsWith(`/${ns}/pods`), w1.seq + 1);
    const w2 = await watchOf(ns, relist.seq);
    assert.equal(w2.query.get('resourceVersion'), inf.resourceVersion);
    // … and the relist diff converges the cache, with events for every difference.
    assert.deepEqual(
      log.slice().sort(),
      ['add new', 'delete vanish', log.find((l) => l.startsWith('update change'))].sort(),
    );
    assert.equal(log.filter((l) => l.startsWith('update')).length, 1, 'unchanged objects emit nothing');
    assert.deepEqual(
      inf
        .list()
        .map((p) => p.metadata!.name)
        .sort(),
      ['change', 'keep', 'new'],
    );
    assert.equal(inf.get(ns, 'change')!.spec!.nodeName, 'n2');
    await inf.stop();
  });
}

test('a silent stream is aborted by the watchdog and the watch reconnects; bookmarks count as activity', async () => {
  const ns = 'inf-silent';
  const { inf, clock, errors } = setup(ns, { idleTimeoutMs: 60_000 });
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  const w1 = await watchOf(ns, from);
  // Bookmarks keep a quiet watch alive: 50 s of quiet, a bookmark, 50 s more → no reconnect.
  clock.advance(50_000);
  const rvBefore = inf.resourceVersion;
  server.put(PODS, pod('other-ns', 'x'));
  server.bookmark(PODS);
  await until(() => inf.resourceVersion !== rvBefore);
  clock.advance(50_000);
  assert.equal(errors.length, 0);
  assert.equal(server.requestsWhere((r) => r.watch && r.seq > w1.seq && r.path.includes(ns)).length, 0);

  // Now the next watch is a dead one: headers, then nothing.
  server.scriptWatchIn(PODS, ns, { kind: 'silent' });
  server.endWatches(PODS);
  const w2 = await watchOf(ns, w1.seq + 1);
  server.put(PODS, pod(ns, 'missed-while-silent'));
  clock.advance(59_999);
  assert.equal(errors.length, 0);
  clock.advance(1);
  await until(() => errors.length === 1);
  assert.equal(errors[0].name, 'WatchIdleTimeout');
  // Reconnects at once from the last resourceVersion and catches up.
  const w3 = await watchOf(ns, w2.seq + 1);
  assert.equal(w3.query.get('resourceVersion'), w2.query.get('resourceVersion'));
  await until(() => inf.get(ns, 'missed-while-silent') !== undefined);
  await inf.stop();
});

test('a malformed line is reported and causes a relist, never a silent drop', async () => {
  const ns = 'inf-malformed';
  const { inf, clock, errors, log } = setup(ns);
  server.scriptWatchIn(PODS, ns, { kind: 'malformed', line: '{"type":"ADDED","object":{"metadata":{"name":"half' });
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  await until(() => errors.length === 1);
  assert.equal(errors[0].name, 'WatchDecodeError');
  server.put(PODS, pod(ns, 'after'));
  await clock.fireNext('informer-backoff');
  await until(() => log.includes('add after'));
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 2, 'relisted after the bad line');
  await inf.stop();
});

test('an ERROR event other than 410 relists after backoff; a watch with no events backs off', async () => {
  const ns = 'inf-error-event';
  const { inf, clock, errors } = setup(ns);
  server.inject(
    { watch: true, path: `/${ns}/pods` },
    {
      status: 200,
      body: '{"type":"ERROR","object":{"kind":"Status","code":500,"reason":"InternalError","message":"boom"}}\n',
    },
  );
  const from = server.nextSeq;
  inf.start();
  await until(() => errors.length === 1);
  assert.match(errors[0].message, /500 InternalError: boom/);
  await clock.fireNext('informer-backoff');
  await until(() => listsOf(ns).filter((r) => r.seq >= from).length === 2);
  const w = await watchOf(ns, listsOf(ns).at(-1)!.seq);
  // The server ends the watch without sending anything: a "short watch" → error + backoff, then re-watch (no relist).
  server.endWatches(PODS);
  await until(
    () => errors.length === 2,
    () =>
      `short-watch error; errors=${errors.map((e) => e.message)} reqs=${JSON.stringify(server.requests.slice(from).map((r) => [r.seq, r.method, r.path, r.watch]))}`,
  );
  assert.equal((errors[1] as { reason?: string }).reason, 'ShortWatch');
  await clock.fireNext('informer-backoff');
  await watchOf(ns, w.seq + 1);
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 2);
  await inf.stop();
});

test('backoff grows while the server keeps failing, and list errors do not mark the cache synced', async () => {
  const ns = 'inf-backoff';
  const { inf, clock } = setup(ns, { backoff: { initialMs: 100, maxMs: 1000 } });
  server.inject({ method: 'GET', path: `/${ns}/pods` }, { status: 500, message: 'down' }, 5);
  inf.start();
  const waits: number[] = [];
  for (let i = 0; i < 5; i++) {
    const t = await clock.waitForTimer('informer-backoff');
    waits.push(t.due - clock.now());
    clock.advanceTo(t.due);
    assert.equal(inf.hasSynced(), false);
  }
  // random() = 0.5, jitter 1.0: base·1.5 with base 100, 200, 400, 800, 1000 (capped).
  assert.deepEqual(waits, [150, 300, 600, 1000, 1000]);
  await inf.waitForSync();
  // stop() right after sync, while the first watch is being opened, must still end everything.
  await inf.stop();
  assert.deepEqual(clock.pending(), []);
});

test('resync re-emits update for every cached object; handler exceptions never stop the informer', async () => {
  const ns = 'inf-resync';
  server.put(PODS, pod(ns, 'r1'));
  server.put(PODS, pod(ns, 'r2'));
  const { inf, clock, log } = setup(ns, { resyncMs: 30_000 });
  let thrown = 0;
  inf.on('add', () => {
    thrown++;
    throw new Error('handler bug');
  });
  inf.on('update', () => Promise.reject(new Error('async handler bug')));
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  assert.equal(thrown, 2);
  await watchOf(ns, from);
  log.length = 0;
  clock.advance(30_000);
  assert.deepEqual(log.sort(), [
    `update r1 ${inf.get(ns, 'r1')!.metadata!.resourceVersion}->${inf.get(ns, 'r1')!.metadata!.resourceVersion}`,
    `update r2 ${inf.get(ns, 'r2')!.metadata!.resourceVersion}->${inf.get(ns, 'r2')!.metadata!.resourceVersion}`,
  ]);
  clock.advance(30_000);
  assert.equal(log.length, 4, 'resync repeats');
  server.put(PODS, pod(ns, 'r3'));
  await until(() => inf.get(ns, 'r3') !== undefined);
  assert.equal(thrown, 3);
  await inf.stop();
  assert.equal(clock.pending('informer-resync').length, 0, 'stop clears the resync timer');
});

test('waitForSync honours its signal, and stop() before sync rejects waiters', async () => {
  const ns = 'inf-nosync';
  const { inf } = setup(ns);
  server.inject({ method: 'GET', path: `/${ns}/pods` }, { status: 500 }, 1);
  inf.start();
  const ac = new AbortController();
  const aborted = inf.waitForSync(ac.signal);
  ac.abort(new Error('gave up'));
  await assert.rejects(aborted, /gave up/);
  const waiting = inf.waitForSync();
  await inf.stop();
  await assert.rejects(waiting, /stopped before it synced/);
});

test('repeated 410s straight after relisting back off instead of spinning', async () => {
  const ns = 'inf-410-spin';
  const { inf, clock } = setup(ns);
  server.scriptWatchIn(PODS, ns, { kind: 'gone-status' }, { kind: 'gone-status' }, { kind: 'gone-event' });
  const from = server.nextSeq;
  inf.start();
  await inf.waitForSync();
  // list → 410 → relist at once → 410 again with no event in between → backoff.
  const t = await clock.waitForTimer('informer-backoff');
  const wait1 = t.due - clock.now();
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 2);
  clock.advanceTo(t.due);
  // … and again after the next relist (this time the 410 arrives as an ERROR event).
  const t2 = await clock.waitForTimer('informer-backoff');
  const wait2 = t2.due - clock.now();
  assert.equal(listsOf(ns).filter((r) => r.seq >= from).length, 3);
  assert.deepEqual([wait1, wait2], [1200, 2400], 'backoff keeps growing (800·1.5, 1600·1.5)');
  clock.advanceTo(t2.due);
  const lastList = await server.waitForRequest((r) => !r.watch && r.path.endsWith(`/${ns}/pods`), from + 6);
  const w = await watchOf(ns, lastList.seq);
  assert.equal(w.query.get('resourceVersion'), inf.resourceVersion);
  await inf.stop();
});

test('a restarted informer resyncs again', async () => {
  const ns = 'inf-restart';
  server.put(PODS, pod(ns, 'r'));
  const { inf, clock, log } = setup(ns, { resyncMs: 10_000 });
  inf.start();
  await inf.waitForSync();
  await inf.stop();
  assert.equal(clock.pending('informer-resync').length, 0);
  inf.start();
  assert.equal(clock.pending('informer-resync').length, 1);
  log.length = 0;
  clock.advance(10_000);
  assert.equal(log.length, 1);
  await inf.stop();
});
