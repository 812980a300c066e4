// `kthena controller-manager` as real processes against the local control plane, killed with SIGKILL:
// at random points of create, scale and rollout it must converge to the spec once restarted (no state is kept in
// memory that a kill could lose); objects it cannot handle never stop the others; and with leader election a
// standby takes over when the leader is killed (no graceful Lease release).
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import { CONFIGMAPS, LEASES, MODEL_SERVINGS, PODS } from '../../src/kube/index.js';
import {
  eventually,
  expectedNames,
  getMs,
  isReady,
  LABEL,
  type MsEnv,
  NS,
  podsOf,
  servicesOf,
  startMsEnv,
  waitConverged,
} from './modelserving-helpers.js';

let env: MsEnv;
const children = new Set<ChildProcess>();

before(async () => {
  env = await startMsEnv({ nodes: 2, gpusPerNode: 8, manager: false });
});
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  await env?.close();
});

interface Cm {
  proc: ChildProcess;
  /** health/metrics base URL, once the process printed it */
  url: Promise<string>;
  exited: Promise<void>;
  stderr(): string;
}

/** Starts `kthena controller-manager` from source, as a user would run it, on ephemeral ports. */
function startCm(extra: string[] = []): Cm {
  const proc = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'controller-manager',
      '--kubeconfig',
      env.kubeconfig,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
      '--log-level',
      'warn',
      ...extra,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(proc);
  let err = '';
  proc.stderr?.on('data', (d: Buffer) => {
    if (err.length < 20_000) err += d.toString();
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  void exited.then(() => children.delete(proc));
  const url = new Promise<string>((resolve, reject) => {
    let out = '';
    proc.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /health and metrics at (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]);
    });
    void exited.then(() => reject(new Error(`controller-manager exited before serving: ${err.slice(-2000)}`)));
  });
  url.catch(() => {});
  return { proc, url, exited, stderr: () => err };
}

async function kill(cm: Cm): Promise<void> {
  cm.proc.kill('SIGKILL');
  await cm.exited;
}

/** Deterministic "random" kill points, so a failure can be replayed (seed printed). */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Light pods (a `sleep` process, Ready when started) keep this test about the controller, not engine start-up. */
function sleeper(name: string, replicas: number, version: string): ModelServing {
  const tpl = (role: string) => ({
    metadata: { labels: { app: name, version } },
    spec: {
      terminationGracePeriodSeconds: 1,
      containers: [
        { name: role, image: 'busybox:1.36', command: ['sleep', '3600'], env: [{ name: 'V', value: version }] },
      ],
    },
  });
  return {
    apiVersion: 'workload.serving.volcano.sh/v1alpha1',
    kind: 'ModelServing',
    metadata: { name, namespace: NS },
    spec: {
      replicas,
      rolloutStrategy: { type: 'ServingGroupRollingUpdate', rollingUpdateConfiguration: { maxUnavailable: 2 } },
      template: {
        restartGracePeriodSeconds: 0,
        roles: [
          {
            name: 'prefill',
            replicas: 1,
            workerReplicas: 1,
            entryTemplate: tpl('prefill'),
            workerTemplate: tpl('worker'),
          },
          { name: 'decode', replicas: 1, workerReplicas: 0, entryTemplate: tpl('decode') },
        ],
      },
    },
  };
}
const ROLES = [
  { name: 'prefill', workers: 1 },
  { name: 'decode', workers: 0 },
];

async function apply(ms: ModelServing): Promise<void> {
  const r = await env.kubectl(['apply', '-f', '-'], JSON.stringify(ms));
  assert.equal(r.status, 0, r.stderr);
}

/** Converged = exactly the wanted pods, all Ready, all on the update revision, status says so. */
async function converged(name: string, groups: number[], version: string): Promise<void> {
  const pods = await waitConverged(env, name, expectedNames(name, groups, ROLES), groups.length);
  const ms = await getMs(env.client, name);
  assert.equal(ms.status?.currentRevision, ms.status?.updateRevision);
  assert.equal(ms.status?.updatedReplicas, groups.length);
  for (const p of pods) {
    assert.equal(p.metadata?.labels?.[LABEL.revision], ms.status?.updateRevision, `${p.metadata?.name} revision`);
    assert.equal(p.metadata?.labels?.version, version, `${p.metadata?.name} template`);
  }
}

