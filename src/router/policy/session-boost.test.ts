// Upstream's session boost as an option of the fairness queue: the next turn of a conversation that just completed
// goes ahead of requests that arrived earlier.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { RequestContext } from '../request/context.js';
import { type Clock, FAIRNESS_DEFAULTS, type FairnessConfig, FairnessStage, fairnessFromEnv } from './fairness.js';
import { setIdentity } from './identity.js';
import { GovernanceMetrics } from './metrics.js';

const clock: Clock = {
  now: () => 0,
  setTimeout: () => 0 as unknown as NodeJS.Timeout,
  clearTimeout: () => undefined,
};

function ctx(user: string, session?: string): RequestContext {
  const c = {
    model: 'm',
    inputTokens: 10,
    stream: false,
    headers: session ? { 'x-session-id': session } : {},
    signal: new AbortController().signal,
    tier: 0,
  } as unknown as RequestContext;
  setIdentity(c, user, 0);
  return c;
}

const flush = () => new Promise((r) => setImmediate(r));
const done = { status: 200, ok: true, aborted: false };

async function order(boost: FairnessConfig['sessionBoost'], metrics?: GovernanceMetrics): Promise<string[]> {
  const st = new FairnessStage(
    { ...FAIRNESS_DEFAULTS, maxConcurrent: 1, agingPerSecond: 0, sessionBoost: boost },
    metrics,
    clock,
  );
  // alice's conversation c1 has one turn done.
  const first = ctx('alice', 'c1');
  const r0 = await st.admit(first);
  st.onResponseDone(first, done);
  const served: string[] = [];
  const releases: (() => void)[] = [];
  for (const [u, s] of [
    ['bob', 'b1'],
    ['carol', undefined],
    ['alice', 'c1'],
  ] as const)
    void st.admit(ctx(u, s)).then((r) => {
      served.push(u);
      releases.push(r);
    });
  r0();
  for (let i = 0; i < 3; i++) {
    await flush();
    releases.shift()?.();
  }
  await flush();
  return served;
}

test('session boost: a conversation follow-up overtakes earlier arrivals; off, arrival order among equals', async () => {
  assert.deepEqual(await order({ header: 'x-session-id', weight: 1_000_000, maxSessions: 10, ttlMs: 60_000 }), [
    'alice',
    'bob',
    'carol',
  ]);
  // alice used tokens for the first turn, so without the boost she goes after the others.
  assert.deepEqual(await order(undefined), ['bob', 'carol', 'alice']);
});

test("session boost: upstream's session_boost_queue metrics count the boosted requests", async () => {
  const registry = new Registry();
  await order(
    { header: 'x-session-id', weight: 1_000_000, maxSessions: 10, ttlMs: 60_000 },
    new GovernanceMetrics(registry),
  );
  const value = async (name: string) =>
    (await registry.getSingleMetric(name)!.get()).values.reduce((a, v) => a + v.value, 0);
  assert.equal(await value('kthena_router_session_boost_queue_dequeue_total'), 1, "alice's follow-up");
  const waits = (await registry.getSingleMetric('kthena_router_session_boost_queue_duration_seconds')!.get()).values;
  assert.equal(waits.find((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))?.value, 1);
  assert.equal(await value('kthena_router_session_boost_queue_size'), 0);
  assert.equal(await value('kthena_router_session_boost_queue_inflight'), 0);
  assert.equal(await value('kthena_router_session_boost_queue_cancelled_total'), 0);
  assert.equal(await value('kthena_router_fairness_queue_priority_refresh_total'), 4, 'one pick per admitted request');
});

test('session boost env: upstream variable names, clear errors', () => {
  const base = { ENABLE_FAIRNESS_SCHEDULING: 'true', ENABLE_SESSION_BOOST: 'true' };
  assert.deepEqual(
    fairnessFromEnv({ ...base, SESSION_BOOST_HEADER: 'X-Conv', SESSION_BOOST_MAX_SESSIONS: '8' })!.sessionBoost,
    {
      header: 'x-conv',
      weight: 1_000_000,
      maxSessions: 8,
      ttlMs: 600_000,
    },
  );
  assert.equal(fairnessFromEnv({ ENABLE_FAIRNESS_SCHEDULING: 'true' })!.sessionBoost, undefined);
  assert.throws(() => fairnessFromEnv({ ...base, SESSION_BOOST_HEADER: 'bad header' }), /SESSION_BOOST_HEADER/);
  assert.throws(() => fairnessFromEnv({ ...base, SESSION_BOOST_MAX_SESSIONS: '0' }), /SESSION_BOOST_MAX_SESSIONS/);
});
