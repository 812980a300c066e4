import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Engine, VirtualClock } from '../engine/index.js';
import { placementCosts, predictTtft } from '../router/index.js';
import { blockHashes, encodePrompt } from '../tokens/index.js';
import { engineTruth } from './oracle.js';
import { type DecisionTrace, runTwin, type TwinOptions } from './twin.js';

const CONFIG = `scheduler:
  pluginConfig:
  - {name: latency-predictor, args: {tokenizer: local, blockSize: 16}}
  plugins:
    Score:
      enabled: [{name: latency-predictor, weight: 1}]
`;

const text = (seed: number, n: number) => {
  let s = '';
  let x = seed;
  for (let i = 0; i < n; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    s += ` w${(x % 99991).toString(36)}`;
  }
  return s;
};

/** A small scenario: 2 shared prefixes, 12 requests, a burst then a trickle, some of them turns of one session. */
function tiny(seed: number): TwinOptions {
  const requests = Array.from({ length: 12 }, (_, i) => ({
    prompt: text(i % 2, 600) + text(100 + i, 30),
    maxTokens: 8,
    cls: `g${i % 2}`,
    session: i % 4 === 3 ? 7 : undefined,
  }));
  return {
    engines: { replicas: 3, model: 'm', profile: 'llama-3.1-8b-h100', numGpuBlocks: 400 },
    routerConfig: CONFIG,
    workload: { requests, gapsSec: requests.map((_, i) => (i < 6 ? 0.001 : 0.05)), maxConcurrency: 8 },
    seed,
  };
}

test('the twin is deterministic: the same scenario twice gives the same results and decisions, byte for byte', async () => {
  const once = async () => {
    const traces: DecisionTrace[] = [];
    const out = await runTwin({ ...tiny(3), onDecision: (t) => traces.push(t) });
    return JSON.stringify({ out, traces });
  };
  const a = await once();
  const b = await once();
  assert.equal(a, b);
  const parsed = JSON.parse(a) as {
    out: { results: { ok: boolean; ttft: number; e2e: number }[] };
    traces: DecisionTrace[];
  };
  assert.equal(parsed.out.results.length, 12);
  assert.ok(parsed.out.results.every((r) => r.ok && r.ttft > 0 && r.ttft < r.e2e));
  assert.equal(parsed.traces.length, 12);
  assert.ok(
    parsed.traces.every((t) => t.decision && t.decision.candidates.length === 3),
    'the predictor explains each',
  );
});

test('the twin reaches the prefix cache: later requests of a group find its prefix cached where they go', async () => {
  const traces: DecisionTrace[] = [];
  await runTwin({ ...tiny(5), onDecision: (t) => traces.push(t) });
  const late = traces.filter((t) => t.request >= 6);
  assert.ok(
    late.every((t) => (t.cachedTokens ?? 0) >= 576),
    `cached: ${late.map((t) => t.cachedTokens)}`,
  );
  const byGroup = (g: number) => new Set(late.filter((t) => t.request % 2 === g).map((t) => t.chosen));
  assert.equal(byGroup(0).size + byGroup(1).size <= 4, true, 'groups stay on few replicas');
});

test('engineTruth: cached prefix and the prefill work really queued, counting blocks shared with work ahead', () => {
  const clock = new VirtualClock();
  const e = new Engine({ model: 'm', clock, numGpuBlocks: 1000, engineId: 'truth-test' });
  try {
    const bs = e.cfg.blockSize;
    const prefix = encodePrompt(text(1, 320)).slice(0, 320);
    const a = [...prefix, ...encodePrompt(text(2, 40)).slice(1, 33)];
    const b = [...prefix, ...encodePrompt(text(3, 40)).slice(1, 33)];
    const submit = (id: string, tokens: number[]) =>
      e.submit({
        id,
        promptTokens: tokens,
        maxTokens: 4,
        minTokens: 0,
        ignoreEos: true,
        lora: null,
        onUpdate: () => {},
      });
    submit('a', a);
    submit('b', b);
    clock.advanceTo(e.cfg.profile.requestOverheadSec); // both queued, nothing computed yet
    const t = engineTruth(e, blockHashes(b, bs));
    // a computes all 352 tokens; b only what follows the shared 320-token prefix (a fills those blocks first).
    assert.equal(t.queuedTokens, 352 + 32);
    assert.equal(t.cachedBlocks, 22, "a request with b's prompt finds all 22 of b's blocks ahead of it (b is queued)");
    const other = engineTruth(e, blockHashes([...prefix, ...encodePrompt(text(4, 40)).slice(1, 33)], bs));
    assert.equal(other.cachedBlocks, 20, 'a third prompt shares only the 20 prefix blocks');
    assert.equal(t.decoding, 0);
    clock.runAll();
    const after = engineTruth(e, blockHashes(b, bs));
    assert.equal(after.cachedBlocks, 22, 'b itself is now cached');
    assert.equal(after.queuedTokens, 0);
  } finally {
    e.close();
  }
});

test('placementCosts: an avoidable miss costs the streams decoding there; equal prefills compare by TTFT alone', () => {
  const c = { baseSec: 0.01, secPerToken: 1e-4, secPerDecodingSeq: 0 };
  const warm = { promptTokens: 4000, cachedTokens: 3900, queuedPrefillTokens: 5000, decoding: 50 };
  const cold = { promptTokens: 4000, cachedTokens: 0, queuedPrefillTokens: 0, decoding: 50 };
  const [pw, pc] = [warm, cold].map((x) => predictTtft(c, x));
  assert.ok(pc.ttftSec < pw.ttftSec, 'by its own TTFT the cold engine looks faster');
  const [cw, cc] = placementCosts([pw, pc], [warm, cold]);
  assert.equal(cw, pw.ttftSec, 'the warm engine needs the least prefill: no extra term');
  assert.ok(Math.abs(cc - (pc.ttftSec + (0.4 - 0.01) * 50)) < 1e-9);
  assert.ok(cw < cc);
  // Nobody holds the prefix: a busy queue with few streams decoding is not preferred over an idle engine.
  const queued = { promptTokens: 4000, cachedTokens: 0, queuedPrefillTokens: 40000, decoding: 0 };
  const busy = { promptTokens: 4000, cachedTokens: 0, queuedPrefillTokens: 0, decoding: 80 };
  const costs = placementCosts([predictTtft(c, queued), predictTtft(c, busy)], [queued, busy]);
  assert.ok(costs[1] < costs[0]);
});
