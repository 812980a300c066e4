// Outlier detection against real simulated engines driven by their fault-injection API (POST /admin/faults):
// a Ready-but-stalled engine (it accepts requests and never answers, its health and metrics stay fine) is ejected,
// the requests stuck on it fail over, and it gets no new request; an engine answering 5xx is ejected, then a single
// half-open probe closes its circuit once it recovers. State is checked on /metrics and on the debug server.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { request } from 'undici';
import { parse as parseYaml } from 'yaml';
import { type RunningEngine, startEngines } from '../../src/engine/index.js';
import type { PluginDefinition } from '../../src/router/scheduler/plugin.js';
import {
  endpointYaml,
  type Harness,
  metricSum,
  routeYaml,
  serverYaml,
  startHarness,
} from '../../src/router/testing/harness.js';

const EXAMPLE = join(import.meta.dirname, '../../examples/governance/resilience-router-config.yaml');

/** Counts attempts dispatched per endpoint (a pass-through filter, listed last). */
function recorder() {
  const dispatched = new Map<string, number>();
  const def: PluginDefinition = {
    name: 'test-recorder',
    roles: ['filter'],
    create: () => ({
      name: 'test-recorder',
      filter: (_c, eps) => [...eps],
      onDispatch: (_c, ep) => void dispatched.set(ep.state.name, (dispatched.get(ep.state.name) ?? 0) + 1),
    }),
  };
  return { def, dispatched };
}

/** The example's router configuration with some outlier-detection args overridden for a quick test. */
async function exampleConfig(args: Record<string, unknown>): Promise<string> {
  const cm = parseYaml(await readFile(EXAMPLE, 'utf8'));
  const cfg = parseYaml(cm.data.routerConfiguration);
  const od = cfg.scheduler.pluginConfig.find((p: { name: string }) => p.name === 'outlier-detection');
  Object.assign(od.args, args);
  cfg.scheduler.plugins.Filter.enabled.push('test-recorder');
  return JSON.stringify(cfg);
}

async function boot(
  args: Record<string, unknown>,
): Promise<{ h: Harness; engines: RunningEngine[]; dispatched: Map<string, number> }> {
  const engines = await startEngines({ replicas: 3, model: 'sim', speedup: 20, seed: 1, enableAdmin: true });
  const rec = recorder();
  const eps = engines.map((e, i) => endpointYaml(`pool-${i}`, e, { app: 'pool' })).join('---\n');
  const h = await startHarness(
    {
      'route.yaml': routeYaml('chat', '  modelName: chat\n  rules:\n  - targetModels:\n    - modelServerName: pool\n'),
      'server.yaml': serverYaml(
        'pool',
        '  model: sim\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: pool}}\n  workloadPort: {port: 8000}\n',
      ),
      'engines.yaml': eps,
    },
    { routerConfigText: await exampleConfig(args), extraPlugins: [rec.def], scrapeIntervalMs: 500 },
  ).catch(async (e) => {
    await Promise.all(engines.map((x) => x.close()));
    throw e;
  });
  return { h, engines, dispatched: rec.dispatched };
}

