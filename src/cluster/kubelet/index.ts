// The local kubelet as a ClusterComponent: registers the simulated nodes (and a default HyperNode tree), renews
// their Leases, watches pods bound to them and runs each as local processes through a PodWorker, writes pod
// status and events, and completes graceful deletion. Talks to the API server over HTTP only.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConfigMap, Container, Node, Pod, Secret } from 'kubernetes-types/core/v1.js';
import type { Logger } from 'pino';
import {
  CONFIGMAPS,
  HYPERNODES,
  Informer,
  KubeApiError,
  KubeClient,
  LEASES,
  NODES,
  PODS,
  SECRETS,
} from '../../kube/index.js';
import { authHeaders } from '../apiserver/auth.js';
import { kubeconfigYaml } from '../apiserver/kubeconfig.js';
import { logFilePath } from '../apiserver/logs.js';
import type { ClusterComponent, ClusterContext } from '../components.js';
import type { HyperNode } from '../scheduler/topology.js';
import { kthenaCli } from './cli-entry.js';
import { postPodEvent } from './events.js';
import { claimNetworkBase, GpuAllocator, networkBaseForPort, nodeSubnet, PodIpAllocator } from './ip-allocator.js';
import { startKubeletServer } from './kubelet-server.js';
import { defaultHyperNodes, defaultNodeSpecs, loadNodesFile, nodeObject, type SimNodeSpec } from './nodes.js';
import { PodWorker } from './pod-worker.js';
import { startProcessGuard } from './process-guard.js';
import { PodStatusWriter } from './status-writer.js';
import { realTimers, rfc3339, type Timers } from './timers.js';

/** Pod annotation with extra `kthena engine-sim` flags for containers that became simulators, e.g. "--speedup 10". */
export const ENGINE_ARGS_ANNOTATION = 'sim.kthena.io/engine-args';

export interface KubeletOptions {
  client: KubeClient;
  nodes: SimNodeSpec[];
  hyperNodes?: HyperNode[];
  /** Second octet of the pod network (127.<base>.<node>.<pod>). */
  networkBase: number;
  /** Working directories of pods; a temporary directory (removed at stop) when omitted. */
  workDir?: string;
  logDir: string;
  simulateEngines: boolean;
  /** The API server's bearer token and CA, written into the pods' kubeconfig. */
  apiServerToken?: string;
  apiServerCa?: string;
  /** Base URL of the API server, exported to pods as KUBERNETES_SERVICE_HOST/PORT. */
  apiServerUrl: string;
  timers?: Timers;
  log?: Logger;
  /** Seconds to wait for pods when the kubelet itself stops (then SIGKILL). */
  shutdownGraceSeconds?: number;
}

interface SimNode {
  spec: SimNodeSpec;
  ips: PodIpAllocator;
  gpus: GpuAllocator;
}

interface PodEntry {
  uid: string;
  pod: Pod;
  node: SimNode;
  ip: string;
  gpuIds: number[];
  podDir: string;
  worker: PodWorker;
  writer: PodStatusWriter;
  deleting?: Promise<void>;
}

const isTerminal = (p: Pod) => p.status?.phase === 'Succeeded' || p.status?.phase === 'Failed';
const micro = (ms: number) => new Date(ms).toISOString().replace(/Z$/, '000Z');

function containerGpus(c: Container): number {
  const v = c.resources?.limits?.['nvidia.com/gpu'] ?? c.resources?.requests?.['nvidia.com/gpu'];
  return v === undefined ? 0 : Number(v) || 0;
}

export interface RunningKubelet {
  nodeNames: string[];
  kubeletPort: number;
  /** Pods this kubelet runs, by uid (for tests and diagnostics). */
  podIPs(): Map<string, string>;
  stop(): Promise<void>;
}

