// ModelServing end to end on the local control plane, the way a user drives it: manifests applied and scaled with
// kubectl, the controller manager reconciling over HTTP, the kubelet running the engine simulator as each pod's
// command, the router serving the result. Every wait is on a condition with a generous ceiling (the machine is
// shared); nothing asserts on time.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parseAllDocuments } from 'yaml';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import { Informer, type KubeObject, MODEL_ROUTES, MODEL_SERVERS, PODGROUPS, PODS } from '../../src/kube/index.js';
import type { RunningRouter } from '../../src/router/router.js';
import {
  eventually,
  expectedNames,
  getMs,
  isReady,
  LABEL,
  liveNames,
  type MsEnv,
  NS,
  podsOf,
  servicesOf,
  simServing,
  startKubeRouter,
  startMsEnv,
  waitConverged,
} from './modelserving-helpers.js';

process.env.LOG_LEVEL ??= 'warn'; // the router's own logs (stderr) would drown the test output

let env: MsEnv;
let router: RunningRouter | undefined;

before(async () => {
  env = await startMsEnv({ nodes: 2, gpusPerNode: 4 });
});

after(async () => {
  await router?.close().catch(() => {});
  await env?.close();
});

const apply = async (ms: ModelServing) => {
  const r = await env.kubectl(['apply', '-f', '-'], JSON.stringify(ms));
  assert.equal(r.status, 0, r.stderr);
};

const envOf = (p: Pod) => Object.fromEntries((p.spec?.containers[0].env ?? []).map((e) => [e.name, e.value ?? '']));

