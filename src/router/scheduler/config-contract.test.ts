// Contract tests for the router configuration: each field, set, must change which endpoint serves.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { RouterMetrics } from '../telemetry/metrics.js';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { ctxFor, ep, seeded } from '../testing/fixtures.js';
import { endpointYaml, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';
import { prefixCachePlugin } from './plugins/prefix-cache.js';

const VLLM = (o: { waiting?: number; kv?: number; ttft?: [number, number]; tpot?: [number, number] }) =>
  `vllm:num_requests_waiting ${o.waiting ?? 0}\nvllm:kv_cache_usage_perc ${o.kv ?? 0}\n` +
  (o.ttft
    ? `vllm:time_to_first_token_seconds_sum ${o.ttft[0]}\nvllm:time_to_first_token_seconds_count ${o.ttft[1]}\n`
    : '') +
  (o.tpot
    ? `vllm:inter_token_latency_seconds_sum ${o.tpot[0]}\nvllm:inter_token_latency_seconds_count ${o.tpot[1]}\n`
    : '');

describe('contract: router configuration fields', () => {
  let A: FakeEngine;
  let B: FakeEngine;
  before(async () => {
    A = await startFakeEngine('A');
    B = await startFakeEngine('B');
  });
  after(async () => {
    await A.close();
    await B.close();
  });

  /** Starts a router with `config`, primes engine metrics (two scrapes for histogram deltas), sends n requests. */
  const served = async (config: string, n = 12, prompt = (i: number) => `prompt ${i}`) => {
    const h = await startHarness(
      {
        'r.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
        's.yaml': serverYaml(
          's',
          '  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s}}\n  workloadPort: {port: 8000}\n',
        ),
        'e.yaml': `${endpointYaml('a', A, { app: 's' })}---\n${endpointYaml('b', B, { app: 's' })}`,
      },
      { routerConfigText: config, rand: seeded(3) },
    );
    try {
      const final = { a: A.metricsText, b: B.metricsText };
      // First scrape establishes histogram baselines (zero), the second measures the interval.
      A.metricsText = final.a.replace(/(_sum|_count) [\d.]+/g, '$1 0');
      B.metricsText = final.b.replace(/(_sum|_count) [\d.]+/g, '$1 0');
      await h.router.scraper.scrapeOnce();
      A.metricsText = final.a;
      B.metricsText = final.b;
      await h.router.scraper.scrapeOnce();
      const seen: string[] = [];
      for (let i = 0; i < n; i++) {
        const r = await h.post('/v1/completions', { model: 'm', prompt: prompt(i) });
        seen.push(r.status === 200 ? String(r.headers['x-engine']) : String(r.status));
      }
      return {
        seen: [...new Set(seen)].sort(),
        entries: await metricSum(h.router, 'kthena_router_prefix_cache_entries'),
      };
    } finally {
      await h.close();
    }
  };
  const cfg = (filters: string, scores: string, pluginConfig = '[]', extra = '') =>
    `scheduler:\n${extra}  pluginConfig: ${pluginConfig}\n  plugins:\n    Filter: {enabled: ${filters}}\n    Score: {enabled: ${scores}}\n`;

  test('Filter.enabled and least-request maxWaitingRequests', async () => {
    A.metricsText = VLLM({ waiting: 5 });
    B.metricsText = VLLM({ waiting: 0 });
    const none = await served(cfg('[]', '[random]'));
    const lr = await served(
      cfg('[least-request]', '[random]', '[{name: least-request, args: {maxWaitingRequests: 3}}]'),
    );
    const lr10 = await served(
      cfg('[least-request]', '[random]', '[{name: least-request, args: {maxWaitingRequests: 10}}]'),
    );
    assert.deepEqual(none.seen, ['A', 'B']);
    assert.deepEqual(lr.seen, ['B']);
    assert.deepEqual(lr10.seen, ['A', 'B']);
  });

  test('Score.enabled names and weights', async () => {
    // gpu-usage prefers B (A 10, B 90); least-latency prefers A (A 100, B 0).
    A.metricsText = VLLM({ kv: 0.9, ttft: [0.1, 1], tpot: [0.01, 1] });
    B.metricsText = VLLM({ kv: 0.1, ttft: [0.5, 1], tpot: [0.05, 1] });
    assert.deepEqual((await served(cfg('[]', '[random]'))).seen, ['A', 'B']);
    assert.deepEqual((await served(cfg('[]', '[gpu-usage]'))).seen, ['B']);
    assert.deepEqual(
      (await served(cfg('[]', '[{name: gpu-usage, weight: 1}, {name: least-latency, weight: 2}]'))).seen,
      ['A'],
    );
    assert.deepEqual(
      (await served(cfg('[]', '[{name: gpu-usage, weight: 3}, {name: least-latency, weight: 1}]'))).seen,
      ['B'],
    );
  });

  test('least-latency TTFTTPOTWeightFactor', async () => {
    // A: fast first token, slow decode; B: the reverse.
    A.metricsText = VLLM({ ttft: [0.1, 1], tpot: [0.09, 1] });
    B.metricsText = VLLM({ ttft: [0.9, 1], tpot: [0.01, 1] });
    const arg = (a: number) => `[{name: least-latency, args: {TTFTTPOTWeightFactor: ${a}}}]`;
    assert.deepEqual((await served(cfg('[]', '[least-latency]', arg(1)))).seen, ['A']);
    assert.deepEqual((await served(cfg('[]', '[least-latency]', arg(0)))).seen, ['B']);
  });

  test('topN bounds the failover candidates', async () => {
    A.metricsText = VLLM({ kv: 0 });
    B.metricsText = VLLM({ kv: 0.5 });
    A.fallback = { kind: 'status', status: 500 };
    try {
      assert.deepEqual((await served(cfg('[]', '[gpu-usage]', '[]', '  topN: 1\n'), 3)).seen, ['503']);
      assert.deepEqual((await served(cfg('[]', '[gpu-usage]', '[]', '  topN: 2\n'), 3)).seen, ['B']);
    } finally {
      A.fallback = { kind: 'ok' };
    }
  });

  test('prefix-cache blockSizeToHash, maxBlocksToMatch, maxHashCacheSize, maxMemoryBytes change the index', async () => {
    A.metricsText = '';
    B.metricsText = '';
    const prompt = () => 'x'.repeat(400);
    const run = async (args: string) =>
      (await served(cfg('[]', '[prefix-cache]', `[{name: prefix-cache, args: {${args}}}]`), 1, prompt)).entries;
    assert.equal(await run('blockSizeToHash: 64'), 7);
    assert.equal(await run('blockSizeToHash: 16'), 25);
    assert.equal(await run('blockSizeToHash: 16, maxBlocksToMatch: 4'), 4);
    assert.equal(await run('blockSizeToHash: 16, maxHashCacheSize: 10'), 10);
    assert.equal(await run('blockSizeToHash: 16, maxMemoryBytes: 1600'), 10);
  });

  test('prefix-cache topKMatches bounds how many endpoints get a match score', async () => {
    const score = async (k: number) => {
      const p = await prefixCachePlugin.create(
        { blockSizeToHash: 4, topKMatches: k },
        { metrics: new RouterMetrics(), rand: seeded(1) },
      );
      const eps = [ep('a'), ep('b'), ep('c')];
      const c = ctxFor('m', 'aaaabbbb');
      for (const e of eps) p.postSchedule!(ctxFor('m', 'aaaabbbb'), e);
      return Array.from(p.score!(c, eps)).filter((v) => v > 0).length;
    };
    assert.equal(await score(5), 3);
    assert.equal(await score(1), 1);
  });
});
