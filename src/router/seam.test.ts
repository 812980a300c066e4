// The scheduling seam (docs/decisions/0009-scheduling-seam.md): the router's decision runs without HTTP and on an
// injected clock — contexts from a parsed body, engine metrics from a scrape's text, KV events into the precise
// index, the per-attempt hooks, and plugins built from a router configuration with deps.clock / deps.kvEvents.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeKvEventBatch, seqFrame } from '../engine/kv-events.js';
import { blockHashes, localTokens } from '../tokens/index.js';
import { RouterError } from './errors.js';
import {
  applyKvMessage,
  buildRequestContext,
  buildScheduler,
  commitAttempt,
  dispatchAttempt,
  EngineMetricsIngest,
  kvAwarenessOf,
  PluginRegistry,
  parseRouterConfig,
  type RouterClock,
  RouterMetrics,
  releaseAttempt,
  responseDone,
  type SchedulerPlugin,
} from './index.js';
import { ep, seeded } from './testing/fixtures.js';

test('buildRequestContext: prompt, hashing text and token estimate from a parsed chat body; no prompt → prompt_not_found', () => {
  const body = { model: 'm', messages: [{ role: 'user', content: 'hello there' }], stream: true };
  const ctx = buildRequestContext({ id: 'r1', body, model: 'm', isLora: false, startedAt: 5 });
  assert.equal(ctx.prompt?.kind, 'chat');
  assert.ok(ctx.promptText.includes('hello there'));
  assert.ok(ctx.inputTokens > 0);
  assert.equal(ctx.stream, true);
  assert.equal(ctx.headers['x-request-id'], 'r1');
  assert.equal(ctx.path, '/v1/completions');
  assert.deepEqual(JSON.parse(ctx.raw.toString()), body);
  assert.throws(
    () => buildRequestContext({ id: 'r2', body: { model: 'm' }, model: 'm', isLora: false, startedAt: 0 }),
    (e: unknown) => e instanceof RouterError && e.code === 'prompt_not_found',
  );
});

test('EngineMetricsIngest: gauges and last-interval TTFT from scrape texts, stamped with the injected clock', () => {
  let now = 1000;
  const ingest = new EngineMetricsIngest(() => now);
  const e = ep('a');
  const text = (count: number, sum: number) =>
    `vllm:num_requests_waiting 3\nvllm:num_requests_running 7\nvllm:kv_cache_usage_perc 0.25\nvllm:time_to_first_token_seconds_sum ${sum}\nvllm:time_to_first_token_seconds_count ${count}\n`;
  ingest.metricsText(e.state, text(2, 1));
  ingest.stamp(e.state);
  assert.deepEqual(e.state.metrics, { kvCacheUsage: 0.25, waiting: 3, running: 7, ttft: 0, tpot: 0 });
  assert.equal(e.state.lastScrapeAt, 1000);
  now = 2000;
  ingest.metricsText(e.state, text(4, 2)); // two more first tokens taking 1 s in total
  ingest.stamp(e.state);
  assert.equal(e.state.metrics.ttft, 0.5);
  assert.equal(e.state.lastScrapeAt, 2000);
  ingest.modelsText(e.state, '{"data":[{"id":"m"},{"id":"lora-a"}]}');
  assert.deepEqual([...e.state.models], ['m', 'lora-a']);
  assert.throws(() => ingest.modelsText(e.state, '{"nope":1}'), /no data list/);
  e.state.removed = true;
  ingest.metricsText(e.state, text(9, 9));
  assert.equal(e.state.metrics.waiting, 3, 'an endpoint that left the store is not updated');
});

/** A clock that moves only when the test says so. */
function manualClock(): RouterClock & { t: number } {
  return {
    t: 0,
    now() {
      return this.t;
    },
    setInterval: () => 0,
    clearInterval: () => {},
  };
}

const KV_CONFIG = `scheduler:
  pluginConfig:
  - name: latency-predictor
    args: {tokenizer: local, blockSize: 16}
  plugins:
    Score:
      enabled: [{name: latency-predictor, weight: 1}]
`;

test('plugins from a router configuration run on an injected clock, with KV events fed to the index by the caller', async () => {
  const reg = new PluginRegistry();
  const metrics = new RouterMetrics();
  const clock = manualClock();
  const { scheduler } = await buildScheduler(parseRouterConfig(KV_CONFIG, reg), reg, {
    metrics,
    rand: seeded(1),
    clock,
    kvEvents: 'fed',
  });
  const kv = kvAwarenessOf(metrics);
  assert.ok(kv, 'the latency predictor shares one KV awareness per router');
  assert.equal(kv.subscriber, undefined, 'fed: no ZMQ subscription is opened');
  const a = ep('a');
  const b = ep('b');
  const body = { model: 'm', prompt: ' aaaaa bbbbb'.repeat(64), max_tokens: 4 };
  // Engine b announces the prompt's blocks (sequence 0) through the wire format the subscriber reads.
  const hashes = blockHashes(localTokens(body), 16);
  const payload = encodeKvEventBatch(
    [{ type: 'BlockStored', blockHashes: hashes, parentBlockHash: null, tokenIds: [], blockSize: 16, loraName: null }],
    0,
  );
  assert.equal(applyKvMessage(kv.index, b.state.key, seqFrame(0n), payload), 'applied');
  const ctx = buildRequestContext({ id: 'r1', body, model: 'm', isLora: false, startedAt: clock.now() });
  const first = await scheduler.schedule(ctx, [a, b]);
  assert.equal(first.ranked[0].state.name, 'b', 'the endpoint holding the prefix is predicted fastest');

  // Dispatch/commit/release/done through the shared hooks: in-flight and queued work follow them.
  const plugins = scheduler.plugins;
  dispatchAttempt(plugins, ctx, b);
  assert.equal(b.state.inflight, 1);
  assert.ok(kv.queuedOf(b.state.key).requests === 1);
  clock.t = 120_000; // two minutes of injected time without a first byte: b is overdue
  assert.ok((kv.backlog().get(b.state.key) ?? 0) > 100);
  commitAttempt(plugins, ctx, b);
  assert.equal(kv.queuedOf(b.state.key).requests, 0);
  releaseAttempt(plugins, ctx, b);
  assert.equal(b.state.inflight, 0);
  const errs: string[] = [];
  const boom: SchedulerPlugin = {
    name: 'boom',
    onResponseDone: () => {
      throw new Error('x');
    },
  };
  responseDone([boom, ...plugins], ctx, { endpoint: b, status: 200, ok: true, aborted: false, cachedTokens: 0 }, (p) =>
    errs.push(p),
  );
  assert.deepEqual(errs, ['boom'], "one plugin's failure is reported and the others still run");
  assert.equal(kv.verifier.snapshot().m?.samples, 1, 'the KV plugin saw the terminal hook');
});
