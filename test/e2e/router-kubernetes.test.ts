// The router's Kubernetes source on the local control plane: CRDs applied from deploy/crds, a ModelServer and
// ModelRoute, engine-sim pods run by the kubelet, and `kthena router --kubeconfig` (runRouter, in process) serving
// chat completions through the openai client while pods are added and removed, with ModelServer status following.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import OpenAI from 'openai';
import { parse } from 'yaml';
import { type Cluster, startCluster } from '../../src/cluster/index.js';
import { CRDS, KubeClient, type KubeObject, MODEL_ROUTES, MODEL_SERVERS, PODS } from '../../src/kube/index.js';
import type { RunningRouter } from '../../src/router/router.js';
import { eventually } from './kubelet-helpers.js';
import { startKubeRouter } from './modelserving-helpers.js';

process.env.LOG_LEVEL ??= 'warn'; // the router's own logs (stderr) would drown the test output
const NS = 'default';
const MODEL = 'e2e-model';
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

let dir: string;
let cluster: Cluster;
let client: KubeClient;
let router: RunningRouter;
let kubeconfig: string;

/** kubectl runs asynchronously: the API server lives in this process and must keep serving. */
function kubectl(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

const simPod = (name: string): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: NS, labels: { app: 'sim-e2e' } },
  spec: {
    containers: [
      {
        name: 'engine',
        image: 'kthena/kthena:latest',
        args: ['engine-sim', '--port', '8000', '--model', MODEL, '--speedup', '20'],
        readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 1 },
      },
    ],
    terminationGracePeriodSeconds: 10,
  },
});

const endpointNames = () =>
  (router.store.view.endpointsByServer.get(`${NS}/sim`) ?? []).map((e) => e.state.name).sort();

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kthena-router-kube-'));
  kubeconfig = join(dir, 'kubeconfig');
  cluster = await startCluster({ port: 0, kubeconfigPath: kubeconfig, nodes: 1, gpusPerNode: 1 });
  client = new KubeClient({ server: cluster.url });
  // Pods first: simulated engines take a few seconds to start on a loaded machine.
  await client.create(PODS, simPod('sim-0'));
  const crdFiles = readdirSync('deploy/crds')
    .filter((f) => f.startsWith('networking.serving.volcano.sh_'))
    .map((f) => join('deploy/crds', f));
  if (hasKubectl) {
    const r = await kubectl(['apply', ...crdFiles.flatMap((f) => ['-f', f])]);
    assert.equal(r.status, 0, r.stderr);
  } else {
    for (const f of crdFiles) await client.create(CRDS, parse(readFileSync(f, 'utf8')) as KubeObject);
  }
  await eventually('CRDs served', async () => {
    await client.list(MODEL_SERVERS, { namespace: NS });
    return true;
  });
  await client.create(MODEL_SERVERS, {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelServer',
    metadata: { name: 'sim', namespace: NS },
    spec: {
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { app: 'sim-e2e' } },
      workloadPort: { port: 8000 },
    },
  } as KubeObject);
  await client.create(MODEL_ROUTES, {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name: 'sim', namespace: NS },
    spec: { modelName: MODEL, rules: [{ targetModels: [{ modelServerName: 'sim' }] }] },
  } as KubeObject);
  router = await startKubeRouter(kubeconfig);
});

after(async () => {
  // Each step runs even if an earlier one fails: the cluster owns engine processes that must be stopped.
  await router?.close().catch(() => {});
  await client?.close().catch(() => {});
  await cluster?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('router --kubeconfig serves a ready engine-sim pod; endpoints follow scale up/down with no failed request', async () => {
  await eventually('router ready', async () => (await fetch(`${router.url}/readyz`)).status === 200);
  await eventually('sim-0 as an endpoint', async () => endpointNames().join() === 'sim-0');
  const openai = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
  const ask = () =>
    openai.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 });
  const first = await ask();
  assert.ok(first.choices[0].message.content);

  // Requests keep flowing while the pod set changes; every one must succeed.
  let failures: string[] = [];
  let sent = 0;
  const load = (until: () => boolean) =>
    (async () => {
      while (!until()) {
        sent++;
        await ask().catch((e: Error) => failures.push(e.message));
      }
    })();

  await client.create(PODS, simPod('sim-1'));
  let done = false;
  const up = Promise.all([load(() => done), load(() => done)]);
  await eventually('sim-1 to join', async () => endpointNames().join() === 'sim-0,sim-1');
  const afterUp = sent;
  await eventually('a few requests after the scale-up', async () => sent >= afterUp + 4);
  done = true;
  await up;
  assert.deepEqual(failures, [], 'no failed request while scaling up');
  const upRequests = sent;

  failures = [];
  done = false;
  const down = Promise.all([load(() => done), load(() => done)]);
  await client.delete(PODS, 'sim-0', NS);
  await eventually('sim-0 to leave', async () => endpointNames().join() === 'sim-1');
  const afterDown = sent;
  await eventually('a few requests after the scale-down', async () => sent >= afterDown + 4);
  done = true;
  await down;
  assert.deepEqual(failures, [], 'no failed request while scaling down');
  process.stdout.write(
    `# router-kubernetes: ${upRequests} requests during scale-up, ${sent - upRequests} during scale-down, 0 failed\n`,
  );
});

test('ModelServer status shows the ready count and Ready; ModelRoute is Accepted', async () => {
  const ms = await eventually('ModelServer status', async () => {
    const o = await client.get<any>(MODEL_SERVERS, 'sim', NS);
    return o.status?.readyEndpoints === endpointNames().length && o.status.conditions?.[0]?.status === 'True'
      ? o
      : undefined;
  });
  assert.equal(ms.status.conditions[0].type, 'Ready');
  assert.equal(ms.status.observedGeneration, ms.metadata.generation);
  const mr = await eventually('ModelRoute status', async () => {
    const o = await client.get<any>(MODEL_ROUTES, 'sim', NS);
    return o.status?.conditions?.length === 2 ? o : undefined;
  });
  assert.deepEqual(
    mr.status.conditions.map((c: any) => `${c.type}=${c.status}`),
    ['Accepted=True', 'ResolvedRefs=True'],
  );
  if (hasKubectl) {
    const r = await kubectl(['wait', '--for=condition=Ready', 'modelserver/sim', '-n', NS, '--timeout=120s']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /condition met/);
  }
});