test('controller-manager SIGKILLed at random points of create, scale and rollout converges after restart', async () => {
  const seed = Number(process.env.CHAOS_SEED ?? Date.now() % 100_000);
  const rand = rng(seed);
  process.stdout.write(`# modelserving chaos seed ${seed} (CHAOS_SEED=${seed} replays it)\n`);
  const name = 'chaos';
  const steps: { what: string; change: () => Promise<void>; groups: number[]; version: string }[] = [
    { what: 'create 2', change: () => apply(sleeper(name, 2, 'v1')), groups: [0, 1], version: 'v1' },
    { what: 'scale 2→4', change: () => apply(sleeper(name, 4, 'v1')), groups: [0, 1, 2, 3], version: 'v1' },
    { what: 'rollout v2', change: () => apply(sleeper(name, 4, 'v2')), groups: [0, 1, 2, 3], version: 'v2' },
    { what: 'scale 4→2 + rollout v3', change: () => apply(sleeper(name, 2, 'v3')), groups: [0, 1], version: 'v3' },
  ];
  const log: string[] = [];
  let cm = startCm();
  for (const step of steps) {
    await cm.url;
    await step.change();
    // Kill somewhere in the middle of the work (0–1.5 s after the change), then let a fresh process finish it;
    // that process is the one the next step kills.
    await new Promise((r) => setTimeout(r, Math.floor(rand() * 1500)));
    const live = (await podsOf(env.client, name)).filter((p) => !p.metadata?.deletionTimestamp).length;
    await kill(cm);
    log.push(`${step.what}: killed with ${live} live pods`);
    cm = startCm();
    await cm.url;
    await converged(name, step.groups, step.version);
  }
  await kill(cm);
  process.stdout.write(`# ${log.join('; ')}\n`);
  // No stray objects: one headless Service per prefill instance of the remaining groups.
  const svcs = await servicesOf(env.client, name);
  assert.deepEqual(svcs.map((s) => s.metadata?.name).sort(), [`${name}-0-prefill-0-0`, `${name}-1-prefill-0-0`]);
  assert.equal((await env.kubectl(['delete', 'modelserving', name, '--wait=false'])).status, 0);
});

