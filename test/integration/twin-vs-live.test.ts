// One hand-built situation through the twin (virtual time) and through the live router (real engines, HTTP, ZMQ):
// three idle replicas; a long-prefix request A; then B with A's prefix; then C with a new prefix — one at a time, the
// default scorer, the same seed for the router's random source. Both must choose the same replica each time: the first
// and third by the same seeded tie-break among equal predictions, the second by cache affinity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';
import { DEFAULT_ROUTER_CONFIG_YAML } from '../../src/router/index.js';
import { endpointYaml, startHarness } from '../../src/router/testing/harness.js';
import { runTwin, seededRandom } from '../../src/twin/index.js';
import { freePort, words } from '../helpers/net.js';

const PREFIX = words(7, 1500);
const PROMPTS = [PREFIX + words(100, 40), PREFIX + words(200, 40), words(9, 1500) + words(300, 40)];
const SEED = 11;
// The built-in default, without the filters (outlier detection has nothing to do in an idle, healthy situation).
const CONFIG = DEFAULT_ROUTER_CONFIG_YAML.replace(/ {4}Filter:\n.*\n/, '');

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

test('the twin and the live router choose the same replica for the same situation', async (t) => {
  try {
    await import('zeromq');
  } catch {
    return t.skip('zeromq is not installed');
  }
  assert.ok(!CONFIG.includes('Filter'), 'the filter section was removed');

  const twinChoices: number[] = [];
  await runTwin({
    engines: { replicas: 3, model: 'm', profile: 'llama-3.1-8b-h100' },
    routerConfig: CONFIG,
    // 60 s apart, one at a time: each request finishes before the next is sent.
    workload: {
      requests: PROMPTS.map((prompt) => ({ prompt, maxTokens: 2, cls: 'x' })),
      gapsSec: [1, 60, 60],
      maxConcurrency: 1,
    },
    seed: SEED,
    onDecision: (d) => {
      twinChoices[d.request] = Number(d.chosen.split('-').at(-1));
    },
  });

  const engines: RunningEngine[] = [];
  const files: Record<string, string> = { 'server.yaml': SERVER };
  try {
    for (let i = 0; i < 3; i++) {
      const kv = await freePort();
      const e = await startEngine({ model: 'm', speedup: 50, kvEventsEndpoint: `tcp://*:${kv}`, log: () => {} });
      engines.push(e);
      files[`ep${i}.yaml`] = endpointYaml(`engine-${i}`, e, { app: 'sim', 'kthena.io/kv-events-port': String(kv) });
    }
    const h = await startHarness(files, { routerConfigText: CONFIG, rand: seededRandom(SEED) });
    try {
      const liveChoices: number[] = [];
      for (const prompt of PROMPTS) {
        const before = engines.map((e) => e.engine.loop.stats.steps);
        const r = await h.post('/v1/completions', {
          model: 'm',
          prompt,
          max_tokens: 2,
          ignore_eos: true,
          stream: true,
        });
        assert.equal(r.status, 200, r.text);
        const served = engines.map((e, i) => e.engine.loop.stats.steps - before[i]);
        assert.equal(served.filter((s) => s > 0).length, 1, `one engine served it: ${served}`);
        liveChoices.push(served.findIndex((s) => s > 0));
      }
      assert.deepEqual(twinChoices, liveChoices);
      assert.equal(liveChoices[1], liveChoices[0], 'B follows its prefix');
    } finally {
      await h.close();
    }
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
});
