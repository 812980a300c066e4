// `kthena bench chaos`: the platform on the local control plane — what `kthena up` runs, but each part its own process
// so it can be killed: `kthena cluster` (API server + kubelet running engine-sim pods), `kthena controller-manager`,
// and `kthena router --kubeconfig` — under steady streaming load through the router, with a seeded schedule of
// faults (plan.ts) run one after another, and invariants checked as requests end and once everything stopped.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { installCrds } from '../../src/cli/up/index.js';
import {
  KubeClient,
  type KubeObject,
  MODEL_ROUTES,
  MODEL_SERVERS,
  MODEL_SERVINGS,
  PODS,
} from '../../src/kube/index.js';
import { freePort } from '../overhead/procs.js';
import { type ClientOptions, type LoadRecord, steadyLoad, streamOnce } from './load.js';
import {
  classify,
  FAULT_KINDS,
  type FaultKind,
  type Invariant,
  judge,
  type OutcomeClass,
  type PlannedFault,
  planFaults,
  sumByLabel,
  sumMetrics,
  table,
} from './plan.js';

export interface ChaosOptions {
  seconds: number;
  seed: number;
  concurrency: number;
  speedup: number;
  maxTokens: number;
  midStreamFailover: boolean;
  /** Fault kinds to draw from. */
  kinds: FaultKind[];
  gapMs: number;
  json: boolean;
  /** Where the JSON result goes (default bench/results/). */
  outDir?: string;
}

export const DEFAULT_KINDS: FaultKind[] = FAULT_KINDS.filter((k) => k !== 'api-server-restart');

const NS = 'default';
const MODEL = 'chaos';
const SERVINGS = ['chaos-a', 'chaos-b'] as const;
const NAME_LABEL = 'modelserving.volcano.sh/name';
const GAUGES = [
  'kthena_router_active_requests',
  'kthena_router_active_downstream_requests',
  'kthena_router_active_upstream_requests',
] as const;

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The built CLI when there is one (engines start faster), else the sources under tsx. */
function cliArgv(): string[] {
  const dist = join(root, 'dist', 'cli', 'main.js');
  return existsSync(dist) ? [dist] : ['--import', 'tsx', join(root, 'src', 'cli', 'main.ts')];
}

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<void>;
  output(): string;
}

function startProc(name: string, args: string[]): Proc {
  const child = spawn(process.execPath, [...cliArgv(), ...args], { stdio: ['ignore', 'pipe', 'pipe'], cwd: root });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  return { name, child, exited, output: () => out };
}

async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms: number): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await sleep(200);
  }
}

const printed = (p: Proc, re: RegExp, what: string, ms = 180_000) =>
  waitFor(
    what,
    async () => {
      if (p.child.exitCode !== null) throw new Error(`${p.name} exited: ${p.output().slice(-1500)}`);
      return re.exec(p.output())?.[1];
    },
    ms,
  );

function alive(pid: number): boolean {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  }
}

const pidOf = (p: Pod) =>
  Number(/^local:\/\/(\d+)$/.exec(p.status?.containerStatuses?.[0]?.containerID ?? '')?.[1] ?? 0);
const isReady = (p: Pod) =>
  !p.metadata?.deletionTimestamp &&
  p.status?.phase === 'Running' &&
  (p.status?.conditions ?? []).some((c) => c.type === 'Ready' && c.status === 'True');

function serving(name: string, replicas: number, speedup: number): KubeObject {
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      template: {
        restartGracePeriodSeconds: 0,
        roles: [
          {
            name: 'engine',
            replicas: 1,
            workerReplicas: 0,
            entryTemplate: {
              metadata: { annotations: { 'sim.kthena.io/engine-args': `--speedup ${speedup}` } },
              spec: {
                terminationGracePeriodSeconds: 5,
                containers: [
                  {
                    name: 'engine',
                    image: 'vllm/vllm-openai:v0.10.0',
                    args: ['--model', `${MODEL}-model`, '--port', '8000'],
                    ports: [{ containerPort: 8000, name: 'http' }],
                    readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 1 },
                  },
                ],
              },
            },
          },
        ],
      },
    },
  } as KubeObject;
}

