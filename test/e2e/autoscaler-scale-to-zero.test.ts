// Scale to zero and back, end to end on the local control plane: an idle ModelServing with minReplicas 0 goes to
// zero pods; the first request through the router (official openai client) is held, not failed; the router stamps
// demand on the ModelServer, the autoscaler scales to one at once, the request is answered when the pod is ready,
// and the target goes back to zero when idle. The planes meet only through the Kubernetes API.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { EVENTS, MODEL_SERVERS } from '../../src/kube/index.js';
import type { RunningRouter } from '../../src/router/router.js';
import {
  applyObject,
  eventually,
  getMs,
  isReady,
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

const replicas = async () => (await getMs(env.client, 'zero')).spec.replicas;

test('idle → zero pods; a request is held, scales it from zero, is answered; idle again → zero', async (t) => {
  const apply = (o: unknown) => applyObject(env, o);
  await apply(simServing('zero', 1, [{ name: 'server' }]));
  await routeToServing(env.client, 'zero');
  // A built-in metric name (no metricSources): running requests on the engine port.
  await apply({
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name: 'zero', namespace: NS },
    spec: {
      metrics: [{ name: 'num_requests_running', targetValue: '4' }],
      behavior: testBehavior(),
      homogeneousTarget: { minReplicas: 0, maxReplicas: 2, target: { targetRef: { name: 'zero' } } },
    },
  });

  await eventually('idle: scaled to zero', async () => ((await replicas()) === 0 ? true : undefined), 300_000);
  const server = await eventually('ModelServer marked scalable to zero', async () => {
    const s = await env.client.get<any>(MODEL_SERVERS, 'zero', NS);
    return s.metadata.annotations?.['autoscaling.kthena.io/scale-to-zero'] === 'true' ? s : undefined;
  });
  assert.ok(server);

  router = await startKubeRouter(env.kubeconfig, {
    scaleFromZeroWait: 240_000, // engines start slowly on a shared two-core machine
    scaleFromZeroQueue: 16,
  });
  const rt = router;
  await eventually('router ready with no endpoint for zero', async () =>
    rt.isReady() && (rt.store.view.endpointsByServer.get(`${NS}/zero`) ?? []).length === 0 ? true : undefined,
  );

  const openai = new OpenAI({ baseURL: `${rt.url}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 300_000 });
  const ask = () =>
    openai.chat.completions.create({ model: 'zero', messages: [{ role: 'user', content: 'wake up' }], max_tokens: 4 });
  const sentAt = Date.now();
  const answers = await Promise.all([ask(), ask(), ask()]);
  const answeredAt = Date.now();
  // The target (a figure, not an assertion): the first request after idle is answered within the engine's
  // cold start + 2 s. Cold start here = the new pod's creation to its Ready condition, from the API (1 s resolution).
  const pod = (await podsOf(env.client, 'zero')).find(isReady);
  const created = Date.parse(pod?.metadata?.creationTimestamp ?? '');
  const ready = Date.parse(pod?.status?.conditions?.find((c) => c.type === 'Ready')?.lastTransitionTime ?? '');
  if (Number.isFinite(created) && Number.isFinite(ready))
    t.diagnostic(
      `scale from zero: answered ${((answeredAt - sentAt) / 1000).toFixed(1)} s after sending; pod created ${((created - sentAt) / 1000).toFixed(1)} s after sending, cold start (created → Ready) ${((ready - created) / 1000).toFixed(1)} s; answered ${((answeredAt - ready) / 1000).toFixed(1)} s after Ready`,
    );
  for (const a of answers) assert.ok(a.choices[0]?.message, JSON.stringify(a));

  const s = await env.client.get<any>(MODEL_SERVERS, 'zero', NS);
  assert.ok(s.metadata.annotations?.['autoscaling.kthena.io/demand'], 'the router stamped demand');
  const events = await env.client.list<any>(EVENTS, { namespace: NS });
  assert.ok(
    events.items.some((e) => e.involvedObject?.name === 'zero' && /0 → 1 \(scale from zero/.test(e.message ?? '')),
    JSON.stringify(events.items.filter((e) => e.involvedObject?.name === 'zero').map((e) => e.message)),
  );
  const waits = await rt.metrics.scaleFromZeroWaits.get();
  assert.equal(waits.values.find((v) => v.labels.outcome === 'served')?.value, 3);

  await eventually('idle again: back to zero', async () => ((await replicas()) === 0 ? true : undefined), 300_000);
});