test('objects the controller cannot act on (foreign, ownerless, unplaceable) never stop the others', async () => {
  // A pod squatting on a name the controller will want, owned by nobody but carrying its labels.
  await env.client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'squat-0-prefill-0-0',
      namespace: NS,
      labels: { [LABEL.name]: 'squat', [LABEL.group]: 'squat-0' },
    },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
  } as Pod);
  // A pod owned by something else entirely (an existing object, or the garbage collector would take the pod),
  // labelled as if it belonged to "good".
  const owner = await env.client.create<any>(CONFIGMAPS, {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'someone-else', namespace: NS },
  } as never);
  await env.client.create(PODS, {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: 'foreign-pod',
      namespace: NS,
      labels: { [LABEL.name]: 'good', [LABEL.group]: 'good-0', [LABEL.role]: 'decode', [LABEL.roleId]: 'decode-0' },
      ownerReferences: [
        { apiVersion: 'v1', kind: 'ConfigMap', name: 'someone-else', uid: owner.metadata.uid, controller: true },
      ],
    },
    spec: { containers: [{ name: 'c', image: 'busybox:1.36', command: ['sleep', '3600'] }] },
  } as Pod);
  // A ModelServing whose decode pods the API server rejects (requests above limits): its reconciles fail every time.
  const bad = sleeper('bad', 1, 'v1');
  bad.spec.template.roles[1].entryTemplate.spec!.containers[0].resources = {
    requests: { cpu: '2' },
    limits: { cpu: '1' },
  };
  await apply(bad);
  const cm = startCm();
  try {
    await cm.url;
    await apply(sleeper('squat', 2, 'v1'));
    await apply(sleeper('good', 2, 'v1'));
    await converged('good', [0, 1], 'v1');
    // The squatter is left alone (group squat-0 cannot complete while it holds the entry's name); squat-1 is made.
    let seen = '';
    await eventually('squat-1 made and Ready', async () => {
      const pods = await podsOf(env.client, 'squat');
      seen = pods.map((p) => `${p.metadata?.name}:${isReady(p)}`).join(',');
      const want = expectedNames('squat', [1], ROLES);
      const g1 = pods.filter((p) => p.metadata?.name?.startsWith('squat-1-'));
      return g1.length === want.length && g1.every((p) => isReady(p)) ? pods : undefined;
    }).catch((err: Error) => {
      throw new Error(`${err.message}; saw ${seen}`);
    });
    const squatter = await env.client.get<Pod>(PODS, 'squat-0-prefill-0-0', NS);
    assert.equal(squatter.metadata?.ownerReferences, undefined, 'the ownerless pod is not adopted');
    assert.equal(squatter.metadata?.deletionTimestamp, undefined, 'the ownerless pod is not deleted');
    const foreign = await env.client.get<Pod>(PODS, 'foreign-pod', NS);
    assert.equal(foreign.metadata?.deletionTimestamp, undefined, 'a pod owned by someone else is never deleted');
    // "bad" has no pods for its invalid role, yet the manager is healthy and keeps reconciling the others.
    const badPods = await podsOf(env.client, 'bad');
    assert.ok(!badPods.some((p) => p.metadata?.name?.startsWith('bad-0-decode')), 'the invalid pod was rejected');
    const url = await cm.url;
    assert.equal((await fetch(`${url}/healthz`)).status, 200);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    assert.match(metrics, /kthena_controller_reconcile_errors_total\{[^}]*\} [1-9]/, 'the failures are counted');
    // and a change to "good" after all that is still acted on
    await apply(sleeper('good', 3, 'v1'));
    await converged('good', [0, 1, 2], 'v1');
  } finally {
    await kill(cm);
  }
  for (const n of ['good', 'squat', 'bad']) await env.kubectl(['delete', 'modelserving', n, '--wait=false']);
  await env.client.delete(PODS, 'foreign-pod', NS).catch(() => {});
  await env.client.delete(CONFIGMAPS, 'someone-else', NS).catch(() => {});
  await env.client.delete(PODS, 'squat-0-prefill-0-0', NS).catch(() => {});
});

test('two controller managers: one leader; SIGKILL the leader and the standby takes over within the lease', async () => {
  const flags = [
    '--leader-elect',
    '--lease-name',
    'ms-e2e',
    '--lease-duration',
    '4',
    '--renew-deadline',
    '3',
    '--retry-period',
    '0.5',
  ];
  const a = startCm(flags);
  const b = startCm(flags);
  try {
    const urls = await Promise.all([a.url, b.url]);
    const leaderOf = async () => {
      const lease = await env.client.get<any>(LEASES, 'ms-e2e', NS);
      return lease.spec?.holderIdentity as string | undefined;
    };
    const first = await eventually('a leader', leaderOf, 60_000);
    const isLeaderMetric = async (url: string) =>
      /^kthena_controller_manager_leader 1$/m.test(await (await fetch(`${url}/metrics`)).text());
    const flags2 = await eventually('exactly one says it leads', async () => {
      const f = await Promise.all(urls.map(isLeaderMetric));
      return f.filter(Boolean).length === 1 ? f : undefined;
    });
    const [leader, standby] = flags2[0] ? [a, b] : [b, a];
    const standbyUrl = flags2[0] ? urls[1] : urls[0];
    await apply(sleeper('ha', 1, 'v1'));
    await converged('ha', [0], 'v1');

    await kill(leader);
    const second = await eventually('the standby holds the Lease', async () => {
      const h = await leaderOf();
      return h && h !== first ? h : undefined;
    });
    assert.notEqual(second, first);
    await eventually('the standby says it leads', () => isLeaderMetric(standbyUrl));
    // The new leader acts: a scale-up made after the kill converges.
    await apply(sleeper('ha', 2, 'v1'));
    await converged('ha', [0, 1], 'v1');
    assert.equal(standby.proc.exitCode, null, 'the standby is still running');
  } finally {
    await Promise.all([kill(a), kill(b)]);
  }
  const ha = await env.client.get<ModelServing>(MODEL_SERVINGS, 'ha', NS);
  assert.equal(ha.status?.availableReplicas, 2);
});