const server = (name: string): KubeObject =>
  ({
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelServer',
    metadata: { name, namespace: NS },
    spec: {
      model: `${MODEL}-model`,
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { [NAME_LABEL]: name } },
      workloadPort: { port: 8000 },
    },
  }) as KubeObject;

const route = (weights: number[]): KubeObject =>
  ({
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name: MODEL, namespace: NS },
    spec: {
      modelName: MODEL,
      rules: [{ name: 'default', targetModels: SERVINGS.map((s, i) => ({ modelServerName: s, weight: weights[i] })) }],
    },
  }) as KubeObject;

export interface FaultRecord {
  atMs: number;
  kind: FaultKind;
  target: string;
  detail: string;
  /** Until the platform was whole again (pods Ready, process back), ms. */
  recoveredMs: number;
  ok: boolean;
}

export interface ChaosResult {
  scenario: 'chaos';
  seed: number;
  seconds: number;
  /** How long the load actually ran: faults wait for the previous one's recovery, so a slow machine stretches it. */
  loadSeconds: number;
  options: Omit<ChaosOptions, 'json' | 'outDir'>;
  startedAt: string;
  host: { cores: number; node: string; loadavgStart: number[]; loadavgEnd: number[] };
  requests: Record<OutcomeClass, number> & { total: number; slowOk: number };
  /** The router's upstream attempts by outcome: the failures it absorbed (retries, failovers) beside the successes. */
  upstreamAttempts: Record<string, number>;
  /** A few of the requests that broke an invariant, for diagnosis. */
  violations: { atMs: number; kind: string; class: OutcomeClass; status: number; error?: string; lastFault?: string }[];
  faults: FaultRecord[];
  invariants: Invariant[];
  held: boolean;
}

