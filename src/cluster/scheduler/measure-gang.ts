// Measures the time from `kubectl apply` of an N-pod gang (one PodGroup, minMember N) to every pod Ready, on a
// fresh local cluster. Not a test: run it by hand and quote the figures in docs/cluster-kubelet-scheduler.md.
//   node --import tsx src/cluster/scheduler/measure-gang.ts [--pods 100] [--workload sleep|engine] [--runs 3]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { KubeClient, PODS } from '../../kube/index.js';
import { startCluster } from '../index.js';

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : d;
};
const pods = Number(arg('pods', '100'));
const workload = arg('workload', 'sleep');
const runs = Number(arg('runs', '1'));
const gpusPerNode = 8;

function manifest(): string {
  const docs: string[] = [
    `apiVersion: scheduling.volcano.sh/v1beta1
kind: PodGroup
metadata: {name: gang}
spec:
  minMember: ${pods}
  networkTopology: {mode: hard, highestTierAllowed: 2}`,
  ];
  for (let i = 0; i < pods; i++) {
    const container =
      workload === 'engine'
        ? `{name: engine, image: vllm/vllm-openai:latest, command: [vllm, serve, sim-model, --port, "8000"], resources: {limits: {nvidia.com/gpu: "1"}}, readinessProbe: {httpGet: {path: /health, port: 8000}, initialDelaySeconds: 180, periodSeconds: 5}}`
        : `{name: c, image: busybox, command: [sleep, "3600"], resources: {limits: {nvidia.com/gpu: "1"}}}`;
    docs.push(`apiVersion: v1
kind: Pod
metadata: {name: w-${i}, annotations: {scheduling.k8s.io/group-name: gang}}
spec:
  schedulerName: volcano
  terminationGracePeriodSeconds: 1
  containers: [${container}]`);
  }
  return docs.join('\n---\n');
}

async function once(): Promise<{ applyMs: number; boundMs: number; readyMs: number }> {
  const dir = mkdtempSync(join(os.tmpdir(), 'kthena-measure-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const file = join(dir, 'gang.yaml');
  writeFileSync(file, manifest());
  const cluster = await startCluster({
    port: 0,
    nodes: Math.ceil(pods / gpusPerNode),
    gpusPerNode,
    kubeconfigPath: kubeconfig,
  });
  const client = new KubeClient({ server: cluster.url });
  try {
    const t0 = Date.now();
    // Asynchronous: the API server runs in this process and must keep serving while kubectl talks to it.
    const stderr: Buffer[] = [];
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, 'apply', '-f', file], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child.stderr.on('data', (b: Buffer) => stderr.push(b));
    const code = await new Promise<number | null>((res) => child.once('close', res));
    if (code !== 0) throw new Error(`kubectl apply failed: ${Buffer.concat(stderr).toString()}`);
    const applyMs = Date.now() - t0;
    let boundMs = 0;
    for (;;) {
      const list = (await client.list<Pod>(PODS, { namespace: 'default' })).items;
      if (!boundMs && list.length === pods && list.every((p) => p.spec?.nodeName)) boundMs = Date.now() - t0;
      const ready = list.filter((p) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'));
      if (ready.length === pods) return { applyMs, boundMs, readyMs: Date.now() - t0 };
      await new Promise((res) => setTimeout(res, 100));
    }
  } finally {
    await client.close();
    await cluster.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const results: { applyMs: number; boundMs: number; readyMs: number }[] = [];
for (let i = 0; i < runs; i++) {
  const r = await once();
  results.push(r);
  process.stdout.write(
    `run ${i + 1}: kubectl apply returned after ${r.applyMs} ms, all ${pods} bound after ${r.boundMs} ms, all Ready after ${r.readyMs} ms\n`,
  );
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
process.stdout.write(
  `pods=${pods} workload=${workload} runs=${runs} cores=${os.cpus().length} node=${process.version} ` +
    `median apply=${median(results.map((r) => r.applyMs))} ms bound=${median(results.map((r) => r.boundMs))} ms ready=${median(results.map((r) => r.readyMs))} ms\n`,
);
