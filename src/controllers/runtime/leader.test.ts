import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ManualClock } from '../../kube/clock.js';
import { FakeClient, FakeInformer } from '../modelserving/fakes.js';
import { LeaderElector } from './leader.js';

const flush = async () => {
  for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
};

test('one leader at a time; a standby takes over once the lease expires', async () => {
  const clock = new ManualClock();
  const client = new FakeClient();
  client.stores.set('leases', new FakeInformer());
  const mk = (identity: string) => {
    const events: string[] = [];
    const ac = new AbortController();
    const state = { dead: false };
    // Each candidate reaches the API through its own "network", which a test can cut.
    const net = <T>(fn: () => Promise<T>) => (state.dead ? Promise.reject(new Error('network down')) : fn());
    const own = {
      get: (r: any, n: string, ns?: string) => net(() => client.get(r, n, ns)),
      create: (r: any, o: unknown, opts?: any) => net(() => client.create(r, o, opts)),
      replace: (r: any, o: unknown, opts?: any) => net(() => client.replace(r, o, opts)),
      delete: (r: any, n: string, ns?: string, opts?: any) => net(() => client.delete(r, n, ns, opts)),
    } as typeof client;
    const e = new LeaderElector({
      client: own,
      namespace: 'kthena-system',
      name: 'lease',
      identity,
      leaseDurationMs: 15_000,
      renewDeadlineMs: 10_000,
      retryPeriodMs: 2_000,
      clock,
      onStartedLeading: () => events.push('start'),
      onStoppedLeading: () => events.push('stop'),
    });
    const run = e.run(ac.signal);
    return { e, events, ac, run, state };
  };
  const a = mk('a');
  await flush();
  const b = mk('b');
  await flush();
  assert.equal(a.e.isLeader(), true);
  assert.equal(b.e.isLeader(), false);
  for (let i = 0; i < 10; i++) {
    clock.advance(2_000);
    await flush();
  }
  assert.equal(b.e.isLeader(), false, 'renewals keep the standby out');
  // the leader dies without releasing the lease
  a.state.dead = true;
  let tookOver = -1;
  for (let i = 1; i <= 14; i++) {
    clock.advance(2_000);
    await flush();
    if (b.e.isLeader() && tookOver < 0) tookOver = i * 2_000;
  }
  // Expiry is measured from when the standby last *saw* the record change (clock-skew safe, as client-go):
  // at most one retry period late to see it, one more to act on it.
  assert.ok(tookOver >= 13_000 && tookOver <= 15_000 + 2 * 2_000, `took over after ${tookOver} ms`);
  assert.equal(a.e.isLeader(), false, 'the old leader stepped down after its renew deadline');
  assert.deepEqual(a.events, ['start', 'stop']);
  assert.deepEqual(b.events, ['start']);
  a.ac.abort();
  b.ac.abort();
  await Promise.all([a.run, b.run]);
  assert.deepEqual(b.events, ['start', 'stop']);
});
