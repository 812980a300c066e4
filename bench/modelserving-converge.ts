// How fast the ModelServing controller converges N ModelServings × G groups × R roles on the local control plane,
// its reconcile throughput, the API requests it makes per reconcile, and whether an idle cluster causes any.
//
//   npx tsx bench/modelserving-converge.ts [--n 50] [--groups 4] [--roles 2] [--idle 10] [--runs 1] [--mode cluster|api]
//
// --mode cluster (default): the whole local control plane — API server, gang scheduler and kubelet — with every pod a
//   real process (`sleep`, Ready when started), so the figure includes scheduling, process start and status writes.
// --mode api: the API server alone, with a stand-in kubelet that marks pods Running+Ready as they appear: the
//   controller's own figure, without process start-up.
// The controller manager runs in this process on its own KubeClient, whose requests are counted by verb (watches are
// counted when opened). Results: a table on stdout and JSON in bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from 'kubernetes-types/core/v1.js';
import pino from 'pino';
import { crdFor, KINDS } from '../src/api/index.js';
import { startApiServer, startCluster } from '../src/cluster/index.js';
import { startControllerManager } from '../src/controllers/manager.js';
import type { ModelServing } from '../src/controllers/modelserving/types.js';
import { KubeClient } from '../src/kube/client.js';
import { CRDS, Informer, MODEL_SERVINGS, PODS } from '../src/kube/index.js';

const argv = process.argv.slice(2);
const num = (name: string, dflt: number) => {
  const i = argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(argv[i + 1]);
  if (!Number.isFinite(v) || v < 0) throw new Error(`--${name} needs a non-negative number`);
  return v;
};
const N = num('n', 50);
const GROUPS = num('groups', 4);
const ROLES = num('roles', 2);
const IDLE_S = num('idle', 10);
const RUNS = num('runs', 1);
const MODE = argv.includes('--mode') ? argv[argv.indexOf('--mode') + 1] : 'cluster';
if (MODE !== 'cluster' && MODE !== 'api') throw new Error('--mode is cluster or api');
const log = pino({ level: 'silent' });

/** A KubeClient that counts every request it makes, by verb (and watch opens). */
function countingClient(server: string): { client: KubeClient; counts: Map<string, number>; total(): number } {
  const client = new KubeClient({ server });
  const counts = new Map<string, number>();
  const bump = (k: string) => counts.set(k, (counts.get(k) ?? 0) + 1);
  const request = client.request.bind(client);
  client.request = (o) => {
    bump(o.method);
    return request(o);
  };
  const watch = client.watch.bind(client);
  client.watch = (ref, opts, onEvent) => {
    bump('WATCH');
    return watch(ref, opts, onEvent);
  };
  return { client, counts, total: () => [...counts.values()].reduce((a, b) => a + b, 0) };
}

function servingFor(i: number): ModelServing {
  const roles = Array.from({ length: ROLES }, (_, r) => ({
    name: `role${r}`,
    replicas: 1,
    workerReplicas: 0,
    entryTemplate: {
      spec: {
        terminationGracePeriodSeconds: 1,
        containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }],
      },
    },
  }));
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: { name: `bench-${i}`, namespace: 'default' },
    spec: { replicas: GROUPS, template: { roles } },
  };
}

async function metricSum(mgr: Awaited<ReturnType<typeof startControllerManager>>, name: string): Promise<number> {
  const m = mgr.metrics.getSingleMetric(name);
  return m ? (await m.get()).values.reduce((s, v) => s + v.value, 0) : 0;
}

interface RunResult {
  convergeSeconds: number;
  pods: number;
  reconciles: number;
  reconcilesPerSecond: number;
  requests: Record<string, number>;
  requestsPerReconcile: number;
  writesPerReconcile: number;
  idleSeconds: number;
  idleRequests: Record<string, number>;
  idleReconciles: number;
}

