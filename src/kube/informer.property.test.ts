// Property: whatever the server does — changes, dropped connections, compaction (410), bookmarks, clean ends, in any
// order and at any moment of the informer's life — the informer's cache, and the state its handlers have been told
// about, converge to the server's final state.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { KubeClient } from './client.js';
import { ManualClock } from './clock.js';
import { Informer } from './informer.js';
import { type KubeObject, PODS } from './resource.js';
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

type Cmd =
  | { op: 'put'; name: string; v: number }
  | { op: 'remove'; name: string }
  | { op: 'drop' }
  | { op: 'gone' }
  | { op: 'bookmark' }
  | { op: 'end' }
  | { op: 'settle' };

const names = ['a', 'b', 'c'];
const cmd: fc.Arbitrary<Cmd> = fc.oneof(
  {
    weight: 5,
    arbitrary: fc.record({ op: fc.constant('put' as const), name: fc.constantFrom(...names), v: fc.nat(99) }),
  },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('remove' as const), name: fc.constantFrom(...names) }) },
  { weight: 2, arbitrary: fc.constant({ op: 'drop' as const }) },
  { weight: 2, arbitrary: fc.constant({ op: 'gone' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'bookmark' as const }) },
  { weight: 1, arbitrary: fc.constant({ op: 'end' as const }) },
  { weight: 3, arbitrary: fc.constant({ op: 'settle' as const }) },
);

let run = 0;

test('informer cache converges to the server state under random events, drops and 410s', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(cmd, { minLength: 1, maxLength: 20 }), async (cmds) => {
      const ns = `prop-${run++}`;
      const clock = new ManualClock();
      const inf = new Informer(client, PODS, { namespace: ns, clock, random: () => 0.5, pageSize: 2 });
      const told = new Map<string, string>(); // what handlers were told: name → resourceVersion
      const rvOf = (o: KubeObject) => o.metadata!.resourceVersion!;
      inf.on('add', (o) => {
        assert.equal(told.has(o.metadata!.name!), false, `add of known ${o.metadata!.name}`);
        told.set(o.metadata!.name!, rvOf(o));
      });
      inf.on('update', (old, o) => {
        assert.equal(told.get(o.metadata!.name!), rvOf(old), `update of ${o.metadata!.name} from a stale state`);
        told.set(o.metadata!.name!, rvOf(o));
      });
      inf.on('delete', (o) => {
        assert.equal(told.has(o.metadata!.name!), true, `delete of unknown ${o.metadata!.name}`);
        told.delete(o.metadata!.name!);
      });

      const serverState = () => new Map(server.list(PODS, ns).map((o) => [o.metadata!.name!, rvOf(o)]));
      const cacheState = () => new Map(inf.list(ns).map((o) => [o.metadata!.name!, rvOf(o)]));
      const same = (a: Map<string, string>, b: Map<string, string>) =>
        a.size === b.size && [...a].every(([k, v]) => b.get(k) === v);
      const settle = async () => {
        const start = Date.now();
        for (;;) {
          const backoff = clock.pending('informer-backoff')[0];
          if (!backoff && server.openWatches(PODS, ns) === 1 && same(cacheState(), serverState())) return;
          if (Date.now() - start > 15_000) throw new Error(`did not converge: ${JSON.stringify(cmds)}`);
          if (backoff) clock.advanceTo(backoff.due);
          await new Promise((r) => setTimeout(r, 1));
        }
      };

      // Objects exist before the informer starts, so removals and updates have something to act on.
      for (const n of names) server.put(PODS, { metadata: { name: n, namespace: ns } });
      inf.start();
      try {
        for (const c of cmds) {
          switch (c.op) {
            case 'put':
              server.put(PODS, { metadata: { name: c.name, namespace: ns, labels: { v: String(c.v) } } });
              break;
            case 'remove':
              server.remove(PODS, ns, c.name);
              break;
            case 'drop':
              server.dropWatches(PODS);
              break;
            case 'gone':
              server.compact();
              server.dropWatches(PODS);
              break;
            case 'bookmark':
              server.bookmark(PODS);
              break;
            case 'end':
              server.endWatches(PODS);
              break;
            case 'settle':
              await settle();
              break;
          }
          // Let I/O interleave with the next command at varying points.
          await new Promise((r) => setImmediate(r));
        }
        await settle();
        assert.deepEqual(cacheState(), serverState());
        assert.deepEqual(told, serverState(), 'handlers saw every change');
      } finally {
        await inf.stop();
      }
    }),
    { numRuns: 40, endOnFailure: true }, // no shrinking: each failing run waits for the guard,
  );
});