/** Runs the soak; the platform is always torn down, also when a step fails. */
export async function runChaos(o: ChaosOptions, say: (s: string) => void): Promise<ChaosResult> {
  const dir = mkdtempSync(join(tmpdir(), 'kthena-chaos-'));
  const kubeconfig = join(dir, 'kubeconfig.yaml');
  const procs = new Map<string, Proc>();
  const seenPids = new Map<number, string>();
  let client: KubeClient | undefined;
  const loadavgStart = loadavg();
  const startedAt = new Date().toISOString();
  const apiPort = await freePort();
  const [routerPort, metricsPort] = [await freePort(), await freePort()];
  const clusterArgs = [
    'cluster',
    ...['--port', String(apiPort), '--data-dir', join(dir, 'data'), '--kubeconfig', kubeconfig],
    ...['--nodes', '1', '--gpus-per-node', '8', '--log-level', 'warn'],
  ];
  const startCluster = async () => {
    const p = startProc('cluster', clusterArgs);
    procs.set('cluster', p);
    if (p.child.pid) seenPids.set(p.child.pid, 'kthena cluster');
    await printed(p, /API server at (https?:\/\/\S+)/, 'kthena cluster');
  };
  const startCm = async () => {
    const p = startProc('controller-manager', [
      'controller-manager',
      ...['--kubeconfig', kubeconfig, '--port', '0', '--host', '127.0.0.1', '--log-level', 'warn'],
    ]);
    procs.set('controller-manager', p);
    if (p.child.pid) seenPids.set(p.child.pid, 'kthena controller-manager');
    await printed(p, /health and metrics at (http:\/\/\S+)/, 'kthena controller-manager');
  };
  const sigkill = async (name: string) => {
    const p = procs.get(name);
    if (!p) return;
    p.child.kill('SIGKILL');
    await p.exited;
  };
  const base = `http://127.0.0.1:${routerPort}`;
  const t0 = Date.now();
  const now = () => Date.now() - t0;
  const records: LoadRecord[] = [];
  const faults: FaultRecord[] = [];
  const stopped = new Set<number>();
  const acked = { replicas: 2, weights: [50, 50] };
  let result: ChaosResult | undefined;
  try {
    say(`chaos: starting the local control plane, the controller manager and the router (${dir})`);
    await startCluster();
    client = KubeClient.fromKubeconfig(kubeconfig);
    await installCrds(client);
    await startCm();
    for (const s of SERVINGS) {
      await client.create(MODEL_SERVINGS, serving(s, 2, o.speedup));
      await client.create(MODEL_SERVERS, server(s));
    }
    await client.create(MODEL_ROUTES, route(acked.weights));
    const routerArgs = [
      'router',
      ...['--kubeconfig', kubeconfig, '--port', String(routerPort), '--metrics-port', String(metricsPort)],
      ...['--host', '127.0.0.1', '--debug-port', '-1', '--no-access-log', '--scrape-interval', '1s'],
      ...['--stream-stall-timeout', '3s', '--log-level', 'warn'],
      ...(o.midStreamFailover ? ['--mid-stream-failover'] : []),
    ];
    const router = startProc('router', routerArgs);
    procs.set('router', router);
    if (router.child.pid) seenPids.set(router.child.pid, 'kthena router');
    await printed(router, /serving on (http:\/\/\S+)/, 'kthena router');
    const kube = client;
    const pods = async () =>
      (await kube.list<Pod>(PODS, { namespace: NS })).items.filter((p) =>
        SERVINGS.includes(p.metadata?.labels?.[NAME_LABEL] as (typeof SERVINGS)[number]),
      );
    const allReady = async (want: number) => {
      const ps = (await pods()).filter((p) => !p.metadata?.deletionTimestamp);
      for (const p of ps) if (pidOf(p)) seenPids.set(pidOf(p), `engine ${p.metadata?.name}`);
      return ps.length === want && ps.every(isReady) && ps.every((p) => !stopped.has(pidOf(p)));
    };
    await waitFor('4 engine pods Ready', () => allReady(4), 300_000);
    const clientOpts: ClientOptions = { base, model: MODEL, maxTokens: o.maxTokens };
    await waitFor(
      'a first answer through the router',
      async () => (await streamOnce(clientOpts, 'warm-up')).done,
      120_000,
    );
    say(`chaos: platform up after ${(now() / 1000).toFixed(1)} s; ${o.seconds} s of load, seed ${o.seed}`);

    // ---- load + faults ----
    const loadT0 = now();
    const record = (r: LoadRecord) => {
      records.push({ ...r, startMs: r.startMs - loadT0, endMs: r.endMs - loadT0 });
    };
    const load = steadyLoad({ ...clientOpts, concurrency: o.concurrency, now, onRecord: record });
    const extra: Promise<void>[] = [];
    const wantPods = () => acked.replicas + 2;
    /** Waits until every engine pod is Ready again and none runs a process that must be gone. */
    const recover = async (what: string, gonePid?: number) => {
      const t = now();
      await waitFor(
        what,
        async () =>
          (await allReady(wantPods())) && (gonePid === undefined || !(await pods()).some((p) => pidOf(p) === gonePid)),
        180_000,
      );
      return now() - t;
    };
    const readyPods = async () =>
      (await pods())
        .filter((p) => isReady(p) && pidOf(p))
        .sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
    /** `n` extra clients beside the steady load, recorded like the others (awaited before the end checks). */
    const clients = (n: number, opts: ClientOptions, kind: LoadRecord['kind']) => {
      for (let i = 0; i < n; i++)
        extra.push(
          (async () => {
            const startMs = now();
            const r = await streamOnce(opts, `${kind} client ${i}`);
            record({ ...r, startMs, endMs: now(), kind });
          })(),
        );
    };
    const execute = async (f: PlannedFault): Promise<Omit<FaultRecord, 'atMs' | 'kind'>> => {
      switch (f.kind) {
        case 'engine-sigkill': {
          const ps = await readyPods();
          const p = ps[Math.floor(f.pick * ps.length)];
          const pid = pidOf(p);
          process.kill(pid, 'SIGKILL');
          const recoveredMs = await recover('the killed engine back', pid);
          return { target: p.metadata?.name ?? '', detail: `pid ${pid}`, recoveredMs, ok: !alive(pid) };
        }
        case 'engine-sigstop': {
          const ps = await readyPods();
          const p = ps[Math.floor(f.pick * ps.length)];
          const pid = pidOf(p);
          const ms = 3500 + Math.round(f.pick * 1500);
          process.kill(pid, 'SIGSTOP');
          stopped.add(pid);
          await sleep(ms);
          process.kill(pid, 'SIGCONT');
          stopped.delete(pid);
          const recoveredMs = await recover('the stopped engine Ready again');
          return { target: p.metadata?.name ?? '', detail: `stopped ${ms} ms`, recoveredMs, ok: true };
        }
        case 'scale': {
          const to = acked.replicas === 2 ? 3 : 2;
          await kube.patch(MODEL_SERVINGS, SERVINGS[0], NS, { spec: { replicas: to } }, 'merge');
          acked.replicas = to;
          const recoveredMs = await recover(`${SERVINGS[0]} at ${to} replicas`);
          return { target: SERVINGS[0], detail: `replicas → ${to}`, recoveredMs, ok: true };
        }
        case 'route-weight': {
          const a = 10 + Math.round(f.pick * 80);
          const weights = [a, 100 - a];
          await kube.patch(
            MODEL_ROUTES,
            MODEL,
            NS,
            { spec: (route(weights) as KubeObject & { spec: unknown }).spec },
            'merge',
          );
          acked.weights = weights;
          return { target: MODEL, detail: `weights ${weights.join('/')}`, recoveredMs: 0, ok: true };
        }
        case 'controller-manager-sigkill': {
          const pid = procs.get('controller-manager')?.child.pid ?? 0;
          await sigkill('controller-manager');
          await sleep(500 + Math.round(f.pick * 1500));
          const t = now();
          await startCm();
          return { target: 'controller-manager', detail: `pid ${pid}`, recoveredMs: now() - t, ok: !alive(pid) };
        }
        case 'api-server-restart': {
          const pid = procs.get('cluster')?.child.pid ?? 0;
          await sigkill('cluster');
          const t = now();
          await startCluster();
          await recover('every engine back after the API server restart');
          return {
            target: 'kthena cluster',
            detail: `SIGKILL pid ${pid}, restarted`,
            recoveredMs: now() - t,
            ok: true,
          };
        }
        case 'slow-clients':
          clients(3, { ...clientOpts, readDelayMs: 100 }, 'slow');
          return { target: 'clients', detail: '3 readers pausing 100 ms per chunk', recoveredMs: 0, ok: true };
        case 'aborting-clients':
          clients(5, { ...clientOpts, abortAfterChunks: 2 }, 'aborting');
          return { target: 'clients', detail: '5 clients aborting after 2 chunks', recoveredMs: 0, ok: true };
      }
    };
    const plan = planFaults({ seconds: o.seconds, seed: o.seed, kinds: o.kinds, gapMs: o.gapMs });
    for (const f of plan) {
      if (now() - loadT0 < f.atMs) await sleep(f.atMs - (now() - loadT0));
      const atMs = now() - loadT0;
      let rec: FaultRecord;
      try {
        rec = { atMs, kind: f.kind, ...(await execute(f)) };
      } catch (err) {
        rec = {
          atMs,
          kind: f.kind,
          target: '?',
          detail: (err as Error).message.slice(0, 200),
          recoveredMs: 0,
          ok: false,
        };
      }
      faults.push(rec);
      say(
        `  ${(atMs / 1000).toFixed(1).padStart(6)} s  ${rec.kind.padEnd(27)} ${rec.target} ${rec.detail}${rec.recoveredMs ? ` (whole again in ${(rec.recoveredMs / 1000).toFixed(1)} s)` : ''}`,
      );
    }
    const left = o.seconds * 1000 - (now() - loadT0);
    if (left > 0) await sleep(left);
    load.stop();
    await Promise.all([load.done, ...extra]);
    const loadSeconds = Math.round((now() - loadT0) / 100) / 10;
    for (const pid of stopped) process.kill(pid, 'SIGCONT');

    // ---- end-state invariants ----
    const notConverged: string[] = [];
    await waitFor(
      'ModelServings converged',
      async () => {
        notConverged.length = 0;
        for (const [i, s] of SERVINGS.entries()) {
          const want = i === 0 ? acked.replicas : 2;
          const ms = await kube.get<KubeObject & { status?: Record<string, number> }>(MODEL_SERVINGS, s, NS);
          const live = (await pods()).filter(
            (p) => p.metadata?.labels?.[NAME_LABEL] === s && !p.metadata?.deletionTimestamp,
          );
          const st = ms.status ?? {};
          if (
            (ms as { spec?: { replicas?: number } }).spec?.replicas !== want ||
            live.length !== want ||
            !live.every(isReady) ||
            st.replicas !== want ||
            st.availableReplicas !== want
          )
            notConverged.push(
              `${s}: spec ${want}, ${live.filter(isReady).length}/${live.length} pods Ready, status ${st.replicas}/${st.availableReplicas}`,
            );
        }
        return notConverged.length === 0;
      },
      120_000,
    ).catch(() => undefined);
    const lostWrites: string[] = [];
    const msA = await kube.get<KubeObject & { spec: { replicas: number } }>(MODEL_SERVINGS, SERVINGS[0], NS);
    if (msA.spec.replicas !== acked.replicas)
      lostWrites.push(`${SERVINGS[0]} replicas ${msA.spec.replicas} ≠ ${acked.replicas}`);
    const rt = await kube.get<KubeObject & { spec: { rules: { targetModels: { weight?: number }[] }[] } }>(
      MODEL_ROUTES,
      MODEL,
      NS,
    );
    const w = rt.spec.rules[0].targetModels.map((t) => t.weight);
    if (w.join() !== acked.weights.join()) lostWrites.push(`route weights ${w.join('/')} ≠ ${acked.weights.join('/')}`);
    let inflightAtEnd: Record<string, number> = {};
    await waitFor(
      'router in-flight gauges at 0',
      async () => {
        const text = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
        inflightAtEnd = sumMetrics(text, GAUGES);
        return Object.values(inflightAtEnd).every((n) => n === 0);
      },
      30_000,
    ).catch(() => undefined);
    for (const p of await pods()) if (pidOf(p)) seenPids.set(pidOf(p), `engine ${p.metadata?.name}`);
    const metricsText = await (await fetch(`http://127.0.0.1:${metricsPort}/metrics`)).text();
    const upstreamAttempts = sumByLabel(metricsText, 'kthena_router_upstream_attempts_total', 'outcome');

    // ---- shutdown, then look for anything left running ----
    await kube.close();
    client = undefined;
    await shutdown(procs);
    await sleep(500);
    const orphans = [...seenPids].filter(([pid]) => alive(pid)).map(([pid, what]) => `${what} (pid ${pid})`);

    const counts: Record<OutcomeClass, number> = {
      ok: 0,
      'lost-before-first-byte': 0,
      'cut-mid-stream': 0,
      'client-abort': 0,
    };
    const violations: ChaosResult['violations'] = [];
    for (const r of records) {
      const c = classify(r);
      counts[c]++;
      if (
        (c === 'lost-before-first-byte' || (c === 'cut-mid-stream' && o.midStreamFailover)) &&
        violations.length < 20
      ) {
        const lastFault = [...faults].reverse().find((f) => f.atMs <= r.endMs);
        violations.push({
          atMs: r.endMs,
          kind: r.kind,
          class: c,
          status: r.status,
          error: r.error,
          lastFault: lastFault ? `${lastFault.kind} at ${(lastFault.atMs / 1000).toFixed(1)} s` : undefined,
        });
      }
    }
    const invariants = judge({
      counts,
      midStreamFailover: o.midStreamFailover,
      inflightAtEnd,
      orphans,
      notConverged,
      lostWrites,
      minOk: 1,
    });
    const { json: _j, outDir: _d, ...options } = o;
    result = {
      scenario: 'chaos',
      seed: o.seed,
      seconds: o.seconds,
      loadSeconds,
      options,
      startedAt,
      host: { cores: cpus().length, node: process.version, loadavgStart, loadavgEnd: loadavg() },
      requests: {
        ...counts,
        total: records.length,
        slowOk: records.filter((r) => r.kind === 'slow' && classify(r) === 'ok').length,
      },
      upstreamAttempts,
      violations,
      faults,
      invariants,
      held: invariants.every((i) => i.held),
    };
    return result;
  } finally {
    await client?.close().catch(() => {});
    await shutdown(procs);
    if (result?.held) rmSync(dir, { recursive: true, force: true });
    else say(`chaos: kept ${dir} (logs of the parts are in its data dir and above)`);
  }
}

