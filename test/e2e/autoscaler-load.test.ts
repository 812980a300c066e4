// The autoscaler under real load, end to end on the local control plane (issue #15 item 4):
//   - a load step through the Kubernetes-fed router raises the engines' running-request gauge, the controller scales
//     the ModelServing up, the router spreads the load onto the new pods, and when the load stops the replicas come
//     back down only after the policy's scale-down stabilisation window;
//   - a disaggregated (prefill/decode) policy keeps its ratio constraint in every spec it writes while it scales;
//   - a heterogeneous policy fills the cheaper backend before it adds any of the dearer one.
// Metrics are scraped for real from the engine-sim pods.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { ENGINE_ARGS_ANNOTATION } from '../../src/cluster/kubelet/index.js';
import { EVENTS } from '../../src/kube/index.js';
import type { RunningRouter } from '../../src/router/index.js';
import {
  applyObject,
  eventually,
  getMs,
  isReady,
  LABEL,
  type MsEnv,
  NS,
  podsOf,
  routeToServing,
  simServing,
  startKubeRouter,
  startMsEnv,
  testBehavior,
} from './modelserving-helpers.js';

process.env.LOG_LEVEL ??= 'warn';

let env: MsEnv;
let router: RunningRouter | undefined;

before(async () => {
  env = await startMsEnv({ nodes: 1, gpusPerNode: 8, autoscalingSyncPeriodMs: 1000 });
});
after(async () => {
  await router?.close().catch(() => {});
  await env?.close();
});

const apply = (o: unknown) => applyObject(env, o);

/** The ModelServing's engines run in slow motion so a few streams keep them busy without loading the machine. */
function slowServing(name: string, replicas: number, roles: { name: string; replicas?: number }[]) {
  const ms = simServing(name, replicas, roles);
  for (const r of ms.spec.template.roles) {
    const t = r.entryTemplate as { metadata?: { annotations?: Record<string, string> } };
    t.metadata = { ...t.metadata, annotations: { [ENGINE_ARGS_ANNOTATION]: '--speedup 0.2' } };
  }
  return ms;
}

const counter = (text: string, family: string) =>
  text
    .split('\n')
    .filter((l) => l.startsWith(`${family}{`) || l.startsWith(`${family} `))
    .reduce((s, l) => s + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);

/** Requests each ready pod has finished, read from its own /metrics. */
async function servedPerPod(ms: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  for (const p of (await podsOf(env.client, ms)).filter(isReady)) {
    const res = await fetch(`http://${p.status?.podIP}:8000/metrics`);
    out.set(p.metadata?.name ?? '', counter(await res.text(), 'vllm:request_success_total'));
  }
  return out;
}

