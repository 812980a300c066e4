// The autoscaler end to end on the local control plane, driven as a user would with kubectl: upstream's
// TestAutoscalingPolicyLifecycle (a huge target takes the ModelServing to minReplicas, a small one scales it up,
// deleting the policy stops scaling), plus the failure cases that must never crash-loop or move replicas: a
// missing target and an unreadable metric. Metrics are scraped for real from the engine-sim pods.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { AUTOSCALING_POLICIES, EVENTS } from '../../src/kube/index.js';
import {
  eventually,
  getMs,
  type MsEnv,
  simServing,
  startMsEnv,
  testBehavior,
  waitConverged,
} from './modelserving-helpers.js';

let env: MsEnv;

before(async () => {
  // A short period so the test is quick; policy changes are acted on at once anyway.
  env = await startMsEnv({ nodes: 1, gpusPerNode: 8, autoscalingSyncPeriodMs: 1000 });
});
after(async () => {
  await env?.close();
});

const kubectlOk = async (args: string[], stdin?: string) => {
  const r = await env.kubectl(args, stdin);
  assert.equal(r.status, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
};

/** A homogeneous policy on `vllm:cache_config_info` (1 per engine), with no stabilisation so tests need not wait. */
function policy(name: string, target: string, targetValue: string, port = 8000) {
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'AutoscalingPolicy',
    metadata: { name, namespace: 'default' },
    spec: {
      metrics: [{ name: 'cache_config', targetValue }],
      behavior: testBehavior(),
      homogeneousTarget: {
        minReplicas: 1,
        maxReplicas: 3,
        target: {
          targetRef: { kind: 'ModelServing', name: target },
          metricSources: { cache_config: { pod: { name: 'vllm:cache_config_info', uri: '/metrics', port } } },
        },
      },
    },
  };
}

const getPolicy = (name: string) => env.client.get<any>(AUTOSCALING_POLICIES, name, 'default');
const cond = (p: any, type: string) => p.status?.conditions?.find((c: any) => c.type === type);

test('lifecycle: huge target → minReplicas; small target → scale up; status and events explain; delete stops scaling', async () => {
  await kubectlOk(['apply', '-f', '-'], JSON.stringify(simServing('as-life', 2, [{ name: 'server' }])));
  await waitConverged(env, 'as-life', ['as-life-0-server-0-0', 'as-life-1-server-0-0'], 2);

  await kubectlOk(['apply', '-f', '-'], JSON.stringify(policy('as-life', 'as-life', '1000')));
  await eventually('scaled down to minReplicas 1', async () =>
    (await getMs(env.client, 'as-life')).spec.replicas === 1 ? true : undefined,
  );
  const p1 = await eventually('status written', async () => {
    const p = await getPolicy('as-life');
    return cond(p, 'Ready')?.status === 'True' && p.status?.lastDecisions?.[0]?.desiredReplicas === 1 ? p : undefined;
  });
  const d = p1.status.lastDecisions[0];
  assert.equal(d.target, 'as-life');
  assert.equal(d.metrics[0].name, 'cache_config');
  assert.equal(d.metrics[0].source, 'pod');
  assert.equal(cond(p1, 'TargetFound')?.status, 'True');
  assert.equal(p1.status.homogeneousStatus.name, 'as-life');

  // 100m per instance with one engine reporting 1 → ceil(1 / 0.1) = 10, clamped to maxReplicas 3.
  await kubectlOk([
    'patch',
    'autoscalingpolicy',
    'as-life',
    '--type=json',
    '-p',
    '[{"op":"replace","path":"/spec/metrics/0/targetValue","value":"100m"}]',
  ]);
  await eventually('scaled up to maxReplicas 3', async () =>
    (await getMs(env.client, 'as-life')).spec.replicas === 3 ? true : undefined,
  );
  // Events are written after the scale, best effort: wait for both.
  await eventually('SuccessfulRescale events for 2 → 1 and 1 → 3', async () => {
    const events = await env.client.list<any>(EVENTS, { namespace: 'default' });
    const msgs = events.items
      .filter((e) => e.involvedObject?.name === 'as-life' && e.reason === 'SuccessfulRescale')
      .map((e) => e.message as string);
    return msgs.some((m) => /2 → 1/.test(m)) && msgs.some((m) => /1 → 3/.test(m)) ? true : undefined;
  });
  const described = await kubectlOk(['describe', 'autoscalingpolicy', 'as-life']);
  assert.match(described, /Last Decisions/);
  assert.match(described, /SuccessfulRescale/);

  // Deleting the policy stops scaling: a manual scale stays.
  await kubectlOk(['delete', 'autoscalingpolicy', 'as-life']);
  await kubectlOk(['scale', 'modelserving', 'as-life', '--replicas=2']);
  // Passes of the loop (period 1 s) that start after the scale must not move it: wait on the loop, not on a sleep.
  const scaledAt = Date.now() / 1000;
  const lastPass = async () =>
    (await env.manager!.metrics.getSingleMetric('kthena_autoscaler_last_pass_timestamp_seconds')!.get()).values[0]
      ?.value ?? 0;
  await eventually('three more autoscaler passes', async () => ((await lastPass()) > scaledAt + 3 ? true : undefined));
  assert.equal((await getMs(env.client, 'as-life')).spec.replicas, 2);
  await kubectlOk(['delete', 'modelserving', 'as-life']);
});

test('a policy whose target does not exist reports TargetFound=False and nothing else happens', async () => {
  await kubectlOk(['apply', '-f', '-'], JSON.stringify(policy('as-missing', 'no-such-serving', '1')));
  const p = await eventually('TargetFound=False', async () => {
    const x = await getPolicy('as-missing');
    return cond(x, 'TargetFound')?.status === 'False' ? x : undefined;
  });
  assert.equal(cond(p, 'TargetFound').reason, 'TargetInvalid');
  assert.match(cond(p, 'Ready').message, /no-such-serving not found/);
  await kubectlOk(['delete', 'autoscalingpolicy', 'as-missing']);
});

test('an unreadable metric leaves the replicas alone and says so in status and events', async () => {
  await kubectlOk(['apply', '-f', '-'], JSON.stringify(simServing('as-blind', 2, [{ name: 'server' }])));
  await waitConverged(env, 'as-blind', ['as-blind-0-server-0-0', 'as-blind-1-server-0-0'], 2);
  // Port 1 answers nothing: every scrape fails.
  await kubectlOk(['apply', '-f', '-'], JSON.stringify(policy('as-blind', 'as-blind', '1000', 1)));
  const p = await eventually('Ready=False MetricsUnavailable', async () => {
    const x = await getPolicy('as-blind');
    return cond(x, 'Ready')?.reason === 'MetricsUnavailable' ? x : undefined;
  });
  assert.match(cond(p, 'Ready').message, /replicas left alone: .*scrape of pod as-blind-\d-server-0-0 failed/);
  assert.equal((await getMs(env.client, 'as-blind')).spec.replicas, 2, 'a huge target would have scaled to 1');
  await eventually('FailedGetMetrics event', async () => {
    const events = await env.client.list<any>(EVENTS, { namespace: 'default' });
    return events.items.some((e) => e.involvedObject?.name === 'as-blind' && e.reason === 'FailedGetMetrics')
      ? true
      : undefined;
  });
  await kubectlOk(['delete', 'autoscalingpolicy', 'as-blind']);
  await kubectlOk(['delete', 'modelserving', 'as-blind']);
});
