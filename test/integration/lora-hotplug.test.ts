// LoRA hot-plug under load, with the router's default configuration (lora-affinity on) in front of three simulated
// engines: an adapter loaded on a new replica gets traffic after the next scrape pass; an adapter unloaded from a
// replica lets that replica's in-flight streams finish while new requests go elsewhere. No request fails throughout.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';
import { DEFAULT_ROUTER_CONFIG_YAML } from '../../src/router/scheduler/config.js';
import type { PluginDefinition } from '../../src/router/scheduler/plugin.js';
import { endpointYaml, routeYaml, serverYaml, startHarness } from '../../src/router/testing/harness.js';

const ADAPTER = 'lora-A';

async function lora(e: RunningEngine, op: 'load' | 'unload'): Promise<void> {
  const r = await request(`${e.url}/v1/${op}_lora_adapter`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ lora_name: ADAPTER, lora_path: `/adapters/${ADAPTER}` }),
  });
  await r.body.text();
  assert.equal(r.statusCode, 200, `${op} accepted`);
}

test('LoRA load on a new replica spreads traffic there; unload drains in-flight streams; zero failed requests', async () => {
  const engines: RunningEngine[] = [];
  for (let i = 0; i < 3; i++)
    engines.push(
      await startEngine({
        model: 'base',
        speedup: 2,
        seed: i,
        enableLora: true,
        maxLoras: 2,
        loraModules: i < 2 ? { [ADAPTER]: `/adapters/${ADAPTER}` } : {},
      }),
    );
  // Which replica each attempt for the adapter went to, and how many were in flight on each at any moment.
  const dispatched = [0, 0, 0];
  const recorder: PluginDefinition = {
    name: 'test-recorder',
    roles: ['filter'],
    create: () => ({
      name: 'test-recorder',
      filter: (_c, eps) => [...eps],
      onDispatch: (c, ep) => {
        if (c.model === ADAPTER) dispatched[Number(ep.state.name.split('-')[1])]++;
      },
    }),
  };
  const config = DEFAULT_ROUTER_CONFIG_YAML.replace(
    'enabled: [outlier-detection, lora-affinity]',
    'enabled: [outlier-detection, lora-affinity, test-recorder]',
  );
  assert.notEqual(config, DEFAULT_ROUTER_CONFIG_YAML, 'the default configuration has lora-affinity on');
  const h = await startHarness(
    {
      'route.yaml': routeYaml(
        'adapters',
        `  loraAdapters: [${ADAPTER}]\n  rules:\n  - targetModels:\n    - modelServerName: pool\n`,
      ),
      'server.yaml': serverYaml(
        'pool',
        '  model: base\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: pool}}\n  workloadPort: {port: 8000}\n',
      ),
      'engines.yaml': engines.map((e, i) => endpointYaml(`pool-${i}`, e, { app: 'pool' })).join('---\n'),
    },
    { routerConfigText: config, extraPlugins: [recorder], scrapeIntervalMs: 300 },
  );
  const failures: string[] = [];
  let completed = 0;
  let stop = false;
  const worker = async (w: number) => {
    for (let i = 0; !stop; i++) {
      const r = await h.post('/v1/completions', {
        model: ADAPTER,
        prompt: `worker ${w} request ${i}: write a story`,
        max_tokens: 24,
        ignore_eos: true,
        stream: true,
      });
      if (r.status !== 200 || !r.text.includes('data: [DONE]')) failures.push(`${r.status} ${r.text.slice(0, 200)}`);
      else completed++;
    }
  };
  const nextScrape = async () => {
    const n = h.router.scraper.completedPasses;
    while (h.router.scraper.completedPasses <= n + 1) await new Promise((r) => setTimeout(r, 20));
  };
  const load = Array.from({ length: 6 }, (_, w) => worker(w));
  try {
    await nextScrape();
    const before = [...dispatched];
    assert.equal(before[2], 0, 'the replica without the adapter gets none of its traffic');
    assert.ok(before[0] + before[1] > 0);

    // Load on replica 2: after the next scrape pass the router knows, and traffic spreads there.
    await lora(engines[2], 'load');
    await nextScrape();
    const atLoad = dispatched[2];
    while (dispatched[2] - atLoad < 3 && failures.length === 0) await new Promise((r) => setTimeout(r, 20));
    assert.ok(dispatched[2] - atLoad >= 3, 'replica 2 now serves the adapter');

    // Unload from replica 0 while its streams are in flight.
    const ep0 = h.router.store.endpointStates().find((s) => s.name === 'pool-0')!;
    while (ep0.inflight === 0) await new Promise((r) => setTimeout(r, 5));
    await lora(engines[0], 'unload');
    await nextScrape();
    const afterUnload = dispatched[0];
    const othersAfter = dispatched[1] + dispatched[2];
    while (dispatched[1] + dispatched[2] - othersAfter < 12) await new Promise((r) => setTimeout(r, 20));
    assert.equal(dispatched[0], afterUnload, 'no new request for the adapter reached replica 0 after the scrape');
  } finally {
    stop = true;
    await Promise.all(load);
    await h.close();
    await Promise.all(engines.map((e) => e.close()));
  }
  assert.deepEqual(failures, [], 'no request failed during the hot-plug');
  assert.ok(completed > 20);
});
