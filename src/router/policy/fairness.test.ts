import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import type { RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import { FairQueue, type Waiter } from './fair-queue.js';
import { type Clock, FAIRNESS_DEFAULTS, type FairnessConfig, FairnessStage, fairnessFromEnv } from './fairness.js';
import { setIdentity } from './identity.js';
import { GovernanceMetrics } from './metrics.js';
import { UsageWindow } from './usage-window.js';

class FakeClock implements Clock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now = () => this.t;
  setTimeout = (fn: () => void, ms: number) => {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id as unknown as NodeJS.Timeout;
  };
  clearTimeout = (t: NodeJS.Timeout) => {
    this.timers = this.timers.filter((x) => x.id !== (t as unknown as number));
  };
  advance(ms: number): void {
    const end = this.t + ms;
    for (;;) {
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (!next || next.at > end) break;
      this.timers.shift();
      this.t = next.at;
      next.fn();
    }
    this.t = end;
  }
}

function ctx(user: string, tier = 0, inputTokens = 10): RequestContext & { abort(): void } {
  const ac = new AbortController();
  const c = {
    model: 'm',
    inputTokens,
    stream: false,
    signal: ac.signal,
    tier: 0,
    abort: () => ac.abort(),
  } as unknown as RequestContext & { abort(): void };
  setIdentity(c, user, tier);
  return c;
}

const flush = () => new Promise((r) => setImmediate(r));
const cfg = (o: Partial<FairnessConfig>): FairnessConfig => ({ ...FAIRNESS_DEFAULTS, ...o });

test('usage window: sums the last window, forgets older slots and idle users', () => {
  const w = new UsageWindow(60_000);
  w.add('a', 100, 1, 0);
  w.add('a', 50, 1, 30_000);
  assert.deepEqual(w.get('a', 59_000), { tokens: 150, requests: 2 });
  assert.deepEqual(w.get('a', 61_000), { tokens: 50, requests: 1 });
  assert.deepEqual(w.get('a', 100_000), { tokens: 0, requests: 0 });
  assert.equal(w.size, 0);
  w.add('b', -5, 0, 0);
  assert.equal(w.get('b', 0).tokens, 0, 'never negative');
});

test('fair queue: lower usage first, same user FIFO, tiers first, ties by arrival', () => {
  const usage: Record<string, number> = { heavy: 1000, light: 10 };
  const q = new FairQueue<Waiter & { id: string }>(
    { tokenWeight: 1, requestWeight: 0, agingPerSecond: 0, tierWeight: 1e6 },
    (u) => ({ tokens: usage[u] ?? 0, requests: 0 }),
  );
  let seq = 0;
  const w = (user: string, id: string, tier = 0) => ({ user, id, tier, enqueuedAt: 0, seq: seq++ });
  q.push(w('heavy', 'h1'));
  q.push(w('heavy', 'h2'));
  q.push(w('light', 'l1'));
  q.push(w('light', 'l2'));
  q.push(w('gold', 'g1', 1));
  q.push(w('new', 'n1'));
  const order = [];
  for (let i = 0; i < 6; i++) {
    const x = q.pop(0);
    order.push(x?.id);
    if (x?.user === 'light') usage.light += 600; // usage read at pick time
  }
  assert.deepEqual(order, ['g1', 'n1', 'l1', 'l2', 'h1', 'h2']);
  assert.equal(q.length, 0);
});

test('fair queue: aging lets a long-waiting heavy user overtake newcomers (no starvation)', () => {
  const q = new FairQueue<Waiter>({ tokenWeight: 1, requestWeight: 0, agingPerSecond: 100, tierWeight: 1e6 }, (u) => ({
    tokens: u === 'heavy' ? 5000 : 0,
    requests: 0,
  }));
  q.push({ user: 'heavy', tier: 0, enqueuedAt: 0, seq: 0 });
  q.push({ user: 'light', tier: 0, enqueuedAt: 49_000, seq: 1 });
  assert.equal(q.pop(49_000)?.user, 'light', 'after 49 s the heavy user still scores 100 worse');
  q.push({ user: 'light', tier: 0, enqueuedAt: 51_000, seq: 2 });
  assert.equal(q.pop(51_000)?.user, 'heavy', 'after 50 s of waiting, 5000 tokens of usage are paid off');
  // Even a lower tier is served eventually: 1e6 / 100 per second.
  const tiers = new FairQueue<Waiter>(
    { tokenWeight: 1, requestWeight: 0, agingPerSecond: 100, tierWeight: 1e6 },
    () => ({
      tokens: 0,
      requests: 0,
    }),
  );
  tiers.push({ user: 'free', tier: 0, enqueuedAt: 0, seq: 0 });
  tiers.push({ user: 'gold', tier: 1, enqueuedAt: 10_001_000, seq: 1 });
  assert.equal(tiers.pop(10_001_000)?.user, 'free');
});