/** Router first (drains), then the controllers, then the cluster (which stops every pod). */
async function shutdown(procs: Map<string, Proc>): Promise<void> {
  for (const name of ['router', 'controller-manager', 'cluster']) {
    const p = procs.get(name);
    if (!p || p.child.exitCode !== null || p.child.signalCode !== null) continue;
    p.child.kill('SIGTERM');
    const t = setTimeout(() => p.child.kill('SIGKILL'), 30_000);
    await p.exited;
    clearTimeout(t);
  }
}

export function report(r: ChaosResult): string {
  const faultRows = r.faults.map((f) => [
    `${(f.atMs / 1000).toFixed(1)} s`,
    f.kind,
    f.target,
    f.detail,
    f.recoveredMs ? `${(f.recoveredMs / 1000).toFixed(1)} s` : '-',
    f.ok ? 'ok' : 'FAILED',
  ]);
  const inv = r.invariants.map((i) => [i.held ? 'held' : 'BROKEN', i.name, i.detail]);
  const q = r.requests;
  return [
    `chaos: ${r.seconds} s planned (load ran ${r.loadSeconds} s), seed ${r.seed}, ${r.options.concurrency} streaming clients, mid-stream failover ${r.options.midStreamFailover ? 'on' : 'off'}; ${r.host.cores} cores, load average ${r.host.loadavgStart.map((x) => x.toFixed(2)).join(' ')} → ${r.host.loadavgEnd.map((x) => x.toFixed(2)).join(' ')}`,
    '',
    table(['at', 'fault', 'target', 'detail', 'whole again', ''], faultRows),
    '',
    `requests: ${q.total} (ok ${q.ok}, lost before first byte ${q['lost-before-first-byte']}, cut mid-stream ${q['cut-mid-stream']}, aborted by their client ${q['client-abort']}; slow readers completed ${q.slowOk})`,
    `router upstream attempts: ${Object.entries(r.upstreamAttempts)
      .map(([k, n]) => `${k} ${n}`)
      .join(', ')}`,
    '',
    table(['', 'invariant', 'detail'], inv),
    ...(r.violations.length
      ? [
          '',
          'first violations:',
          ...r.violations.map(
            (v) =>
              `  ${(v.atMs / 1000).toFixed(1)} s ${v.kind} ${v.class} status ${v.status} ${v.error ?? ''} (after ${v.lastFault ?? 'no fault'})`,
          ),
        ]
      : []),
  ].join('\n');
}

export async function chaosCommand(o: ChaosOptions): Promise<number> {
  const say = (s: string) => process.stdout.write(`${s}\n`);
  const r = await runChaos(o, o.json ? (s) => process.stderr.write(`${s}\n`) : say);
  const outDir = o.outDir ?? join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = join(outDir, `chaos-seed${o.seed}-${r.startedAt.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(r, null, 2)}\n`);
  if (o.json) say(JSON.stringify({ ...r, file }));
  else say(`\n${report(r)}\n\nJSON: ${file}`);
  return r.held ? 0 : 1;
}
