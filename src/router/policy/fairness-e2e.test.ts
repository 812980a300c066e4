// The fairness queue through the router: queue timeout → 504, a client that leaves the queue never reaches an engine.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';
import { waitFor } from '../testing/wait.js';

describe('fairness queue end to end', () => {
  let eng: FakeEngine;
  let h: Harness;
  before(async () => {
    eng = await startFakeEngine('e');
    h = await startHarness(
      {
        'server.yaml': serverYaml(
          's1',
          '  model: real\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
        ),
        'eps.yaml': endpointYaml('e', eng, { app: 's1' }),
        'route.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
      },
      {
        env: {
          ENABLE_FAIRNESS_SCHEDULING: 'true',
          FAIRNESS_MAX_CONCURRENT: '1',
          // Long enough that the leaving client below is always cancelled by its own abort, never by the queue's
          // timeout, however loaded the machine (at 300 ms a loaded CI machine counted it as a timeout).
          FAIRNESS_QUEUE_TIMEOUT: '3s',
        },
      },
    );
  });
  after(async () => {
    await h.close();
    await eng.close();
  });

  test('a queued request times out with 504; a client leaving the queue never reaches the engine', async () => {
    eng.next = [{ kind: 'hang' }];
    const holder = new AbortController();
    const hung = request(`${h.router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'hold the only slot' }),
      signal: holder.signal,
    }).catch(() => undefined);
    await waitFor(() => eng.received.length > 0, 'the slot holder to reach the engine');

    const r = await h.post('/v1/completions', { model: 'm', prompt: 'waits' });
    assert.equal(r.status, 504, r.text);
    assert.equal(r.json.error.code, 'queue_timeout');
    assert.equal(r.json.error.type, 'server_error');

    const leaver = new AbortController();
    const p = request(`${h.router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'm', prompt: 'leaves' }),
      signal: leaver.signal,
    }).catch(() => undefined);
    await waitFor(
      async () => (await metricSum(h.router, 'kthena_router_fairness_queue_size', { model: 'm' })) >= 1,
      'the leaving request to be queued',
    );
    leaver.abort();
    await p;
    await waitFor(
      async () =>
        (await metricSum(h.router, 'kthena_router_fairness_queue_cancelled_total', { reason: 'client_gone' })) >= 1,
      'the queue to drop the request whose client left',
    );
    holder.abort();
    await hung;
    assert.equal(eng.received.length, 1, 'only the slot holder reached the engine');
    // The slot is free again: the next request is served.
    eng.next = [];
    assert.equal((await h.post('/v1/completions', { model: 'm', prompt: 'after' })).status, 200);
  });
});
