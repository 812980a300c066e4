// A repeated long prefix sticks to one replica while it keeps up, and spreads once that replica is overloaded —
// real engines publishing KV events over ZMQ, the real router with the latency-predictor scorer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';
import { endpointYaml, startHarness } from '../../src/router/testing/harness.js';
import { freePort, words } from '../helpers/net.js';

const SERVER = `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: sim, namespace: default}
spec:
  model: m
  inferenceEngine: vLLM
  workloadSelector: {matchLabels: {app: sim}}
  workloadPort: {port: 8000}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: sim, namespace: default}
spec:
  modelName: m
  rules:
  - name: default
    targetModels:
    - modelServerName: sim
`;

const CONFIG = `scheduler:
  pluginConfig:
  - {name: latency-predictor, args: {tokenizer: local, blockSize: 16}}
  plugins:
    Score:
      enabled:
      - {name: latency-predictor, weight: 1}
`;

test('a long shared prefix sticks to one replica, then spreads when that replica is overloaded', async (t) => {
  let zmqOk = true;
  try {
    await import('zeromq');
  } catch {
    zmqOk = false;
  }
  if (!zmqOk) return t.skip('zeromq is not installed');
  const engines: RunningEngine[] = [];
  const files: Record<string, string> = { 'server.yaml': SERVER };
  for (let i = 0; i < 3; i++) {
    const kv = await freePort();
    const e = await startEngine({ model: 'm', speedup: 50, kvEventsEndpoint: `tcp://*:${kv}`, log: () => {} });
    engines.push(e);
    files[`ep${i}.yaml`] = endpointYaml(`e${i}`, e, { app: 'sim', 'kthena.io/kv-events-port': String(kv) });
  }
  const h = await startHarness(files, { routerConfigText: CONFIG });
  const controllers: AbortController[] = [];
  try {
    const prefix = words(7, 2000);
    // Phase 1: one at a time; each request is warm only where the previous ones went.
    for (let i = 0; i < 6; i++) {
      const r = await h.post('/v1/completions', { model: 'm', prompt: prefix + words(100 + i, 60), max_tokens: 2 });
      assert.equal(r.status, 200, r.text);
    }
    const cached = engines.map((e) => e.engine.core.kv.numCachedBlocks);
    const warm = cached.findIndex((c) => c > 0);
    assert.equal(cached.filter((c) => c > 0).length, 1, `prefix stuck to one replica: cached blocks ${cached}`);
    const warmState = h.router.store.endpointState(`default/e${warm}`)!;

    // Phase 2: engines stop answering (hang), so queued prefill accumulates in the router's view; a burst of the
    // same prefix must overflow the warm replica and spread over the others.
    for (const e of engines) e.engine.setFault({ mode: 'hang' });
    const N = 90;
    const pending: Promise<unknown>[] = [];
    for (let i = 0; i < N; i++) {
      const ac = new AbortController();
      controllers.push(ac);
      pending.push(
        request(`${h.router.url}/v1/completions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'm', prompt: prefix + words(1000 + i, 60), max_tokens: 2 }),
          signal: ac.signal,
        }).catch(() => undefined),
      );
    }
    const states = [0, 1, 2].map((i) => h.router.store.endpointState(`default/e${i}`)!);
    for (let spin = 0; states.reduce((a, s) => a + s.inflight, 0) < N; spin++) {
      assert.ok(spin < 6000, 'requests did not all reach the engines');
      await new Promise((r) => setTimeout(r, 10));
    }
    const inflight = states.map((s) => s.inflight);
    assert.ok(inflight.filter((n) => n > 0).length >= 2, `spread over replicas: ${inflight}`);
    // The warm replica got requests too (its cache still counted while its queue was short)…
    assert.ok(warmState.inflight > 0, `the warm replica still got its share: ${inflight}`);
    // …but not necessarily the most: stalled engines never answer, so the requests sent there become overdue and
    // the backlog term (docs/scheduling.md) moves traffic away from a replica that is not answering. The graded
    // cache-vs-queue arithmetic itself is covered by the unit tests of latency-model.ts.
    for (const ac of controllers) ac.abort();
    await Promise.all(pending);
  } finally {
    for (const ac of controllers) ac.abort();
    for (const e of engines) e.engine.setFault(null);
    await h.close();
    await Promise.all(engines.map((e) => e.close()));
  }
});
