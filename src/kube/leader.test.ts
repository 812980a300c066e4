import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Lease } from 'kubernetes-types/coordination/v1.js';
import { KubeClient } from './client.js';
import { ManualClock } from './clock.js';
import { LeaderElector, type LeaderElectorOptions, microTime } from './leader.js';
import { LEASES } from './resource.js';
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

async function until(cond: () => boolean, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 30_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2));
  }
}

interface Candidate {
  el: LeaderElector;
  ac: AbortController;
  done: Promise<void>;
  events: string[];
  leadingSignal?: AbortSignal;
  ledAt?: number;
  id: string;
}

function candidate(
  name: string,
  identity: string,
  clock: ManualClock,
  extra: Partial<LeaderElectorOptions> = {},
): Candidate {
  const c = { ac: new AbortController(), events: [] as string[], id: identity } as Candidate;
  c.el = new LeaderElector({
    client,
    namespace: 'kthena-system',
    name,
    identity,
    clock,
    random: () => 0,
    onStartedLeading: (signal) => {
      c.events.push('started');
      c.leadingSignal = signal;
      c.ledAt = clock.now();
    },
    onStoppedLeading: () => c.events.push('stopped'),
    ...extra,
  });
  c.done = c.el.run(c.ac.signal);
  return c;
}

const lease = (name: string) => server.get<Lease>(LEASES, 'kthena-system', name)!;

/** Advances the shared clock one retry period at a time, waiting for every live elector to re-arm its timer. */
async function step(clock: ManualClock, ms: number, live: Candidate[]): Promise<void> {
  clock.advance(ms);
  for (const c of live) {
    await until(() => !isRunning(c) || clock.pending().some((t) => t.label.endsWith(`/${c.id}`)), 'elector to re-arm');
  }
}
const finished = new WeakSet<Candidate>();
const isRunning = (c: Candidate) => !finished.has(c);
function track(c: Candidate): Candidate {
  void c.done.then(() => finished.add(c));
  return c;
}

test('microTime has six fractional digits', () => {
  assert.equal(microTime(Date.UTC(2026, 0, 1, 12, 0, 0, 123)), '2026-01-01T12:00:00.123000Z');
});

test('options are validated like client-go', () => {
  const base = { client, namespace: 'n', name: 'l', identity: 'x', onStartedLeading() {}, onStoppedLeading() {} };
  assert.throws(
    () => new LeaderElector({ ...base, leaseDurationMs: 10_000, renewDeadlineMs: 10_000 }),
    /leaseDuration/,
  );
  assert.throws(() => new LeaderElector({ ...base, renewDeadlineMs: 2_000, retryPeriodMs: 2_000 }), /renewDeadline/);
  assert.throws(() => new LeaderElector({ ...base, identity: '' }), /identity/);
});

test('two electors: one leader; a crashed leader is replaced after the lease expires, not before', async () => {
  const clock = new ManualClock();
  const a = track(candidate('crash', 'a', clock, { releaseOnCancel: false }));
  await until(() => a.el.isLeader(), 'a to lead');
  const l0 = lease('crash');
  assert.equal(l0.spec?.holderIdentity, 'a');
  assert.equal(l0.spec?.leaseTransitions, 0);
  assert.equal(l0.spec?.leaseDurationSeconds, 15);
  assert.match(l0.spec?.renewTime ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);

  const b = track(candidate('crash', 'b', clock));
  await until(() => clock.pending('leader-retry/b').length === 1, 'b to wait');
  assert.equal(b.el.isLeader(), false);
  assert.equal(b.el.getLeader(), 'a');
  // Ten rounds: a keeps renewing, b keeps standing by.
  for (let i = 0; i < 10; i++) await step(clock, 2_000, [a, b]);
  assert.equal(a.el.isLeader(), true);
  assert.equal(b.el.isLeader(), false);
  const renewed = lease('crash');
  assert.notEqual(renewed.spec?.renewTime, l0.spec?.renewTime);
  assert.equal(renewed.spec?.acquireTime, l0.spec?.acquireTime, 'renewing keeps acquireTime');

  // a "crashes": it stops renewing and does not release (releaseOnCancel=false).
  const lastRenew = Date.parse(lease('crash').spec!.renewTime!);
  a.ac.abort();
  await a.done;
  assert.deepEqual(a.events, ['started', 'stopped']);
  assert.equal(a.leadingSignal?.aborted, true);
  assert.equal(lease('crash').spec?.holderIdentity, 'a', 'no release on crash');
  while (!b.el.isLeader()) {
    assert.ok(clock.now() - lastRenew < 30_000, 'b never took over');
    await step(clock, 2_000, [b]);
  }
  const took = b.ledAt! - lastRenew;
  assert.ok(took >= 15_000, `b took over ${took} ms after the last renewal, before the lease expired`);
  assert.ok(took <= 15_000 + 2 * 2_000, `b took over only after ${took} ms`);
  const l1 = lease('crash');
  assert.equal(l1.spec?.holderIdentity, 'b');
  assert.equal(l1.spec?.leaseTransitions, 1);
  assert.equal(l1.spec?.acquireTime, microTime(b.ledAt!));
  b.ac.abort();
  await b.done;
});

