import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { KubeClient } from './client.js';
import { ManualClock } from './clock.js';
import { EventRecorder, recordEvent } from './events.js';
import { EVENTS } from './resource.js';
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

const pod = (ns: string, name: string) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: ns, uid: `uid-${name}`, resourceVersion: '7' },
});

test('first occurrence creates an Event describing the object', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const rec = new EventRecorder(client, { component: 'kthena-scheduler', host: 'node-1', clock });
  await rec.record(pod('ev1', 'p'), 'Normal', 'Scheduled', 'Successfully assigned ev1/p to node-1');
  const [ev] = server.list<any>(EVENTS, 'ev1');
  assert.match(ev.metadata.name, /^p\.[0-9a-f]+$/);
  assert.deepEqual(ev.involvedObject, {
    kind: 'Pod',
    apiVersion: 'v1',
    namespace: 'ev1',
    name: 'p',
    uid: 'uid-p',
    resourceVersion: '7',
  });
  assert.equal(ev.type, 'Normal');
  assert.equal(ev.reason, 'Scheduled');
  assert.equal(ev.count, 1);
  assert.deepEqual(ev.source, { component: 'kthena-scheduler', host: 'node-1' });
  assert.equal(ev.firstTimestamp, '2026-01-01T12:00:00Z');
  assert.equal(ev.lastTimestamp, '2026-01-01T12:00:00Z');
});

test('repeats are aggregated into one Event by count; a different message is a new Event', async () => {
  const clock = new ManualClock(Date.UTC(2026, 0, 1, 12, 0, 0));
  const rec = new EventRecorder(client, { component: 'c', clock });
  await rec.record(pod('ev2', 'p'), 'Warning', 'FailedScheduling', '0/3 nodes are available');
  clock.advance(5_000);
  // Concurrent repeats are serialised: still one Event.
  await Promise.all([
    rec.record(pod('ev2', 'p'), 'Warning', 'FailedScheduling', '0/3 nodes are available'),
    rec.record(pod('ev2', 'p'), 'Warning', 'FailedScheduling', '0/3 nodes are available'),
  ]);
  await rec.record(pod('ev2', 'p'), 'Warning', 'FailedScheduling', '0/4 nodes are available');
  const evs = server.list<any>(EVENTS, 'ev2');
  assert.equal(evs.length, 2);
  const agg = evs.find((e) => e.message === '0/3 nodes are available');
  assert.equal(agg.count, 3);
  assert.equal(agg.firstTimestamp, '2026-01-01T12:00:00Z');
  assert.equal(agg.lastTimestamp, '2026-01-01T12:00:05Z');
  const patches = server.requestsWhere((r) => r.method === 'PATCH' && r.path.includes('/namespaces/ev2/events/'));
  assert.equal(patches.length, 2);
  assert.equal(patches[0].headers['content-type'], 'application/merge-patch+json');
});

test('an aggregated Event that disappeared is created again; API failures never throw', async () => {
  const rec = new EventRecorder(client, { component: 'c', clock: new ManualClock() });
  await rec.record(pod('ev3', 'p'), 'Normal', 'Pulled', 'image ok');
  const first = server.list<any>(EVENTS, 'ev3')[0];
  server.remove(EVENTS, 'ev3', first.metadata.name);
  await rec.record(pod('ev3', 'p'), 'Normal', 'Pulled', 'image ok');
  const again = server.list<any>(EVENTS, 'ev3');
  assert.equal(again.length, 1);
  assert.equal(again[0].count, 1);
  server.inject({ path: '/namespaces/ev3/events' }, { status: 500, message: 'down' }, 2);
  await rec.record(pod('ev3', 'p'), 'Normal', 'Pulled', 'image ok');
  await rec.record(pod('ev3', 'q'), 'Normal', 'Pulled', 'image ok');
});

test('recordEvent uses one recorder per client; object references and cluster objects work', async () => {
  await recordEvent(client, { kind: 'Node', name: 'n1', uid: 'u1' }, 'Normal', 'NodeReady', 'ready');
  await recordEvent(client, { kind: 'Node', name: 'n1', uid: 'u1' }, 'Normal', 'NodeReady', 'ready');
  const evs = server.list<any>(EVENTS, 'default');
  assert.equal(evs.length, 1);
  assert.equal(evs[0].count, 2);
  assert.equal(evs[0].source.component, 'kthena');
});