async function once(): Promise<RunResult> {
  const dir = join(tmpdir(), `kthena-bench-ms-${process.pid}-${Date.now()}`);
  const nodes = Math.max(1, Math.ceil((N * GROUPS * ROLES) / 100));
  let url: string;
  let close: () => Promise<void>;
  let standIn: Informer<Pod> | undefined;
  if (MODE === 'cluster') {
    const c = await startCluster({ port: 0, nodes, gpusPerNode: 0, logDir: join(dir, 'logs') });
    url = c.url;
    close = () => c.close();
  } else {
    const api = await startApiServer({ port: 0, log, installVolcanoCrds: false });
    url = api.url;
    close = () => api.close();
  }
  const client = new KubeClient({ server: url });
  if (MODE === 'api') {
    standIn = new Informer<Pod>(client, PODS, { namespace: 'default' });
    const ready = (p: Pod) => {
      if (p.status?.phase === 'Running' || p.metadata?.deletionTimestamp) return;
      const st = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
      void client.replace(PODS, { ...p, status: st } as never, { subresource: 'status' }).catch(() => undefined);
    };
    standIn.on('add', ready);
    standIn.on('update', (_a: Pod, b: Pod) => ready(b));
    standIn.start();
  }
  await client.create(CRDS, crdFor(KINDS.ModelServing)).catch(() => undefined); // the cluster may have it already
  for (let i = 0; ; i++) {
    try {
      await client.list(MODEL_SERVINGS, { namespace: 'default' });
      break;
    } catch (err) {
      if (i > 200) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const counted = countingClient(url);
  const mgr = await startControllerManager({ client: counted.client, log, workers: 5, port: 0, host: '127.0.0.1' });
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) await client.create(MODEL_SERVINGS, servingFor(i) as never, { namespace: 'default' });
    for (;;) {
      const list = await client.list<ModelServing>(MODEL_SERVINGS, { namespace: 'default' });
      if (list.items.length === N && list.items.every((m) => m.status?.availableReplicas === GROUPS)) break;
      if (performance.now() - t0 > 900_000) throw new Error('did not converge in 15 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const convergeSeconds = (performance.now() - t0) / 1000;
    const pods = (await client.list<Pod>(PODS, { namespace: 'default' })).items.length;
    // Let trailing watch events (our own status writes echoing back) settle before the idle window.
    await new Promise((r) => setTimeout(r, 2000));
    const reconciles = await metricSum(mgr, 'kthena_controller_reconcile_total');
    const requests = Object.fromEntries(counted.counts);
    const total = counted.total();
    const writes = ['POST', 'PUT', 'PATCH', 'DELETE'].reduce((s, v) => s + (counted.counts.get(v) ?? 0), 0);
    const before = new Map(counted.counts);
    await new Promise((r) => setTimeout(r, IDLE_S * 1000));
    const idleRequests: Record<string, number> = {};
    for (const [k, v] of counted.counts) if (v !== (before.get(k) ?? 0)) idleRequests[k] = v - (before.get(k) ?? 0);
    const idleReconciles = (await metricSum(mgr, 'kthena_controller_reconcile_total')) - reconciles;
    return {
      convergeSeconds,
      pods,
      reconciles,
      reconcilesPerSecond: reconciles / convergeSeconds,
      requests,
      requestsPerReconcile: total / reconciles,
      writesPerReconcile: writes / reconciles,
      idleSeconds: IDLE_S,
      idleRequests,
      idleReconciles,
    };
  } finally {
    await mgr.close();
    await standIn?.stop();
    await counted.client.close();
    await client.close();
    await close();
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main(): Promise<void> {
  const runs: RunResult[] = [];
  for (let r = 0; r < RUNS; r++) {
    const res = await once();
    runs.push(res);
    process.stderr.write(`run ${r + 1}/${RUNS}: ${res.convergeSeconds.toFixed(1)} s\n`);
  }
  const machine = { cores: cpus().length, node: process.version, loadavg1: Number(loadavg()[0].toFixed(2)) };
  const summary = {
    scenario: 'modelserving-converge',
    mode: MODE,
    n: N,
    groups: GROUPS,
    roles: ROLES,
    runs: RUNS,
    machine,
    medianConvergeSeconds: median(runs.map((r) => r.convergeSeconds)),
    medianReconcilesPerSecond: median(runs.map((r) => r.reconcilesPerSecond)),
    medianRequestsPerReconcile: median(runs.map((r) => r.requestsPerReconcile)),
    medianWritesPerReconcile: median(runs.map((r) => r.writesPerReconcile)),
    idleRequestsTotal: runs.reduce((s, r) => s + Object.values(r.idleRequests).reduce((a, b) => a + b, 0), 0),
    results: runs,
  };
  const rows: [string, string][] = [
    ['ModelServings × groups × roles', `${N} × ${GROUPS} × ${ROLES} (${runs[0].pods} pods), mode ${MODE}`],
    ['time to converge (median)', `${summary.medianConvergeSeconds.toFixed(1)} s`],
    ['reconciles (run 1)', String(runs[0].reconciles)],
    ['reconcile throughput (median)', `${summary.medianReconcilesPerSecond.toFixed(1)} /s`],
    ['API requests per reconcile (median)', summary.medianRequestsPerReconcile.toFixed(2)],
    ['  of which writes', summary.medianWritesPerReconcile.toFixed(2)],
    ['requests by verb (run 1)', JSON.stringify(runs[0].requests)],
    [`requests in ${IDLE_S} s idle (all runs)`, `${summary.idleRequestsTotal} ${JSON.stringify(runs[0].idleRequests)}`],
    ['machine', `${machine.cores} cores, Node ${machine.node}, load average ${machine.loadavg1}, ${RUNS} run(s)`],
  ];
  process.stdout.write(`| measure | value |\n|---|---|\n${rows.map(([a, b]) => `| ${a} | ${b} |`).join('\n')}\n`);
  mkdirSync('bench/results', { recursive: true });
  const file = join(
    'bench/results',
    `modelserving-converge-${MODE}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`,
  );
  writeFileSync(file, `${JSON.stringify(summary, null, 2)}\n`);
  process.stdout.write(`results: ${file}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