test('graceful stop releases the lease so the standby takes over at its next retry', async () => {
  const clock = new ManualClock();
  const a = track(candidate('graceful', 'a', clock));
  await until(() => a.el.isLeader(), 'a to lead');
  const b = track(candidate('graceful', 'b', clock));
  await until(() => clock.pending('leader-retry/b').length === 1, 'b to wait');
  await step(clock, 2_000, [a, b]);
  a.ac.abort();
  await a.done;
  assert.equal(lease('graceful').spec?.holderIdentity, '');
  assert.equal(lease('graceful').spec?.leaseDurationSeconds, 1);
  const releasedAt = clock.now();
  await step(clock, 2_000, [b]);
  assert.equal(b.el.isLeader(), true);
  assert.equal(b.ledAt! - releasedAt, 2_000, 'one retry period, not a lease duration');
  assert.equal(lease('graceful').spec?.leaseTransitions, 1);
  b.ac.abort();
  await b.done;
});

test('simultaneous start on an absent lease: exactly one leader', async () => {
  const clock = new ManualClock();
  const cs = ['x', 'y', 'z'].map((id) => track(candidate('race', id, clock)));
  await until(
    () =>
      clock.pending().filter((t) => t.label.startsWith('leader-retry/')).length === 2 &&
      cs.some((c) => c.el.isLeader()),
    'one leader',
  );
  assert.equal(cs.filter((c) => c.el.isLeader()).length, 1);
  for (let i = 0; i < 3; i++) await step(clock, 2_000, cs);
  assert.equal(cs.filter((c) => c.el.isLeader()).length, 1);
  for (const c of cs) c.ac.abort();
  await Promise.all(cs.map((c) => c.done));
});

test('a 409 on renew is retried within the deadline; failing past renewDeadline gives up leadership', async () => {
  const clock = new ManualClock();
  const a = track(candidate('conflict', 'a', clock));
  await until(() => a.el.isLeader(), 'a to lead');
  // Someone else touches the lease (e.g. an admin edit): a's fast-path PUT carries a stale resourceVersion → 409.
  const cur = lease('conflict');
  server.put(LEASES, { ...cur, metadata: { ...cur.metadata, annotations: { touched: 'yes' } } });
  const from = server.nextSeq;
  await step(clock, 2_000, [a]);
  assert.equal(a.el.isLeader(), true);
  const writes = server.requestsWhere((r) => r.seq >= from && r.path.endsWith('/leases/conflict')).map((r) => r.method);
  assert.deepEqual(writes, ['PUT', 'GET', 'PUT'], '409 on the fast path, then re-read and renew');

  // Now the API server fails every request: a must stop leading once renewDeadline has passed.
  server.inject({ path: '/leases/conflict' }, { status: 500, message: 'etcd down' }, 1000);
  const lastOk = clock.now();
  while (a.el.isLeader()) {
    assert.ok(clock.now() - lastOk <= 2_000 + 10_000 + 2_000, 'kept leading past the renew deadline');
    clock.advance(2_000);
    await until(() => clock.pending('leader-renew/a').length === 1 || !a.el.isLeader(), 'renew attempt');
  }
  await a.done;
  assert.deepEqual(a.events, ['started', 'stopped']);
  assert.ok(clock.now() - lastOk >= 10_000, 'gave up before the renew deadline');
  server.clearInjections();
});