export async function startKubelet(o: KubeletOptions): Promise<RunningKubelet> {
  const timers = o.timers ?? realTimers;
  const client = o.client;
  const log = o.log;
  const ownWorkDir = !o.workDir;
  const workDir = o.workDir ?? mkdtempSync(join(tmpdir(), 'kthena-kubelet-'));
  mkdirSync(join(workDir, 'pods'), { recursive: true });
  const url = new URL(o.apiServerUrl);
  // Before any pod runs: end what a kubelet killed on this work dir left behind, then watch over our own.
  const guard = await startProcessGuard(join(workDir, 'processes'));
  if (guard.reaped.length)
    log?.warn({ processes: guard.reaped }, 'ended container processes a previous kubelet left running');

  const nodes = new Map<string, SimNode>();
  o.nodes.forEach((spec, i) => {
    nodes.set(spec.name, {
      spec,
      ips: new PodIpAllocator(nodeSubnet(o.networkBase, i)),
      gpus: new GpuAllocator(spec.gpus),
    });
  });
  const pods = new Map<string, PodEntry>();
  const warn = (what: string) => (err: unknown) => log?.warn({ err: err instanceof Error ? err.message : err }, what);

  const server = await startKubeletServer((ns, name) => {
    const e = [...pods.values()].find((p) => p.pod.metadata?.namespace === ns && p.pod.metadata?.name === name);
    if (!e) return undefined;
    const statusOf = (c: string) => e.worker.status().containerStatuses?.find((s) => s.name === c);
    return {
      containers: [...(e.pod.spec?.containers ?? []), ...(e.pod.spec?.initContainers ?? [])].map((c) => c.name),
      logPath: (c, previous) => logFilePath(o.logDir, ns, name, c, previous),
      restartCount: (c) => statusOf(c)?.restartCount ?? 0,
      isRunning: (c) => !!statusOf(c)?.state?.running,
    };
  });

  // ---- nodes ----
  const registerNode = async (sim: SimNode) => {
    const obj = nodeObject(sim.spec, {
      kubeletPort: server.port,
      address: server.host,
      podCIDR: sim.ips.cidr,
      now: rfc3339(timers.now()),
    }) as Node & { metadata: { name: string } };
    try {
      await client.create(NODES, obj);
    } catch (err) {
      if (!(err instanceof KubeApiError && err.status === 409)) throw err;
      await client.patch(
        NODES,
        obj.metadata.name,
        undefined,
        { metadata: { labels: obj.metadata.labels }, spec: obj.spec },
        'merge',
      );
    }
    // Status goes through the status subresource, as a real kubelet writes it.
    await client.patch(NODES, obj.metadata.name, undefined, { status: obj.status }, 'merge', { subresource: 'status' });
  };
  for (const sim of nodes.values()) await registerNode(sim);
  for (const hn of o.hyperNodes ?? defaultHyperNodes(o.nodes)) {
    try {
      await client.create(HYPERNODES, hn as never);
    } catch (err) {
      // 409: already there (a persisted cluster); 404: Volcano CRDs not installed.
      if (!(err instanceof KubeApiError && (err.status === 409 || err.status === 404))) warn('creating HyperNode')(err);
    }
  }

  const renewLeases = async () => {
    for (const name of nodes.keys()) {
      const renewTime = micro(timers.now());
      try {
        await client.patch(LEASES, name, 'kube-node-lease', { spec: { renewTime, holderIdentity: name } }, 'merge');
      } catch (err) {
        if (!(err instanceof KubeApiError && err.status === 404)) continue;
        await client
          .create(LEASES, {
            apiVersion: 'coordination.k8s.io/v1',
            kind: 'Lease',
            metadata: { name, namespace: 'kube-node-lease' },
            spec: { holderIdentity: name, leaseDurationSeconds: 40, renewTime },
          } as never)
          .catch(() => undefined);
      }
    }
  };
  let leaseTimer: unknown;
  let stopped = false;
  const leaseLoop = () => {
    if (stopped) return;
    void renewLeases()
      .catch(warn('renewing node leases'))
      .finally(() => {
        if (!stopped) leaseTimer = timers.setTimeout(leaseLoop, 10_000);
      });
  };
  leaseLoop();

  // ---- pods ----
  const envSources = {
    getConfigMap: (ns: string, name: string) =>
      client.get<ConfigMap>(CONFIGMAPS, name, ns).catch((err: unknown) => {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }),
    getSecret: (ns: string, name: string) =>
      client.get<Secret>(SECRETS, name, ns).catch((err: unknown) => {
        if (err instanceof KubeApiError && err.status === 404) return undefined;
        throw err;
      }),
  };
  // The local API server speaks plain HTTP without service-account tokens, so in-cluster credentials cannot
  // work here: pods get a kubeconfig for it instead (KUBECONFIG, with the cluster's token), which `kthena` commands
  // read before in-cluster.
  const podKubeconfig = join(workDir, 'pod-kubeconfig.yaml');
  writeFileSync(podKubeconfig, kubeconfigYaml(o.apiServerUrl, undefined, o.apiServerToken, o.apiServerCa), {
    mode: 0o600,
  });
  const baseEnv: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: process.env.HOME ?? '/tmp',
    KUBERNETES_SERVICE_HOST: url.hostname,
    KUBERNETES_SERVICE_PORT: url.port || (url.protocol === 'https:' ? '443' : '80'),
    KUBECONFIG: podKubeconfig,
  };
  if (process.env.LANG) baseEnv.LANG = process.env.LANG;

  const startPod = (pod: Pod, sim: SimNode) => {
    const uid = pod.metadata?.uid ?? '';
    const ns = pod.metadata?.namespace ?? 'default';
    const name = pod.metadata?.name ?? '';
    const ip = sim.ips.allocate();
    const gpuIds: number[] = [];
    const gpus: Record<string, number[]> = {};
    for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
      const ids = sim.gpus.allocate(containerGpus(c));
      gpus[c.name] = ids;
      gpuIds.push(...ids);
    }
    const podDir = join(workDir, 'pods', `${ns}_${name}_${uid}`);
    const writer = new PodStatusWriter(client, pod, timers, warn(`writing status of ${ns}/${name}`));
    const source = { component: 'kubelet', host: sim.spec.name };
    const extra = pod.metadata?.annotations?.[ENGINE_ARGS_ANNOTATION];
    const worker = new PodWorker(pod, {
      timers,
      podIP: ip,
      hostIP: server.host,
      podDir,
      logPath: (c, previous) => logFilePath(o.logDir, ns, name, c, previous),
      simulateEngines: o.simulateEngines,
      cli: () => kthenaCli(),
      envSources,
      baseEnv,
      gpus,
      extraEngineArgs: extra ? extra.split(/\s+/).filter(Boolean) : undefined,
      tracker: guard,
      onStatus: (s) => writer.set(s),
      onEvent: (e) => postPodEvent(client, entry.pod, e, source, rfc3339(timers.now()), warn('posting event')),
    });
    const entry: PodEntry = { uid, pod, node: sim, ip, gpuIds: [...new Set(gpuIds)], podDir, worker, writer };
    pods.set(uid, entry);
    log?.info({ pod: `${ns}/${name}`, node: sim.spec.name, ip }, 'starting pod');
    worker.start();
  };

  const release = (e: PodEntry) => {
    pods.delete(e.uid);
    e.node.ips.release(e.ip);
    e.node.gpus.release(e.gpuIds);
    rmSync(e.podDir, { recursive: true, force: true });
  };

  /** Graceful deletion: stop the containers within the grace period, write the final status, then remove the pod. */
  const finishDeletion = (e: PodEntry, pod: Pod) => {
    e.deleting ??= (async () => {
      const grace = pod.metadata?.deletionGracePeriodSeconds ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
      await e.worker.terminate(grace);
      await e.writer.drain();
      await forceDelete(pod);
      release(e);
    })().catch(warn('deleting pod'));
  };
  const forceDelete = (pod: Pod) =>
    client
      .delete(PODS, pod.metadata?.name ?? '', pod.metadata?.namespace, {
        gracePeriodSeconds: 0,
        preconditions: { uid: pod.metadata?.uid },
      })
      .catch((err: unknown) => {
        if (err instanceof KubeApiError && (err.status === 404 || err.status === 409)) return;
        throw err;
      });

  const onPod = (pod: Pod) => {
    if (stopped) return;
    const sim = nodes.get(pod.spec?.nodeName ?? '');
    if (!sim) return;
    const uid = pod.metadata?.uid ?? '';
    const e = pods.get(uid);
    if (pod.metadata?.deletionTimestamp) {
      if (e) finishDeletion(e, pod);
      else void forceDelete(pod).catch(warn('deleting pod'));
      return;
    }
    if (e) {
      e.pod = pod;
      e.worker.update(pod);
      return;
    }
    if (isTerminal(pod)) return; // finished pods are never run again
    startPod(pod, sim);
  };
  const informer = new Informer<Pod>(client, PODS);
  informer.on('add', onPod);
  informer.on('update', (_old, pod) => onPod(pod));
  informer.on('delete', (pod) => {
    const e = pods.get(pod.metadata?.uid ?? '');
    if (!e) return;
    // Removed without our help (force delete): stop everything now.
    e.deleting ??= e.worker.terminate(0).then(() => release(e), warn('stopping pod'));
  });
  informer.start();
  await informer.waitForSync();

  return {
    nodeNames: [...nodes.keys()],
    kubeletPort: server.port,
    podIPs: () => new Map([...pods.values()].map((e) => [e.uid, e.ip])),
    async stop() {
      stopped = true;
      timers.clearTimeout(leaseTimer);
      await informer.stop();
      const grace = o.shutdownGraceSeconds ?? 5;
      await Promise.all([...pods.values()].map((e) => e.worker.terminate(grace).then(() => e.writer.drain())));
      for (const e of [...pods.values()]) release(e);
      await guard.close();
      await server.close();
      if (ownWorkDir) rmSync(workDir, { recursive: true, force: true });
    },
  };
}

