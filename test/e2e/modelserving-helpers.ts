// Shared by the ModelServing end-to-end suites: a local control plane (API server + kubelet running simulated
// engines + gang scheduler) with a kubeconfig for kubectl, the ModelServing CRDs applied with kubectl, an optional
// in-process controller manager, and helpers to read pods, services and status the way a user would.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod, Service } from 'kubernetes-types/core/v1.js';
import pino from 'pino';
import { runRouter } from '../../src/cli/router.js';
import { type Cluster, startCluster } from '../../src/cluster/index.js';
import { type RunningControllerManager, startControllerManager } from '../../src/controllers/manager.js';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import {
  KubeClient,
  type KubeObject,
  MODEL_ROUTES,
  MODEL_SERVERS,
  MODEL_SERVINGS,
  PODS,
  SERVICES,
} from '../../src/kube/index.js';
import { eventually } from './kubelet-helpers.js';

export { eventually };

export const NS = 'default';
export const LABEL = {
  name: 'modelserving.volcano.sh/name',
  group: 'modelserving.volcano.sh/group-name',
  role: 'modelserving.volcano.sh/role',
  roleId: 'modelserving.volcano.sh/role-id',
  revision: 'modelserving.volcano.sh/revision',
  hash: 'modelserving.volcano.sh/role-template-hash',
  entry: 'modelserving.volcano.sh/entry',
} as const;

export interface KubectlResult {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface MsEnv {
  cluster: Cluster;
  client: KubeClient;
  kubeconfig: string;
  dir: string;
  manager?: RunningControllerManager;
  /** kubectl against this cluster; asynchronous because the API server lives in this process. */
  kubectl(args: string[], stdin?: string): Promise<KubectlResult>;
  close(): Promise<void>;
}

export function runKubectl(kubeconfig: string, args: string[], stdin?: string): Promise<KubectlResult> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, '--request-timeout=30s', ...args], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, KUBECACHEDIR: join(kubeconfig, '..', 'kcache') },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ status: -1, stdout, stderr: e.message }));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/**
 * A local control plane with the kthena CRDs applied by kubectl, and (unless `manager: false`) the controller
 * manager running in this process against it over HTTP.
 */
export async function startMsEnv(opts: {
  nodes: number;
  gpusPerNode: number;
  manager?: boolean;
  autoscalingSyncPeriodMs?: number;
}): Promise<MsEnv> {
  const dir = mkdtempSync(join(tmpdir(), 'kthena-ms-e2e-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const cluster = await startCluster({
    port: 0,
    kubeconfigPath: kubeconfig,
    nodes: opts.nodes,
    gpusPerNode: opts.gpusPerNode,
    dataDir: join(dir, 'data'),
  });
  const client = new KubeClient({ server: cluster.url });
  const kubectl = (args: string[], stdin?: string) => runKubectl(kubeconfig, args, stdin);
  const env: MsEnv = {
    cluster,
    client,
    kubeconfig,
    dir,
    kubectl,
    async close() {
      // Each step runs even if an earlier one fails: the cluster owns engine processes that must be stopped.
      await env.manager?.close().catch(() => {});
      await client.close().catch(() => {});
      await cluster.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    const r = await kubectl(['apply', '-f', 'deploy/crds/']);
    if (r.status !== 0) throw new Error(`kubectl apply -f deploy/crds/: ${r.stderr}`);
    await eventually('ModelServing CRD served', async () => {
      await client.list(MODEL_SERVINGS, { namespace: NS });
      return true;
    });
    if (opts.manager !== false) {
      env.manager = await startControllerManager({
        client,
        log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
        workers: 3,
        port: 0,
        host: '127.0.0.1',
        autoscalingSyncPeriodMs: opts.autoscalingSyncPeriodMs,
      });
    }
  } catch (err) {
    await env.close();
    throw err;
  }
  return env;
}

export const isReady = (p: Pod) =>
  !p.metadata?.deletionTimestamp &&
  p.status?.phase === 'Running' &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

export async function podsOf(client: KubeClient, ms: string): Promise<Pod[]> {
  const list = await client.list<Pod>(PODS, { namespace: NS, labelSelector: `${LABEL.name}=${ms}` });
  return list.items.sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
}

export async function servicesOf(client: KubeClient, ms: string): Promise<Service[]> {
  const list = await client.list<Service>(SERVICES, { namespace: NS, labelSelector: `${LABEL.name}=${ms}` });
  return list.items;
}

export const getMs = (client: KubeClient, name: string) => client.get<ModelServing>(MODEL_SERVINGS, name, NS);

/** Live (not terminating) pod names of a ModelServing, sorted. */
export async function liveNames(client: KubeClient, ms: string): Promise<string[]> {
  return (await podsOf(client, ms)).filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata!.name!);
}