test('a load step scales up, the router spreads onto the new pods, and scale-down waits for the window', async () => {
  const WINDOW_S = 20;
  await apply(slowServing('load', 1, [{ name: 'server' }]));
  await routeToServing(env.client, 'load');
  // Two running requests per replica; up at once, down only after the window.
  await apply({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name: 'load', namespace: NS },
    spec: {
      metrics: [{ name: 'num_requests_running', targetValue: '2' }],
      behavior: testBehavior(WINDOW_S),
      homogeneousTarget: { minReplicas: 1, maxReplicas: 3, target: { targetRef: { name: 'load' } } },
    },
  });
  router = await startKubeRouter(env.kubeconfig);
  const rt = router;
  await eventually(
    'router sees the first engine',
    async () => ((rt.store.view.endpointsByServer.get(`${NS}/load`) ?? []).length === 1 ? true : undefined),
    180_000,
  );

  // The load step: six clients, each sending one streamed request after another until told to stop.
  const openai = new OpenAI({ baseURL: `${rt.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 300_000 });
  let stop = false;
  const failures: string[] = [];
  const client = async () => {
    while (!stop) {
      try {
        const s = await openai.chat.completions.create({
          model: 'load',
          messages: [{ role: 'user', content: 'tell me a long story' }],
          max_tokens: 48,
          stream: true,
        });
        for await (const _ of s);
      } catch (err) {
        failures.push(String(err));
      }
    }
  };
  const clients = Array.from({ length: 6 }, client);

  try {
    await eventually(
      'scaled up to 3',
      async () => ((await getMs(env.client, 'load')).spec.replicas === 3 ? true : undefined),
      120_000,
    );
    await eventually(
      'the router has three endpoints',
      async () => ((rt.store.view.endpointsByServer.get(`${NS}/load`) ?? []).length === 3 ? true : undefined),
      240_000,
    );
    // Counted from the moment all three serve: every pod, the new ones included, finishes requests.
    const base = await servedPerPod('load');
    await eventually(
      'every pod serves part of the load',
      async () => {
        const now = await servedPerPod('load');
        return now.size === 3 && [...now].every(([pod, n]) => n > (base.get(pod) ?? 0)) ? true : undefined;
      },
      120_000,
    );
  } finally {
    stop = true;
    await Promise.all(clients);
  }
  assert.deepEqual(failures, [], 'no request failed while the fleet scaled');
  const idleSince = Date.now();

  await eventually(
    'scaled back down to 1',
    async () => ((await getMs(env.client, 'load')).spec.replicas === 1 ? true : undefined),
    180_000,
  );
  // A lower bound only: however slow the machine, the window cannot have been skipped.
  const heldS = (Date.now() - idleSince) / 1000;
  assert.ok(heldS >= WINDOW_S - 2, `scaled down after ${heldS.toFixed(1)} s of idleness; the window is ${WINDOW_S} s`);
  const events = await env.client.list<any>(EVENTS, { namespace: NS });
  const msgs = events.items.filter((e) => e.involvedObject?.name === 'load').map((e) => String(e.message));
  assert.ok(
    msgs.some((m) => / → 3 /.test(m)),
    `scale-up event: ${JSON.stringify(msgs)}`,
  );
  assert.ok(
    msgs.some((m) => /[23] → 1 /.test(m)),
    `scale-down event: ${JSON.stringify(msgs)}`,
  );
});

test('disaggregated: the prefill/decode ratio constraint holds in every spec the controller writes', async () => {
  await apply(slowServing('pd', 1, [{ name: 'prefill' }, { name: 'decode' }]));
  const seen: [number, number][] = [];
  const roleReplicas = async () => {
    const ms = await getMs(env.client, 'pd');
    const of = (n: string) => ms.spec.template.roles.find((r) => r.name === n)?.replicas ?? 1;
    return [of('prefill'), of('decode')] as [number, number];
  };
  // Prefill reads vllm:cache_config_info (1 per engine) against a target of 0.1, so it asks for its maximum, 3, one
  // replica per step (the scale-up rate limit); decode reads its idle running-request gauge (0), so alone it would stay
  // at 1. The constraint prefill/decode ≤ 2 must raise decode to 2 as prefill reaches 3.
  const source = (family: string) => ({ cache_config: { pod: { name: family, uri: '/metrics', port: 8000 } } });
  await apply({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name: 'pd', namespace: NS },
    spec: {
      metrics: [{ name: 'cache_config', targetValue: '100m' }],
      behavior: testBehavior(0, true),
      disaggregatedTarget: {
        targetRef: { name: 'pd' },
        roles: {
          prefill: { minReplicas: 1, maxReplicas: 3, metricSources: source('vllm:cache_config_info') },
          decode: { minReplicas: 1, maxReplicas: 3, metricSources: source('vllm:num_requests_running') },
        },
        ratioConstraint: { numeratorRole: 'prefill', denominatorRole: 'decode', minRatio: '500m', maxRatio: '2' },
      },
    },
  });
  await eventually(
    'prefill at its maximum and decode raised by the ratio',
    async () => {
      const r = await roleReplicas();
      if (seen.at(-1)?.join() !== r.join()) seen.push(r);
      return r[0] === 3 && r[1] === 2 ? true : undefined;
    },
    120_000,
  );
  for (const [p, d] of seen.slice(1))
    assert.ok(p / d >= 0.5 && p / d <= 2, `every written spec keeps 0.5 ≤ prefill/decode ≤ 2: ${JSON.stringify(seen)}`);
  await eventually(
    'pods of both roles follow',
    async () => {
      const pods = (await podsOf(env.client, 'pd')).filter(isReady);
      const of = (role: string) => pods.filter((p) => p.metadata?.labels?.[LABEL.role] === role).length;
      return of('prefill') === 3 && of('decode') === 2 ? true : undefined;
    },
    240_000,
  );
});

test('heterogeneous: the cheaper backend is filled before any of the dearer one is added', async () => {
  await apply(slowServing('cheap', 1, [{ name: 'server' }]));
  await apply(slowServing('dear', 0, [{ name: 'server' }]));
  const source = { cache_config: { pod: { name: 'vllm:cache_config_info', uri: '/metrics', port: 8000 } } };
  // The total grows by one replica per step (the scale-up rate limit), so the order in which the backends fill shows.
  await apply({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name: 'mix', namespace: NS },
    spec: {
      metrics: [{ name: 'cache_config', targetValue: '300m' }],
      behavior: testBehavior(0, true),
      heterogeneousTarget: {
        costExpansionRatePercent: 200,
        params: [
          { target: { targetRef: { name: 'dear' }, metricSources: source }, cost: 100, minReplicas: 0, maxReplicas: 2 },
          { target: { targetRef: { name: 'cheap' }, metricSources: source }, cost: 10, minReplicas: 1, maxReplicas: 2 },
        ],
      },
    },
  });
  const seen: [number, number][] = [];
  await eventually(
    'both at their maximum',
    async () => {
      const r: [number, number] = [
        (await getMs(env.client, 'cheap')).spec.replicas ?? 1,
        (await getMs(env.client, 'dear')).spec.replicas ?? 1,
      ];
      if (seen.at(-1)?.join() !== r.join()) seen.push(r);
      return r[0] === 2 && r[1] === 2 ? true : undefined;
    },
    180_000,
  );
  for (const [cheap, dear] of seen)
    assert.ok(dear === 0 || cheap === 2, `dear replicas only once cheap is full: ${JSON.stringify(seen)}`);
  assert.ok(
    seen.some(([c, d]) => c === 2 && d === 0),
    `the cheap backend reached its maximum alone first: ${JSON.stringify(seen)}`,
  );
});