/** Nodes from the cluster context: a nodes file if given, else --nodes × --gpus-per-node. */
export function nodesFromContext(ctx: Pick<ClusterContext, 'nodes' | 'gpusPerNode' | 'nodesFile'>): {
  nodes: SimNodeSpec[];
  hyperNodes?: HyperNode[];
} {
  if (ctx.nodesFile) return loadNodesFile(ctx.nodesFile);
  return { nodes: defaultNodeSpecs(ctx.nodes, ctx.gpusPerNode) };
}

export const kubeletComponent: ClusterComponent = {
  name: 'kubelet',
  async start(ctx) {
    const client = new KubeClient({
      server: ctx.url,
      userAgent: 'kthena-kubelet',
      headers: authHeaders(ctx.token),
      ca: ctx.ca,
    });
    const { nodes, hyperNodes } = nodesFromContext(ctx);
    const port = Number(new URL(ctx.url).port) || 6443;
    const network = await claimNetworkBase(networkBaseForPort(port));
    const kubelet = await startKubelet({
      client,
      nodes,
      hyperNodes,
      networkBase: network.base,
      workDir: ctx.dataDir ? join(ctx.dataDir, 'kubelet') : undefined,
      logDir: ctx.logDir,
      simulateEngines: ctx.runEngines,
      apiServerUrl: ctx.url,
      apiServerToken: ctx.token,
      apiServerCa: ctx.ca,
      log: ctx.log,
    });
    return {
      async stop() {
        await kubelet.stop();
        await client.close();
        await network.release();
      },
    };
  },
};