async function fault(e: RunningEngine, method: 'POST' | 'DELETE', body?: unknown): Promise<void> {
  const r = await request(`${e.url}/admin/faults`, {
    method,
    headers: { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  await r.body.text();
  assert.equal(r.statusCode, 200, `fault ${method} accepted`);
}

async function chat(h: Harness, stream: boolean, headers: Record<string, string> = {}): Promise<number> {
  const r = await h.post(
    '/v1/chat/completions',
    {
      model: 'chat',
      // A different opening each time, so prefix-cache affinity does not pin every request to one engine.
      messages: [{ role: 'user', content: `${Math.random().toString(36)} hello there` }],
      max_tokens: 4,
      stream,
    },
    headers,
  );
  return r.status;
}

async function debugState(h: Harness): Promise<any> {
  const r = await request(`http://127.0.0.1:${h.router.debugPort}/debug/scheduler`);
  const body = (await r.body.json()) as any;
  return body.plugins.state['outlier-detection'];
}

test('a Ready-but-stalled engine is ejected, its stuck requests fail over, and it gets no new request', async () => {
  const { h, engines, dispatched } = await boot({
    stallTimeout: '1500ms',
    baseEjectionTime: '10m',
    maxEjectionTime: '10m',
    ttftFactor: 0,
  });
  try {
    await fault(engines[0], 'POST', { mode: 'hang' });
    // Concurrent streams: some land on the hung engine; every one of them must still succeed.
    const statuses = await Promise.all(Array.from({ length: 12 }, () => chat(h, true)));
    assert.deepEqual(statuses, Array(12).fill(200), 'no request lost');
    assert.ok((dispatched.get('pool-0') ?? 0) > 0, 'the hung engine did receive work before it was ejected');
    assert.equal(await metricSum(h.router, 'kthena_router_endpoint_circuit_state', { endpoint: 'default/pool-0' }), 1);
    assert.ok(
      (await metricSum(h.router, 'kthena_router_endpoint_ejections_total', {
        endpoint: 'default/pool-0',
        reason: 'stall',
      })) >= 1,
    );
    const st = await debugState(h);
    const e0 = st.endpoints.find((e: any) => e.endpoint === 'default/pool-0');
    assert.equal(e0.state, 'open');
    assert.equal(e0.reason, 'stall');
    // The engine still looks healthy to the scraper: only the data path is stuck.
    const s0 = h.router.store.endpointStates().find((s) => s.name === 'pool-0')!;
    assert.equal(s0.lastScrapeError, undefined);

    const before = dispatched.get('pool-0') ?? 0;
    const more = await Promise.all(Array.from({ length: 10 }, () => chat(h, false)));
    assert.deepEqual(more, Array(10).fill(200));
    assert.equal(dispatched.get('pool-0') ?? 0, before, 'no new request went to the ejected engine');
  } finally {
    await h.close();
    await Promise.all(engines.map((e) => e.close()));
  }
});

test('5xx in a row eject an engine; after the back-off one probe closes the circuit again', async () => {
  const { h, engines, dispatched } = await boot({
    consecutiveFailures: 2,
    baseEjectionTime: '300ms',
    stallTimeout: '1m',
    ttftFactor: 0,
  });
  try {
    await fault(engines[1], 'POST', { mode: 'error', status: 503 });
    const statuses: number[] = [];
    // Concurrent batches: least-request spreads them over the engines (sequential ones would all go to one).
    for (
      let i = 0;
      i < 20 &&
      (await metricSum(h.router, 'kthena_router_endpoint_circuit_state', { endpoint: 'default/pool-1' })) !== 1;
      i++
    )
      statuses.push(...(await Promise.all(Array.from({ length: 6 }, () => chat(h, false)))));
    assert.ok(
      statuses.every((s) => s === 200),
      'failover hid every 503 from clients',
    );
    let st = await debugState(h);
    assert.equal(st.endpoints.find((e: any) => e.endpoint === 'default/pool-1').reason, 'consecutive_failures');

    await fault(engines[1], 'DELETE');
    // Keep sending until the half-open endpoint is picked for its probe and closes.
    const deadline = Date.now() + 20_000;
    while (Date.now() < deadline) {
      assert.deepEqual(await Promise.all(Array.from({ length: 6 }, () => chat(h, false))), Array(6).fill(200));
      st = await debugState(h);
      if (st.endpoints.find((e: any) => e.endpoint === 'default/pool-1').state === 'closed') break;
    }
    assert.equal(st.endpoints.find((e: any) => e.endpoint === 'default/pool-1').state, 'closed');
    assert.equal(await metricSum(h.router, 'kthena_router_endpoint_circuit_state', { endpoint: 'default/pool-1' }), 0);
    assert.ok((dispatched.get('pool-1') ?? 0) >= 3);
  } finally {
    await h.close();
    await Promise.all(engines.map((e) => e.close()));
  }
});

test('a session sticks to one engine, and moves (and stays) elsewhere when that engine fails', async () => {
  const { h, engines, dispatched } = await boot({ consecutiveFailures: 2, stallTimeout: '1m', ttftFactor: 0 });
  try {
    const sid = { 'x-session-id': 'conv-1' };
    const delta = async (fn: () => Promise<unknown>) => {
      const before = new Map(dispatched);
      await fn();
      return Object.fromEntries([...dispatched].map(([k, v]) => [k, v - (before.get(k) ?? 0)]).filter(([, v]) => v));
    };
    assert.equal(await chat(h, true, sid), 200);
    const first = await delta(async () => {
      const st = await Promise.all(Array.from({ length: 8 }, () => chat(h, true, sid)));
      assert.deepEqual(st, Array(8).fill(200));
    });
    assert.equal(Object.keys(first).length, 1, `one engine served the whole session: ${JSON.stringify(first)}`);
    const pinned = Object.keys(first)[0];
    const others = await delta(async () => {
      await Promise.all(Array.from({ length: 9 }, (_, i) => chat(h, true, { 'x-session-id': `other-${i}` })));
    });
    assert.ok(Object.keys(others).length >= 2, 'other sessions spread over the engines');

    await fault(engines[Number(pinned.split('-')[1])], 'POST', { mode: 'error', status: 500 });
    const moved = await delta(async () => {
      for (let i = 0; i < 6; i++) assert.equal(await chat(h, true, sid), 200, 'failed over, not failed');
    });
    const servedElsewhere = Object.keys(moved).filter((k) => k !== pinned);
    assert.equal(servedElsewhere.length, 1, `the session moved to one other engine: ${JSON.stringify(moved)}`);
    assert.ok((await metricSum(h.router, 'kthena_router_session_affinity_total', { result: 'hit' })) >= 8);
  } finally {
    await h.close();
    await Promise.all(engines.map((e) => e.close()));
  }
});