/** Waits until the ModelServing has exactly `names` as live pods, all Ready, and status says `available`. */
export async function waitConverged(env: MsEnv, ms: string, names: string[], available: number): Promise<Pod[]> {
  let seen = '';
  return eventually(
    `${ms}: pods ${names.join(',')} Ready and ${available} available`,
    async () => {
      // By label and by name: a pod that merely carries the labels (someone else's) is not one of ours.
      const pods = (await podsOf(env.client, ms)).filter((p) => p.metadata?.name?.startsWith(`${ms}-`));
      const cur = await getMs(env.client, ms);
      const st = cur.status;
      seen =
        pods
          .map(
            (p) =>
              `${p.metadata?.name}${p.metadata?.deletionTimestamp ? '(deleting)' : ''}:${p.status?.phase}/${isReady(p)}`,
          )
          .join(',') +
        ` status replicas=${st?.replicas} available=${st?.availableReplicas} observed=${st?.observedGeneration}/${cur.metadata.generation}`;
      const live = pods.filter((p) => !p.metadata?.deletionTimestamp);
      if (pods.length !== names.length) return undefined;
      if (live.map((p) => p.metadata?.name).join() !== [...names].sort().join()) return undefined;
      if (!live.every(isReady)) return undefined;
      if (st?.availableReplicas !== available || st.replicas !== available) return undefined;
      if (st.observedGeneration !== cur.metadata.generation) return undefined;
      return live;
    },
    300_000, // engines start slowly when seven engineers share two cores
  ).catch((err: Error) => {
    throw new Error(`${err.message}; last seen: ${seen}`);
  });
}

/**
 * A ModelServing whose pods run the engine simulator (vLLM's image, translated by the local kubelet) with an HTTP
 * readiness probe, and no GPUs so that placement never limits these tests.
 */
export function simServing(
  name: string,
  replicas: number,
  roles: { name: string; replicas?: number; workers?: number }[],
  spec: Partial<ModelServing['spec']> = {},
): ModelServing {
  const engine = (args: string[]) => ({
    spec: {
      terminationGracePeriodSeconds: 5,
      containers: [
        {
          name: 'engine',
          image: 'vllm/vllm-openai:v0.10.0',
          args,
          ports: [{ containerPort: 8000, name: 'http' }],
          readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 2 },
        },
      ],
    },
  });
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      template: {
        restartGracePeriodSeconds: 0,
        roles: roles.map((r) => ({
          name: r.name,
          replicas: r.replicas ?? 1,
          workerReplicas: r.workers ?? 0,
          entryTemplate: engine(['--model', `${name}-model`, '--port', '8000']),
          ...(r.workers
            ? {
                workerTemplate: {
                  spec: {
                    terminationGracePeriodSeconds: 5,
                    containers: [
                      {
                        name: 'worker',
                        image: 'vllm/vllm-openai:v0.10.0',
                        command: ['bash', '-c', 'multi-node-serving.sh worker --ray_address=$(ENTRY_ADDRESS)'],
                      },
                    ],
                  },
                },
              }
            : {}),
        })),
      },
      ...spec,
    },
  };
}

/** Sorted names `<ms>-<g>-<role>-<r>-<k>` for groups × roles (entry k=0 plus workers). */
export function expectedNames(
  ms: string,
  groups: number[],
  roles: { name: string; replicas?: number; workers?: number }[],
): string[] {
  const out: string[] = [];
  for (const g of groups)
    for (const r of roles)
      for (let i = 0; i < (r.replicas ?? 1); i++)
        for (let k = 0; k <= (r.workers ?? 0); k++) out.push(`${ms}-${g}-${r.name}-${i}-${k}`);
  return out.sort();
}

/**
 * `kthena router --kubeconfig` in this process, with quick scrapes and no access log (the e2e suites' router);
 * `over` sets a suite's own flags (gateway modes, access log, scale-from-zero bounds).
 */
export function startKubeRouter(kubeconfig: string, over: Partial<Parameters<typeof runRouter>[0]> = {}) {
  return runRouter({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    debugPort: -1,
    kubeconfig,
    maxBodyBytes: 1 << 20,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
    scrapeInterval: 500,
    drainTimeout: 5_000,
    accessLog: false,
    ...over,
  });
}

/**
 * A ModelServer over the pods of ModelServing `name` (model `<name>-model`, port 8000) and a ModelRoute serving it as
 * model `name`: what a suite needs to send requests to a ModelServing through the router.
 */
export async function routeToServing(client: KubeClient, name: string): Promise<void> {
  await client.create(MODEL_SERVERS, {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelServer',
    metadata: { name, namespace: NS },
    spec: {
      model: `${name}-model`,
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { [LABEL.name]: name } },
      workloadPort: { port: 8000 },
    },
  } as KubeObject);
  await client.create(MODEL_ROUTES, {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name, namespace: NS },
    spec: { modelName: name, rules: [{ targetModels: [{ modelServerName: name }] }] },
  } as KubeObject);
}

/** `kubectl apply` of one object (as JSON on stdin); fails the test with kubectl's message. */
export async function applyObject(env: MsEnv, o: unknown): Promise<void> {
  const r = await env.kubectl(['apply', '-f', '-'], JSON.stringify(o));
  assert.equal(r.status, 0, r.stderr);
}

/**
 * An AutoscalingPolicy `behavior` for tests: no scale-down rate limit and a scale-down window of `downWindowS`;
 * scale-up at once (4 instances a minute), or `oneByOne` (one replica every 2 s) so the order of steps shows.
 */
export function testBehavior(downWindowS = 0, oneByOne = false) {
  return {
    scaleDown: { instances: 0, percent: 100, period: '0s', stabilizationWindow: `${downWindowS}s` },
    scaleUp: {
      stablePolicy: oneByOne
        ? { instances: 1, percent: 0, period: '2s', stabilizationWindow: '0s' }
        : { instances: 4, percent: 100, period: '1m', stabilizationWindow: '0s' },
    },
  };
}
