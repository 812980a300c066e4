// Failover against real simulated engines: an engine that errors, hangs, or dies mid-run, and a client abort that
// must free the engine slot. No request that had not started streaming may be lost.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { metricSum } from '../../src/router/testing/harness.js';
import { bootExample } from './router-helpers.js';

const msg = [{ role: 'user' as const, content: 'Tell me something long' }];
// A shorter per-attempt timeout so a hung engine is failed over sooner in tests; not so short that a healthy engine
// on a loaded 2-core machine misses it (1 s did: all four attempts failed, two of them on the healthy engine).
const patch = (t: string) => t.replace('timeout: 5s', 'timeout: 3s');

test('an engine answering 500, or hanging, is failed over; every request succeeds', async () => {
  const b = await bootExample('shapes/traffic-policy.yaml', { replicas: 2, patch });
  try {
    const [e0] = b.engines.get('resilient-pool')!;
    for (const mode of ['error', 'hang'] as const) {
      e0.engine.setFault({ mode, status: 500 });
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, () =>
          b.client.chat.completions.create({ model: 'resilient', messages: msg, max_tokens: 4 }),
        ),
      );
      assert.deepEqual(
        results.filter((r) => r.status === 'rejected').map((r) => String((r as PromiseRejectedResult).reason)),
        [],
        `${mode}: no request lost`,
      );
      e0.engine.setFault(null);
    }
    const st = b.h.router.store.endpointStates();
    for (let i = 0; i < 300 && st.some((s) => s.inflight !== 0); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      st.map((s) => s.inflight),
      [0, 0],
    );
  } finally {
    await b.close();
  }
});

test('an engine dying mid-run: requests waiting on it fail over; streams that had not started all succeed elsewhere', async () => {
  const b = await bootExample('shapes/traffic-policy.yaml', { replicas: 2, patch });
  try {
    const [e0] = b.engines.get('resilient-pool')!;
    const e0State = () => b.h.router.store.endpointStates().find((s) => s.origin.endsWith(`:${e0.port}`))!;
    const outcomes: { started: boolean; ok: boolean }[] = [];
    const one = async () => {
      let started = false;
      try {
        const s = await b.client.chat.completions.create({
          model: 'resilient',
          messages: msg,
          max_tokens: 40,
          stream: true,
        });
        for await (const c of s) if (c.choices.length) started = true;
        outcomes.push({ started, ok: true });
      } catch {
        outcomes.push({ started, ok: false });
      }
    };
    // The engine holds what it gets without answering, so requests are surely waiting on it when it dies.
    e0.engine.setFault({ mode: 'hang' });
    const load = Promise.all(
      Array.from({ length: 6 }, async () => {
        for (let i = 0; i < 5; i++) await one();
      }),
    );
    for (let i = 0; i < 2000 && e0State().inflight === 0; i++) await new Promise((r) => setTimeout(r, 5));
    const waiting = e0State().inflight;
    assert.ok(waiting > 0, 'requests are waiting on the engine that is about to die');
    assert.ok(outcomes.length < 30, 'the load is still running');
    const failedBefore = await metricSum(b.h.router, 'kthena_router_upstream_attempts_total', {
      outcome: 'connect_error',
    });
    await e0.close(); // the engine process is gone: held connections break, new connections are refused
    await load;
    const lost = outcomes.filter((o) => !o.ok && !o.started);
    assert.deepEqual(lost, [], 'no request that had not started streaming was lost');
    assert.equal(outcomes.length, 30);
    const failedOver =
      (await metricSum(b.h.router, 'kthena_router_upstream_attempts_total', { outcome: 'connect_error' })) -
      failedBefore;
    assert.ok(
      failedOver >= waiting,
      `${failedOver} failed-over attempts for ${waiting} requests held by the dead engine`,
    );
  } finally {
    await b.close();
  }
});

test('client abort mid-stream frees the engine slot', async () => {
  const b = await bootExample('shapes/simple.yaml');
  try {
    const [eng] = b.engines.get('deepseek-r1-1-5b')!;
    const ac = new AbortController();
    const s = await b.client.chat.completions.create(
      { model: 'deepseek-simple', messages: msg, max_tokens: 5000, stream: true, ignore_eos: true } as never,
      { signal: ac.signal },
    );
    const it = (s as unknown as AsyncIterable<unknown>)[Symbol.asyncIterator]();
    await it.next();
    await it.next();
    const running = () => eng.engine.core.running.length + eng.engine.core.waiting.length;
    assert.equal(running(), 1, 'the engine is generating');
    ac.abort();
    for (let i = 0; i < 500 && running() > 0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(running(), 0, 'the engine slot was freed');
    assert.equal(b.h.router.store.endpointStates()[0].inflight, 0);
  } finally {
    await b.close();
  }
});