test('kubectl apply the PD example: pods Ready with upstream names, labels, env and PodGroup; the router serves it', async () => {
  const file = 'examples/modelserving/prefill-decode.yaml';
  const ms = parseAllDocuments(readFileSync(file, 'utf8'))
    .map((d) => d.toJS() as ModelServing)
    .find((d) => d?.kind === 'ModelServing')!;
  const name = ms.metadata.name;
  const r = await env.kubectl(['apply', '-f', file]);
  assert.equal(r.status, 0, r.stderr);

  const roles = ms.spec.template.roles.map((x) => ({ name: x.name, replicas: x.replicas, workers: x.workerReplicas }));
  const want = expectedNames(name, [0], roles);
  const pods = await waitConverged(env, name, want, 1);
  const status = (await getMs(env.client, name)).status!;
  assert.equal(status.currentRevision, status.updateRevision);
  assert.equal(status.conditions?.find((c) => c.type === 'Available')?.status, 'True');

  for (const p of pods) {
    const [, , role, r2] = /^(.*)-(\d+)-(prefill|decode)-(\d+)-0$/.exec(p.metadata!.name!)!.slice(1);
    assert.deepEqual(
      Object.keys(p.metadata?.labels ?? {}).sort(),
      [LABEL.entry, LABEL.group, LABEL.name, LABEL.revision, LABEL.role, LABEL.roleId, LABEL.hash].sort(),
      `${p.metadata?.name}: exactly upstream's labels`,
    );
    const l = p.metadata!.labels!;
    assert.equal(l[LABEL.name], name);
    assert.equal(l[LABEL.group], `${name}-0`);
    assert.equal(l[LABEL.role], role);
    assert.equal(l[LABEL.roleId], `${role}-${r2}`);
    assert.equal(l[LABEL.revision], status.currentRevision);
    assert.match(l[LABEL.hash], /^[0-9a-z]+$/);
    assert.equal(l[LABEL.entry], 'true');
    assert.deepEqual(envOf(p), { GROUP_SIZE: '1', ENTRY_ADDRESS: `${p.metadata!.name}.${NS}`, WORKER_INDEX: '0' });
    assert.equal(p.spec?.schedulerName, 'volcano');
    assert.equal(p.metadata?.annotations?.['scheduling.k8s.io/group-name'], `${name}-0`);
    assert.equal(p.metadata?.annotations?.['volcano.sh/task-spec'], `${role}-${r2}`);
    const owner = p.metadata?.ownerReferences?.[0];
    assert.equal(owner?.kind, 'ModelServing');
    assert.equal(owner?.name, name);
    assert.equal(owner?.controller, true);
  }
  // The two prefill instances share a role-template hash, decode has its own.
  const hashOf = (role: string) =>
    new Set(pods.filter((p) => p.metadata!.labels![LABEL.role] === role).map((p) => p.metadata!.labels![LABEL.hash]));
  assert.equal(hashOf('prefill').size, 1);
  assert.notDeepEqual([...hashOf('prefill')], [...hashOf('decode')]);
  assert.deepEqual(await servicesOf(env.client, name), [], 'no workerTemplate, so no headless Service');
  const pg = await env.client.get<any>(PODGROUPS, `${name}-0`, NS);
  assert.equal(pg.spec.minMember, 2, 'gangPolicy.minRoleReplicas prefill:1 + decode:1');
  assert.equal(pg.metadata.ownerReferences?.[0]?.name, name);

  // The router's Kubernetes source serves the pods through a (non-PD) ModelServer and a ModelRoute.
  await env.client.create(MODEL_SERVERS, {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelServer',
    metadata: { name: 'dsv2-all', namespace: NS },
    spec: {
      model: 'deepseek-ai/DeepSeek-V2-Lite',
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { [LABEL.name]: name } },
      workloadPort: { port: 8000 },
    },
  } as KubeObject);
  await env.client.create(MODEL_ROUTES, {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name: 'dsv2', namespace: NS },
    spec: { modelName: 'dsv2', rules: [{ targetModels: [{ modelServerName: 'dsv2-all' }] }] },
  } as KubeObject);
  router = await startKubeRouter(env.kubeconfig);
  const rt = router;
  await eventually('all three pods as router endpoints', async () => {
    const eps = (rt.store.view.endpointsByServer.get(`${NS}/dsv2-all`) ?? []).map((e) => e.state.name).sort();
    return eps.join() === want.join();
  });
  // No readiness probe in the example, so a pod is Ready once its process starts, a moment before the engine
  // listens (as on a real cluster): the router answers 503 until then.
  const body = await eventually('a 200 from the router', async () => {
    const res = await fetch(`${rt.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'dsv2', messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 }),
    });
    const b = (await res.json()) as { model?: string; choices?: { message?: { content?: string } }[] };
    if (res.status !== 503) assert.equal(res.status, 200, JSON.stringify(b));
    return res.status === 200 ? b : undefined;
  });
  assert.ok(body.choices?.[0]?.message?.content, 'an answer from a simulated engine');
  assert.equal(body.model, 'deepseek-ai/DeepSeek-V2-Lite', 'the ModelServer rewrote the model name for the engine');
});

test('the router serves the PD example through a ModelServer with pdGroup: prefill and decode legs in one group', async () => {
  const rt = router;
  assert.ok(rt, 'the router of the previous test is running');
  const r = await env.kubectl(['apply', '-f', 'examples/router/pd-modelserver.yaml']);
  assert.equal(r.status, 0, r.stderr);
  const metrics = async () => (await fetch(`http://127.0.0.1:${rt.metricsPort}/metrics`)).text();
  const count = (text: string, leg: 'prefill' | 'decode') =>
    [
      ...text.matchAll(
        new RegExp(
          `^kthena_router_request_${leg}_duration_seconds_count\\{[^}]*status_code="200"[^}]*\\} (\\d+)`,
          'gm',
        ),
      ),
    ]
      .map((m) => Number(m[1]))
      .reduce((a, b) => a + b, 0);
  const before = await metrics();
  const body = await eventually('a 200 through the PD ModelServer', async () => {
    const res = await fetch(`${rt.url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        model: 'deepseek-v2-lite',
        messages: [{ role: 'user', content: 'prefill this prompt, then decode somewhere else' }],
        max_tokens: 6,
      }),
    });
    const b = (await res.json()) as {
      choices?: { message?: { content?: string } }[];
      usage?: { completion_tokens?: number };
    };
    return res.status === 200 ? b : undefined;
  });
  assert.ok(body.choices?.[0]?.message?.content);
  const after = await metrics();
  assert.ok(count(after, 'prefill') > count(before, 'prefill'), 'a prefill leg was served');
  assert.ok(count(after, 'decode') > count(before, 'decode'), 'a decode leg was served');
  await rt.close();
  router = undefined;
  assert.equal(
    (await env.kubectl(['delete', '-f', 'examples/modelserving/prefill-decode.yaml', '--wait=false'])).status,
    0,
  );
});

test('kubectl scale 1→3→1: new groups take the next ordinals; scale-down keeps the most expensive to delete', async () => {
  const roles = [{ name: 'server' }];
  await apply(simServing('sc', 1, roles));
  await waitConverged(env, 'sc', expectedNames('sc', [0], roles), 1);

  const up = await env.kubectl(['scale', 'modelserving/sc', '--replicas=3']);
  assert.equal(up.status, 0, up.stderr);
  await waitConverged(env, 'sc', expectedNames('sc', [0, 1, 2], roles), 3);

  // Binpack order: the lowest pod-deletion-cost goes first, ties by highest ordinal. Group 1 is the expensive one,
  // so 3→1 keeps group 1 (plain ordinal order would have kept group 0).
  const cost = await env.kubectl([
    'annotate',
    'pod',
    'sc-1-server-0-0',
    'controller.kubernetes.io/pod-deletion-cost=100',
  ]);
  assert.equal(cost.status, 0, cost.stderr);
  const down = await env.kubectl(['scale', 'modelserving/sc', '--replicas=1']);
  assert.equal(down.status, 0, down.stderr);
  await waitConverged(env, 'sc', ['sc-1-server-0-0'], 1);
  const ms = await getMs(env.client, 'sc');
  assert.equal(ms.status?.replicas, 1);

  // And from 1 up again: the free ordinals 0 and 2 are filled, the survivor keeps its name.
  assert.equal((await env.kubectl(['scale', 'modelserving/sc', '--replicas=2'])).status, 0);
  await waitConverged(env, 'sc', ['sc-0-server-0-0', 'sc-1-server-0-0'], 2);
  assert.equal((await env.kubectl(['delete', 'modelserving/sc', '--wait=false'])).status, 0);
});

test('rolling update with maxUnavailable 1 never has fewer than replicas-1 groups available', async () => {
  const roles = [{ name: 'server' }];
  const ms = simServing('ru', 3, roles, {
    rolloutStrategy: { type: 'ServingGroupRollingUpdate', rollingUpdateConfiguration: { maxUnavailable: 1 } },
  });
  await apply(ms);
  await waitConverged(env, 'ru', expectedNames('ru', [0, 1, 2], roles), 3);
  const oldRevision = (await getMs(env.client, 'ru')).status?.currentRevision;

  // Watch every pod change and, after each, count groups whose pods are all Ready (what can serve traffic).
  const informer = new Informer<Pod>(env.client, PODS, { namespace: NS, labelSelector: `${LABEL.name}=ru` });
  const samples: number[] = [];
  const statusSamples: number[] = [];
  let recording = false; // the initial list arrives as one add per pod: count only once it is complete
  const count = () => {
    if (!recording) return;
    const groups = new Map<string, boolean>();
    for (const p of informer.list()) {
      const g = p.metadata!.labels![LABEL.group];
      groups.set(g, (groups.get(g) ?? true) && isReady(p));
    }
    samples.push([...groups.values()].filter(Boolean).length);
  };
  informer.on('add', count);
  informer.on('update', count);
  informer.on('delete', count);
  informer.start();
  await informer.waitForSync();
  recording = true;
  count();
  try {
    const cur = await getMs(env.client, 'ru');
    cur.spec.template.roles[0].entryTemplate.spec!.containers[0].args = ['--model', 'ru-model-v2', '--port', '8000'];
    delete (cur as { status?: unknown }).status;
    const r = await env.kubectl(
      ['apply', '-f', '-'],
      JSON.stringify({ ...cur, metadata: { name: 'ru', namespace: NS } }),
    );
    assert.equal(r.status, 0, r.stderr);
    const done = await eventually(
      'rollout to finish',
      async () => {
        const m = await getMs(env.client, 'ru');
        statusSamples.push(m.status?.availableReplicas ?? 0);
        const pods = await podsOf(env.client, 'ru');
        const settled =
          m.status?.updateRevision !== oldRevision &&
          m.status?.currentRevision === m.status?.updateRevision &&
          m.status?.updatedReplicas === 3 &&
          m.status?.availableReplicas === 3 &&
          pods.length === 3 &&
          pods.every((p) => isReady(p) && p.metadata!.labels![LABEL.revision] === m.status?.updateRevision);
        return settled ? pods : undefined;
      },
      240_000,
    );
    assert.ok(samples.length > 0, 'the watch saw the rollout');
    assert.ok(Math.min(...samples) >= 2, `ready groups seen by the watch: ${samples.join(',')}`);
    assert.ok(
      Math.min(...statusSamples.slice(1)) >= 2,
      `status.availableReplicas polled during the rollout: ${statusSamples.join(',')}`,
    );
    assert.ok(
      done.every((p) => p.spec?.containers[0].args?.includes('ru-model-v2')),
      'every pod runs the new template',
    );
  } finally {
    await informer.stop();
  }
  assert.equal((await env.kubectl(['delete', 'modelserving/ru', '--wait=false'])).status, 0);
});

// Kill (delete) the entry pod of role "a" and see which pods the controller replaces under each policy.
const recoveryRoles = [{ name: 'a', workers: 1 }, { name: 'b' }];
const recoveryCases: { policy: 'ServingGroupRecreate' | 'RoleRecreate' | 'None'; replaced: string[] }[] = [
  { policy: 'ServingGroupRecreate', replaced: ['0-a-0-0', '0-a-0-1', '0-b-0-0'] },
  { policy: 'RoleRecreate', replaced: ['0-a-0-0', '0-a-0-1'] },
  { policy: 'None', replaced: ['0-a-0-0'] },
];
for (const { policy, replaced } of recoveryCases) {
  test(`recoveryPolicy ${policy}: killing the entry pod replaces ${replaced.length === 3 ? 'the whole group' : replaced.join(' and ')}`, async () => {
    const name = `rc-${policy.toLowerCase()}`;
    await apply(simServing(name, 1, recoveryRoles, { recoveryPolicy: policy }));
    const names = expectedNames(name, [0], recoveryRoles);
    const before = await waitConverged(env, name, names, 1);
    const uid = new Map(before.map((p) => [p.metadata!.name!, p.metadata!.uid!]));

    // A role with a workerTemplate gets one headless Service per instance, named like its entry pod.
    const svcs = await servicesOf(env.client, name);
    assert.deepEqual(
      svcs.map((s) => s.metadata?.name),
      [`${name}-0-a-0-0`],
    );
    assert.equal(svcs[0].spec?.clusterIP, 'None');
    assert.equal(svcs[0].spec?.publishNotReadyAddresses, true);
    assert.deepEqual(svcs[0].spec?.selector, {
      [LABEL.group]: `${name}-0`,
      [LABEL.role]: 'a',
      [LABEL.roleId]: 'a-0',
      [LABEL.entry]: 'true',
    });
    const worker = before.find((p) => p.metadata?.name === `${name}-0-a-0-1`)!;
    assert.deepEqual(envOf(worker), { GROUP_SIZE: '2', ENTRY_ADDRESS: `${name}-0-a-0-0.${NS}`, WORKER_INDEX: '1' });
    assert.equal(worker.metadata?.labels?.[LABEL.entry], undefined, 'workers are not entry pods');

    const del = await env.kubectl(['delete', 'pod', `${name}-0-a-0-0`, '--wait=false']);
    assert.equal(del.status, 0, del.stderr);
    const after = await eventually(
      `${name}: the replaced pods come back Ready`,
      async () => {
        const pods = await podsOf(env.client, name);
        const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
        if (pods.length !== names.length || !live.every(isReady)) return undefined;
        if (!live.some((p) => p.metadata?.name === `${name}-0-a-0-0` && p.metadata.uid !== uid.get(p.metadata.name)))
          return undefined;
        const m = await getMs(env.client, name);
        return m.status?.availableReplicas === 1 ? live : undefined;
      },
      180_000,
    );
    const got = after
      .filter((p) => p.metadata!.uid !== uid.get(p.metadata!.name!))
      .map((p) => p.metadata!.name!.slice(name.length + 1))
      .sort();
    assert.deepEqual(got, replaced);
    assert.deepEqual(await liveNames(env.client, name), names);
    assert.equal((await env.kubectl(['delete', 'modelserving', name, '--wait=false'])).status, 0);
  });
}
