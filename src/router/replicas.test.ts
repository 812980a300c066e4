// Several router replicas behind one Service (docs/router.md, "Several replicas"): fed the same KV events and the same
// engine metrics, and seeing the same requests, two replicas make the same decisions — the decision is a function of
// those inputs and the seeded tie-break, not of the replica. What is not shared is each replica's own traffic: its
// in-flight counts and what cache-affinity plugins learn from its own routing, so replicas serving different requests
// may rank differently.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodeKvEventBatch, seqFrame } from '../engine/kv-events.js';
import { blockHashes, localTokens } from '../tokens/index.js';
import {
  applyKvMessage,
  buildRequestContext,
  buildScheduler,
  commitAttempt,
  DEFAULT_ROUTER_CONFIG_YAML,
  dispatchAttempt,
  EngineMetricsIngest,
  kvAwarenessOf,
  PluginRegistry,
  parseRouterConfig,
  RouterMetrics,
  releaseAttempt,
  responseDone,
  type ServerEndpoint,
  UPSTREAM_HELM_ROUTER_CONFIG_YAML,
} from './index.js';
import { ep, seeded } from './testing/fixtures.js';

/** The router's default plugin set, with the built-in tokenizer (no engine to ask for token ids here). */
const DEFAULT_FED = DEFAULT_ROUTER_CONFIG_YAML.replace('tokenizer: auto', 'tokenizer: local');

const NAMES = ['a', 'b', 'c'];
const PREFIXES = Array.from({ length: 5 }, (_, i) => ` system prompt ${i} `.repeat(40));

async function replica(config: string) {
  const reg = new PluginRegistry();
  const metrics = new RouterMetrics();
  const clock = { t: 0, now: () => 0, setInterval: () => 0, clearInterval: () => {} };
  const { scheduler } = await buildScheduler(parseRouterConfig(config, reg), reg, {
    metrics,
    rand: seeded(7),
    clock,
    kvEvents: 'fed',
  });
  const eps = NAMES.map((n) => ep(n, { models: ['m'] }));
  for (const e of eps) for (const p of scheduler.plugins) p.onEndpointAdded?.(e.state);
  return { scheduler, metrics, eps, ingest: new EngineMetricsIngest(() => 0), open: [] as Open[] };
}

type Replica = Awaited<ReturnType<typeof replica>>;

/** The same inputs to each replica: prefix blocks announced by engines, then a scrape of each engine. */
function feed(rs: Replica[]): void {
  for (const r of rs) {
    const kv = kvAwarenessOf(r.metrics);
    PREFIXES.forEach((p, i) => {
      const hashes = blockHashes(localTokens({ model: 'm', prompt: p }), 16);
      const batch = [
        { type: 'BlockStored' as const, blockHashes: hashes, parentBlockHash: null, tokenIds: [], blockSize: 16 },
      ];
      const owner = r.eps[i % NAMES.length].state.key;
      if (kv) applyKvMessage(kv.index, owner, seqFrame(BigInt(i)), encodeKvEventBatch(batch as never, i));
    });
    r.eps.forEach((e, i) => {
      r.ingest.metricsText(
        e.state,
        `vllm:num_requests_waiting 0\nvllm:num_requests_running ${i}\nvllm:kv_cache_usage_perc 0.${i + 1}\n`,
      );
      r.ingest.stamp(e.state);
    });
  }
}

/** One request on one replica, through the same hooks the proxy calls; returns the chosen endpoint's name. */
async function serve(r: Replica, i: number, prompt: string, keepInFlight = false): Promise<string> {
  const body = { model: 'm', prompt, max_tokens: 8 };
  const ctx = buildRequestContext({ id: `r${i}`, body, model: 'm', isLora: false, startedAt: 0 });
  const top = (await r.scheduler.schedule(ctx, r.eps)).ranked[0] as ServerEndpoint;
  dispatchAttempt(r.scheduler.plugins, ctx, top);
  if (keepInFlight) return top.state.name;
  // Up to three requests stay in flight per replica (the oldest ends when a fourth starts), so load spreads.
  r.open.push({ ctx, top });
  if (r.open.length > 3) finish(r, r.open.shift() as Open);
  return top.state.name;
}

type Open = { ctx: ReturnType<typeof buildRequestContext>; top: ServerEndpoint };

function finish(r: Replica, { ctx, top }: Open): void {
  const plugins = r.scheduler.plugins;
  commitAttempt(plugins, ctx, top);
  releaseAttempt(plugins, ctx, top);
  responseDone(plugins, ctx, { endpoint: top, status: 200, ok: true, aborted: false, cachedTokens: 0 }, () => {});
}

const workload = (n: number) =>
  Array.from({ length: n }, (_, i) => `${PREFIXES[(i * 7) % PREFIXES.length]} question ${i % 13} `.repeat(1 + (i % 3)));

for (const [name, config] of [
  ['the default (latency-predictor on fed KV events)', DEFAULT_FED],
  ["upstream's Helm default (least-request, gpu-usage, least-latency, prefix-cache)", UPSTREAM_HELM_ROUTER_CONFIG_YAML],
] as const)
  test(`two replicas fed the same events and requests agree on every decision: ${name}`, async () => {
    assert.notEqual(DEFAULT_FED, DEFAULT_ROUTER_CONFIG_YAML, 'the default names the auto tokenizer');
    const rs = [await replica(config), await replica(config)];
    feed(rs);
    const prompts = workload(120);
    let agree = 0;
    const chosen = new Set<string>();
    for (const [i, p] of prompts.entries()) {
      const [x, y] = [await serve(rs[0], i, p), await serve(rs[1], i, p)];
      if (x === y) agree++;
      chosen.add(x);
    }
    assert.equal(agree / prompts.length, 1, `decision agreement ${agree}/${prompts.length}`);
    assert.ok(chosen.size > 1, 'the workload spreads over several endpoints (agreement is not trivial)');
  });

test("in-flight counts are each replica's own: load on one replica moves only its decisions", async () => {
  const rs = [await replica(UPSTREAM_HELM_ROUTER_CONFIG_YAML), await replica(UPSTREAM_HELM_ROUTER_CONFIG_YAML)];
  feed(rs);
  const p = 'a prompt no engine has seen '.repeat(10);
  const before = await serve(rs[0], 0, p, true);
  assert.equal(await serve(rs[1], 0, p, true), before, 'same inputs, same first choice');
  // Replica 0 alone takes several long requests on that endpoint; replica 1 does not see them.
  const busy = rs[0].eps.find((e) => e.state.name === before) as ServerEndpoint;
  busy.state.inflight += 10;
  assert.notEqual(await serve(rs[0], 1, p), before, 'replica 0 avoids the endpoint it loaded');
  assert.equal(rs[1].eps.find((e) => e.state.name === before)?.state.inflight, 1, 'replica 1 only counts its own');
});