test('concurrency mode: at most N in flight per model; release admits the fairest waiter', async () => {
  const clock = new FakeClock();
  const st = new FairnessStage(cfg({ maxConcurrent: 2, agingPerSecond: 0 }), undefined, clock);
  st.usage.add('heavy', 10_000, 10, 0);
  const admitted: string[] = [];
  const go = (c: RequestContext) =>
    st.admit(c).then((r) => {
      admitted.push(c.user as string);
      return r;
    });
  const r1 = go(ctx('heavy'));
  const r2 = go(ctx('heavy'));
  void go(ctx('heavy'));
  void go(ctx('light'));
  await flush();
  assert.deepEqual(admitted, ['heavy', 'heavy']);
  assert.equal(st.queued('m'), 2);
  (await r1)();
  await flush();
  assert.deepEqual(admitted, ['heavy', 'heavy', 'light'], 'light overtakes the queued heavy request');
  (await r2)();
  await flush();
  assert.equal(admitted.length, 4);
  assert.equal(st.inflight('m'), 2);
});

test('QPS mode: one release per 1/QPS on the injected clock', async () => {
  const clock = new FakeClock();
  const st = new FairnessStage(cfg({ maxConcurrent: 0, maxQps: 10 }), undefined, clock);
  let n = 0;
  for (let i = 0; i < 5; i++) void st.admit(ctx(`u${i}`)).then(() => n++);
  await flush();
  assert.equal(n, 1);
  clock.advance(100);
  await flush();
  assert.equal(n, 2);
  clock.advance(250);
  await flush();
  assert.equal(n, 4);
});

test('queue timeout → 504, client gone → removed, neither admitted', async () => {
  const clock = new FakeClock();
  const m = new GovernanceMetrics(new Registry());
  const st = new FairnessStage(cfg({ maxConcurrent: 1, queueTimeoutMs: 1000 }), m, clock);
  const first = await st.admit(ctx('a'));
  const gone = ctx('b');
  const pGone = st.admit(gone).catch((e: RouterError) => e);
  const pLate = st.admit(ctx('c')).catch((e: RouterError) => e);
  await flush();
  gone.abort();
  const eGone = await pGone;
  assert.equal((eGone as RouterError).code, 'queue_cancelled');
  assert.equal(st.queued('m'), 1);
  clock.advance(1000);
  const eLate = (await pLate) as RouterError;
  assert.equal(eLate.status, 504);
  assert.equal(eLate.code, 'queue_timeout');
  assert.equal(st.queued('m'), 0);
  first();
  assert.equal(st.inflight('m'), 0, 'nothing was admitted in their place');
  const text = await (m.queueCancelled as unknown as { get(): Promise<{ values: { value: number }[] }> }).get();
  assert.equal(
    text.values.reduce((s, v) => s + v.value, 0),
    2,
  );
});

test('a client opening 10,000 requests: capped per user, other users keep their share', async () => {
  const clock = new FakeClock();
  const st = new FairnessStage(cfg({ maxConcurrent: 4, maxQueuedPerUser: 1000 }), undefined, clock);
  st.usage.add('flood', 5000, 100, 0); // the flooding user has been busy in this window already
  const releases: (() => void)[] = [];
  const served: string[] = [];
  let rejected = 0;
  for (let i = 0; i < 10_000; i++)
    void st.admit(ctx('flood')).then(
      (r) => {
        served.push('flood');
        releases.push(r);
      },
      (e: RouterError) => {
        assert.equal(e.code, 'queue_full');
        assert.equal(e.status, 429);
        rejected++;
      },
    );
  for (let i = 0; i < 20; i++)
    void st.admit(ctx(`light${i % 4}`)).then((r) => {
      served.push('light');
      releases.push(r);
    });
  await flush();
  assert.equal(rejected, 10_000 - 4 - 1000, 'beyond 4 running + 1000 queued, the flood is turned away');
  // Each release admits the fairest waiter; the flood user has used far more tokens, so the light users go first.
  // (Without prior usage they would interleave once a light user's own usage passes the flood's.)
  for (let i = 0; i < 20; i++) {
    releases.shift()?.();
    await flush();
  }
  const afterFlood = served.slice(4);
  assert.equal(afterFlood.slice(0, 20).filter((s) => s === 'light').length, 20, 'all 20 light requests served next');
});

test('env: upstream variables with clear errors', () => {
  assert.equal(fairnessFromEnv({}), undefined);
  const c = fairnessFromEnv({
    ENABLE_FAIRNESS_SCHEDULING: 'true',
    FAIRNESS_WINDOW_SIZE: '1h',
    FAIRNESS_MAX_CONCURRENT: '8',
    FAIRNESS_QUEUE_TIMEOUT: '30s',
  });
  assert.equal(c?.windowMs, 3_600_000);
  assert.equal(c?.maxConcurrent, 8);
  assert.equal(c?.queueTimeoutMs, 30_000);
  assert.throws(
    () => fairnessFromEnv({ ENABLE_FAIRNESS_SCHEDULING: 'true', FAIRNESS_WINDOW_SIZE: '2h' }),
    /between 1m and 1h/,
  );
  assert.throws(
    () => fairnessFromEnv({ ENABLE_FAIRNESS_SCHEDULING: 'true', FAIRNESS_MAX_CONCURRENT: '-1' }),
    /FAIRNESS_MAX_CONCURRENT/,
  );
  assert.throws(
    () => fairnessFromEnv({ ENABLE_FAIRNESS_SCHEDULING: 'true', FAIRNESS_QUEUE_TIMEOUT: 'soon' }),
    /duration/,
  );
});
