// Rough figures for the informer against the fake API server in the same process (server cost included):
// time to list N objects in pages and sync, and watch-event throughput.
// Run: npx tsx src/kube/testing/measure-informer.ts [objects=10000] [events=10000] [runs=3]
import { KubeClient } from '../client.js';
import { Informer } from '../informer.js';
import { PODS } from '../resource.js';
import { FakeApiServer } from './fake-apiserver.js';

const objects = Number(process.argv[2] ?? 10_000);
const events = Number(process.argv[3] ?? 10_000);
const runs = Number(process.argv[4] ?? 3);

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function once(run: number): Promise<{ syncMs: number; eventsPerSec: number }> {
  const server = await FakeApiServer.start();
  const client = new KubeClient({ server: server.url });
  const ns = `m${run}`;
  for (let i = 0; i < objects; i++) {
    server.put(PODS, {
      metadata: { name: `p${i}`, namespace: ns, labels: { app: 'x' } },
      spec: { nodeName: `n${i % 50}` },
    } as never);
  }
  const inf = new Informer(client, PODS, { namespace: ns, pageSize: 500 });
  let seen = 0;
  inf.on('update', () => {
    seen++;
  });
  const t0 = performance.now();
  inf.start();
  await inf.waitForSync();
  const syncMs = performance.now() - t0;
  await server.waitForWatch(PODS);
  const t1 = performance.now();
  for (let i = 0; i < events; i++) {
    server.put(PODS, {
      metadata: { name: `p${i % objects}`, namespace: ns, labels: { app: 'y', i: String(i) } },
    } as never);
  }
  while (seen < events) await new Promise((r) => setTimeout(r, 1));
  const eventsPerSec = events / ((performance.now() - t1) / 1000);
  await inf.stop();
  await client.destroy();
  await server.close();
  return { syncMs, eventsPerSec };
}

const results = [];
for (let r = 0; r < runs; r++) results.push(await once(r));
console.log(
  JSON.stringify(
    {
      node: process.version,
      objects,
      events,
      runs,
      medianSyncMs: Math.round(median(results.map((x) => x.syncMs))),
      medianEventsPerSec: Math.round(median(results.map((x) => x.eventsPerSec))),
      all: results.map((x) => ({ syncMs: Math.round(x.syncMs), eventsPerSec: Math.round(x.eventsPerSec) })),
    },
    null,
    2,
  ),
);
