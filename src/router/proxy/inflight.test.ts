// Property: whatever mix of outcomes (success, upstream 4xx/5xx, reset, hang → timeout, death mid-stream, client abort)
// runs concurrently, the router's in-flight count per endpoint never goes negative and returns to exactly 0.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { request } from 'undici';
import type { EndpointState } from '../store/endpoint-state.js';
import { type Behaviour, type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';

type Step = { behaviour: Behaviour; stream: boolean; abortAfterFirstChunk: boolean };

const behaviour: fc.Arbitrary<Behaviour> = fc.oneof(
  fc.record({
    kind: fc.constant('ok' as const),
    chunks: fc.integer({ min: 1, max: 5 }),
    chunkDelayMs: fc.constantFrom(0, 5),
  }),
  fc.record({ kind: fc.constant('status' as const), status: fc.constantFrom(400, 404, 500, 503) }),
  fc.constant({ kind: 'hang' as const }),
  fc.constant({ kind: 'reset' as const }),
  fc.record({ kind: fc.constant('die-after' as const), chunks: fc.integer({ min: 0, max: 3 }) }),
);

describe('in-flight accounting', () => {
  let engines: FakeEngine[];
  let h: Harness;
  let minSeen = 0;
  const watch = (s: EndpointState) => {
    let v = s.inflight;
    Object.defineProperty(s, 'inflight', {
      get: () => v,
      set: (n: number) => {
        v = n;
        minSeen = Math.min(minSeen, n);
      },
    });
  };
  before(async () => {
    engines = [await startFakeEngine('a'), await startFakeEngine('b')];
    h = await startHarness(
      {
        'r.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
        's.yaml': serverYaml(
          's',
          '  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s}}\n  workloadPort: {port: 8000}\n  trafficPolicy: {timeout: 200ms}\n',
        ),
        'e.yaml': engines.map((e) => endpointYaml(e.name, e, { app: 's' })).join('---\n'),
      },
      { upstreamBodyTimeoutMs: 2000 },
    );
    for (const s of h.router.store.endpointStates()) watch(s);
  });
  after(async () => {
    await h.close();
    for (const e of engines) await e.close();
  });

  const run = async (step: Step) => {
    const ac = new AbortController();
    try {
      const res = await request(`${h.router.url}/v1/chat/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-fake': JSON.stringify(step.behaviour) },
        body: JSON.stringify({ model: 'm', stream: step.stream, messages: [{ role: 'user', content: 'x' }] }),
        signal: ac.signal,
      });
      if (step.abortAfterFirstChunk) {
        const it = res.body[Symbol.asyncIterator]();
        await it.next();
        ac.abort();
      }
      await res.body.text();
    } catch {
      // aborted, reset or cut streams are expected outcomes here
    }
  };

  test('never negative, always back to zero, gauge and engine slots too', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ behaviour, stream: fc.boolean(), abortAfterFirstChunk: fc.boolean() }), {
          minLength: 1,
          maxLength: 12,
        }),
        async (steps) => {
          await Promise.all(steps.map(run));
          const states = h.router.store.endpointStates();
          for (let i = 0; i < 300 && states.some((s) => s.inflight !== 0); i++)
            await new Promise((r) => setTimeout(r, 10));
          assert.deepEqual(
            states.map((s) => s.inflight),
            states.map(() => 0),
          );
          assert.equal(minSeen, 0, 'in-flight never went below zero');
          assert.equal(await metricSum(h.router, 'kthena_router_active_upstream_requests'), 0);
          assert.equal(h.router.handler.active, 0);
        },
      ),
      { numRuns: 15 },
    );
    // Hung engines keep their sockets until the router aborts them; all are released by now.
    for (let i = 0; i < 300 && engines.some((e) => e.active() > 0); i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(
      engines.map((e) => e.active()),
      [0, 0],
    );
  });
});
