import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';

const chat = (extra: object = {}) => ({ model: 'm', messages: [{ role: 'user', content: 'hi' }], ...extra });
const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
};

describe('failover, timeouts, retries, pass-through and abort', () => {
  let a: FakeEngine;
  let b: FakeEngine;
  let h: Harness;
  const server = (policy: string) =>
    serverYaml(
      's',
      `  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s}}\n  workloadPort: {port: 8000}\n${policy}`,
    );
  before(async () => {
    a = await startFakeEngine('a');
    b = await startFakeEngine('b');
    h = await startHarness(
      {
        'route.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
        'server.yaml': server(''),
        'eps.yaml': `${endpointYaml('a', a, { app: 's' })}---\n${endpointYaml('b', b, { app: 's' })}`,
      },
      // Only random scoring, so both endpoints are candidates in random order.
      { routerConfigText: 'scheduler:\n  plugins:\n    Score:\n      enabled: [random]\n' },
    );
  });
  after(async () => {
    await h.close();
    await a.close();
    await b.close();
  });
  const inflight = () => h.router.store.endpointStates().reduce((n, s) => n + s.inflight, 0);

  test('a 5xx or a connection reset before the first byte fails over to the other endpoint', async () => {
    for (const bad of [{ kind: 'status', status: 500 }, { kind: 'reset' }] as const) {
      a.next = [];
      b.next = [];
      const outcome = bad.kind === 'status' ? 'server_error' : 'connect_error';
      const failedBefore = await metricSum(h.router, 'kthena_router_upstream_attempts_total', { outcome });
      // Whichever endpoint is tried first may be the broken one; the other one succeeds.
      let okCount = 0;
      let badTries = 0;
      for (let i = 0; i < 6; i++) {
        const first = i % 2 === 0 ? a : b;
        const other = first === a ? b : a;
        first.fallback = bad;
        other.fallback = { kind: 'ok' };
        const seen = first.received.length;
        const r = await h.post('/v1/chat/completions', chat());
        if (r.status === 200) okCount++;
        badTries += first.received.length - seen;
      }
      assert.equal(okCount, 6, `${bad.kind}: every request succeeded through failover`);
      // Every try that reached the broken endpoint was counted as a failed attempt, and failed over.
      const failed = (await metricSum(h.router, 'kthena_router_upstream_attempts_total', { outcome })) - failedBefore;
      assert.equal(failed, badTries, `${bad.kind}: failed attempts counted as ${outcome}`);
    }
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
  });

  test('all endpoints failing → 503 all_upstreams_failed with an OpenAI error body', async () => {
    a.fallback = { kind: 'status', status: 502 };
    b.fallback = { kind: 'status', status: 503 };
    const r = await h.post('/v1/chat/completions', chat());
    assert.equal(r.status, 503);
    assert.equal(r.json.error.code, 'all_upstreams_failed');
    assert.match(r.json.error.message, /2 attempt/);
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
  });

  test('upstream 4xx passes through unchanged (no failover)', async () => {
    a.fallback = { kind: 'status', status: 422, body: '{"error":{"message":"bad max_tokens"}}' };
    b.fallback = { kind: 'status', status: 422, body: '{"error":{"message":"bad max_tokens"}}' };
    const before = a.received.length + b.received.length;
    const r = await h.post('/v1/chat/completions', chat());
    assert.equal(r.status, 422);
    assert.equal(r.text, '{"error":{"message":"bad max_tokens"}}');
    assert.equal(a.received.length + b.received.length, before + 1, 'one attempt only');
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
  });

  test('trafficPolicy.timeout bounds time to headers per attempt; a hung engine is failed over', async () => {
    await h.write('server.yaml', server('  trafficPolicy: {timeout: 300ms}\n'));
    await h.reload();
    a.fallback = { kind: 'hang' };
    b.fallback = { kind: 'hang' };
    const r = await h.post('/v1/chat/completions', chat());
    assert.equal(r.status, 503, 'both hang → all failed');
    a.fallback = { kind: 'hang' };
    b.fallback = { kind: 'ok' };
    for (let i = 0; i < 4; i++) assert.equal((await h.post('/v1/chat/completions', chat())).status, 200);
    assert.ok((await metricSum(h.router, 'kthena_router_upstream_attempts_total', { outcome: 'timeout' })) >= 2);
    a.fallback = { kind: 'ok' };
    await h.write('server.yaml', server(''));
    await h.reload();
  });

  test('trafficPolicy.retry: attempts bound the tries, retries cycle over candidates', async () => {
    await h.write('server.yaml', server('  trafficPolicy: {retry: {attempts: 0}}\n'));
    await h.reload();
    a.fallback = { kind: 'status', status: 500 };
    b.fallback = { kind: 'status', status: 500 };
    let before = a.received.length + b.received.length;
    assert.equal((await h.post('/v1/chat/completions', chat())).status, 503);
    assert.equal(a.received.length + b.received.length - before, 1, 'attempts: 0 → no failover');
    await h.write('server.yaml', server('  trafficPolicy: {retry: {attempts: 4, retryInterval: 1ms}}\n'));
    await h.reload();
    before = a.received.length + b.received.length;
    assert.equal((await h.post('/v1/chat/completions', chat())).status, 503);
    assert.equal(a.received.length + b.received.length - before, 5, '1 + 4 attempts');
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
    await h.write('server.yaml', server(''));
    await h.reload();
    assert.equal(inflight(), 0);
  });

  test('an engine dying mid-stream ends the stream with an SSE error event and [DONE], never a silent success', async () => {
    a.fallback = { kind: 'die-after', chunks: 2 };
    b.fallback = { kind: 'die-after', chunks: 2 };
    const res = await request(`${h.router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat({ stream: true })),
    });
    assert.equal(res.statusCode, 200);
    const text = await res.body.text();
    const events = text.split('\n\n').filter(Boolean);
    assert.deepEqual(
      events.slice(0, 2).map((e) => JSON.parse(e.slice(6)).choices[0].delta.content),
      ['t0 ', 't1 '],
    );
    const err = JSON.parse(events[2].slice(6));
    assert.equal(err.error.code, 'upstream_stream_failed');
    assert.equal(err.error.type, 'server_error');
    assert.equal(events[3], 'data: [DONE]');
    assert.equal(events.length, 4);
    await until(() => inflight() === 0, 'in-flight back to 0');
    assert.ok((await metricSum(h.router, 'kthena_router_upstream_attempts_total', { outcome: 'stream_broken' })) >= 1);
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
  });

  test('an engine that sends headers and then dies before its first byte is still failed over', async () => {
    a.fallback = { kind: 'die-after', chunks: 0 };
    b.fallback = { kind: 'ok' };
    a.next = [];
    for (let i = 0; i < 4; i++) {
      const r = await h.post('/v1/chat/completions', chat({ stream: true }));
      assert.equal(r.status, 200);
      assert.match(r.text, /\[DONE\]/);
    }
    a.fallback = { kind: 'ok' };
    await until(() => inflight() === 0, 'in-flight back to 0');
  });

  test('client abort mid-stream aborts upstream and frees the engine slot', async () => {
    a.fallback = { kind: 'ok', chunks: 1000, chunkDelayMs: 20 };
    b.fallback = { kind: 'ok', chunks: 1000, chunkDelayMs: 20 };
    const ac = new AbortController();
    const res = await request(`${h.router.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(chat({ stream: true })),
      signal: ac.signal,
    });
    const it = res.body[Symbol.asyncIterator]();
    await it.next();
    assert.equal(inflight(), 1);
    assert.equal(a.active() + b.active(), 1);
    ac.abort();
    await until(() => a.active() + b.active() === 0, 'engine slot freed');
    await until(() => inflight() === 0, 'router in-flight back to 0');
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
    const aborted = await metricSum(h.router, 'kthena_router_requests_total', { error_type: 'client_disconnected' });
    assert.ok(aborted >= 1);
  });
});
