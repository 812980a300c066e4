import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterError } from '../errors.js';
import { RouterMetrics } from '../telemetry/metrics.js';
import { ctxFor, ep, seeded } from '../testing/fixtures.js';
import {
  buildScheduler,
  DEFAULT_ROUTER_CONFIG_YAML,
  parseRouterConfig,
  UPSTREAM_HELM_ROUTER_CONFIG_YAML,
} from './config.js';
import { Scheduler } from './framework.js';
import type { SchedulerPlugin } from './plugin.js';
import { PluginRegistry } from './registry.js';

const fixed = (name: string, scores: Record<string, number>): SchedulerPlugin => ({
  name,
  score: (_c, eps) => eps.map((e) => scores[e.state.name] ?? 0),
});

test('total = Σ score × weight, best first, top-N kept', () => {
  const s = new Scheduler({
    filters: [],
    scorers: [
      { plugin: fixed('x', { a: 10, b: 50, c: 30 }), weight: 1 },
      { plugin: fixed('y', { a: 100, b: 0, c: 10 }), weight: 2 },
    ],
    topN: 2,
    rand: seeded(1),
  });
  const r = s.rank(ctxFor('m'), [ep('a'), ep('b'), ep('c')]);
  assert.deepEqual(
    r.ranked.map((e) => e.state.name),
    ['a', 'c'],
  );
  assert.deepEqual(r.scores[0], { endpoint: 'default/a', total: 210, perPlugin: { x: 10, y: 100 } });
});

test('a filter that leaves nothing fails scheduling with its name (503)', () => {
  const s = new Scheduler({
    filters: [{ name: 'none', filter: () => [] }],
    scorers: [],
    topN: 5,
    rand: seeded(1),
  });
  assert.throws(
    () => s.rank(ctxFor('m'), [ep('a')]),
    (e: unknown) => e instanceof RouterError && e.status === 503 && /"none"/.test(e.message),
  );
});

test('ties are broken randomly, not always toward the first endpoint', () => {
  const s = new Scheduler({ filters: [], scorers: [], topN: 1, rand: seeded(7) });
  const firsts = new Set<string>();
  for (let i = 0; i < 30; i++) firsts.add(s.rank(ctxFor('m'), [ep('a'), ep('b'), ep('c')]).ranked[0].state.name);
  assert.equal(firsts.size, 3);
});

test("router configuration: our default is the latency predictor; upstream's Helm default still parses", () => {
  const ours = parseRouterConfig(DEFAULT_ROUTER_CONFIG_YAML, new PluginRegistry());
  assert.deepEqual(ours.scheduler.filters, ['outlier-detection', 'lora-affinity']);
  assert.deepEqual(
    ours.scheduler.scores.map((s) => `${s.name}:${s.weight}`),
    ['latency-predictor:1'],
  );
  const cfg = parseRouterConfig(UPSTREAM_HELM_ROUTER_CONFIG_YAML, new PluginRegistry());
  assert.deepEqual(cfg.scheduler.filters, ['least-request']);
  assert.deepEqual(
    cfg.scheduler.scores.map((s) => `${s.name}:${s.weight}`),
    ['least-request:1', 'gpu-usage:1', 'least-latency:1', 'prefix-cache:1'],
  );
  assert.equal(cfg.scheduler.topN, 5);
});

test('router configuration: unknown plugins are an error naming the known ones', () => {
  const reg = new PluginRegistry();
  assert.throws(
    () => parseRouterConfig('scheduler:\n  plugins:\n    Score:\n      enabled: [{name: nope, weight: 1}]\n', reg),
    /unknown plugin "nope" \(known: gpu-usage, kvcache-aware, latency-predictor, least-latency, least-request, precise-prefix-cache, prefix-cache, random, session-affinity\)/,
  );
  assert.throws(
    () => parseRouterConfig('scheduler:\n  plugins:\n    Filter:\n      enabled: [gpu-usage]\n', reg),
    /known: least-request, lora-affinity/,
  );
  assert.throws(() => parseRouterConfig('scheduler: [', reg), /not valid YAML/);
  assert.throws(
    () => parseRouterConfig('scheduler:\n  plugins:\n    Score:\n      enabled: [{name: random, weight: 1.5}]\n', reg),
    /integer/,
  );
});

test('router configuration: duplicates collapse (last wins), negative weights clamp to 0, ConfigMap form accepted', () => {
  const reg = new PluginRegistry();
  const cfg = parseRouterConfig(
    'scheduler:\n  plugins:\n    Score:\n      enabled: [{name: gpu-usage, weight: 1}, {name: random, weight: -3}, {name: gpu-usage, weight: 4}]\n',
    reg,
  );
  assert.deepEqual(cfg.scheduler.scores, [
    { name: 'random', weight: 0 },
    { name: 'gpu-usage', weight: 4 },
  ]);
  const cm = `apiVersion: v1\nkind: ConfigMap\nmetadata: {name: kthena-router-config}\ndata:\n  routerConfiguration: |\n    scheduler:\n      plugins:\n        Score:\n          enabled: [{name: random, weight: 1}]\n`;
  assert.deepEqual(parseRouterConfig(cm, reg).scheduler.scores, [{ name: 'random', weight: 1 }]);
});

test('buildScheduler removes random when combined with other scorers and validates plugin args', async () => {
  const reg = new PluginRegistry();
  const deps = { metrics: new RouterMetrics(), rand: seeded(1) };
  const cfg = parseRouterConfig('scheduler:\n  plugins:\n    Score:\n      enabled: [random, gpu-usage]\n', reg);
  const built = await buildScheduler(cfg, reg, deps);
  assert.equal(built.warnings.length, 1);
  assert.deepEqual(
    built.scheduler.opts.scorers.map((s) => s.plugin.name),
    ['gpu-usage'],
  );
  const bad = parseRouterConfig(
    'scheduler:\n  pluginConfig:\n  - name: least-latency\n    args: {TTFTTPOTWeightFactor: 7}\n',
    reg,
  );
  await assert.rejects(buildScheduler(bad, reg, deps), /least-latency.*TTFTTPOTWeightFactor/);
});
