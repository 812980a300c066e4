// `kthena up` as a user runs it: one command brings up the local control plane, the controllers, the
// Kubernetes-fed router and a demo model deployed through the API as a ModelBooster; the openai client gets answers;
// kubectl scales the booster and the router follows; Ctrl-C (SIGINT) stops everything and leaves no process behind.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import OpenAI from 'openai';
import { freePort } from '../helpers/ports.js';
import { eventually, kubectl } from '../helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'kthena-up-'));
let child: ChildProcess | undefined;
after(() => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** Every live descendant of `pid` (from /proc): pods are children of the kubelet inside `kthena up`. */
function descendants(pid: number): number[] {
  const parent = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      parent.set(Number(d), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]));
    } catch {
      // exited meanwhile
    }
  }
  const out: number[] = [];
  const walk = (p: number) => {
    for (const [c, pp] of parent) {
      if (pp !== p) continue;
      out.push(c);
      walk(c);
    }
  };
  walk(pid);
  return out;
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test('kthena up: platform up, demo served through the API, scaled with kubectl, Ctrl-C leaves nothing', async () => {
  const kubeconfig = join(dir, 'kubeconfig');
  child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'up',
      '--port',
      '0',
      '--metrics-port',
      '0',
      '--debug-port',
      '0',
      '--api-port',
      '0',
      '--kubeconfig',
      kubeconfig,
      '--replicas',
      '2',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const base = await eventually(
    'kthena up prints Ready',
    async () => (/\nReady\. Try:/.test(stdout) ? /router +(http:\/\/127\.0\.0\.1:\d+)/.exec(stdout)?.[1] : undefined),
    300_000,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout:\n${stdout}\nstderr:\n${stderr.slice(-2000)}`);
  });
  assert.match(stdout, new RegExp(`export KUBECONFIG=${kubeconfig}`));

  const openai = new OpenAI({ baseURL: `${base}/v1`, apiKey: 'unused', maxRetries: 0 });
  const models = await openai.models.list();
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['qwen2-5-0-5b-instruct'],
  );
  const r = await openai.chat.completions.create({
    model: 'qwen2-5-0-5b-instruct',
    messages: [{ role: 'user', content: 'hi' }],
    max_tokens: 4,
  });
  assert.ok(r.choices[0]?.message.content);

  // The demo is a real object of the control plane: kubectl sees and scales it; the router follows.
  const kc = ['--kubeconfig', kubeconfig];
  const get = await kubectl([...kc, 'get', 'modelboosters,modelservings,modelservers,modelroutes', '-o', 'name']);
  assert.equal(get.status, 0, get.stderr);
  assert.deepEqual(get.stdout.trim().split('\n').sort(), [
    'modelbooster.workload.serving.volcano.sh/demo',
    'modelroute.networking.serving.volcano.sh/demo',
    'modelserver.networking.serving.volcano.sh/demo-server',
    'modelserving.workload.serving.volcano.sh/demo-server',
  ]);
  const scale = await kubectl([
    ...kc,
    'patch',
    'modelbooster',
    'demo',
    '--type',
    'merge',
    '-p',
    '{"spec":{"backend":{"replicas":3}}}',
  ]);
  assert.equal(scale.status, 0, scale.stderr);
  const debug = /debug (http:\/\/127\.0\.0\.1:\d+)\/debug\/scheduler/.exec(stdout)?.[1];
  assert.ok(debug, stdout);
  await eventually(
    'the router has the third pod as an endpoint',
    async () => {
      const d = (await (await fetch(`${debug}/debug/scheduler`)).json()) as { endpoints: { modelServers: string[] }[] };
      return d.endpoints.filter((e) => e.modelServers.includes('default/demo-server')).length === 3 ? true : undefined;
    },
    300_000,
  );
  for (let i = 0; i < 6; i++) {
    const res = await openai.chat.completions.create({
      model: 'qwen2-5-0-5b-instruct',
      messages: [{ role: 'user', content: `q${i}` }],
      max_tokens: 1,
    });
    assert.ok(res.choices[0]);
  }
  // The console up printed shows the demo's endpoints and the decisions just made.
  const consoleUrl = /console +(http:\/\/127\.0\.0\.1:\d+\/console\/)/.exec(stdout)?.[1];
  assert.ok(consoleUrl, stdout);
  assert.match(await (await fetch(consoleUrl)).text(), /<html/);
  const state = (await (await fetch(`${consoleUrl}api/state`)).json()) as {
    servers: { key: string; endpoints: unknown[] }[];
    decisions: { model: string }[];
    workloads: { modelServings: { key: string }[]; modelBoosters: { key: string }[]; errors: object } | null;
  };
  assert.equal(state.servers.find((x) => x.key === 'default/demo-server')?.endpoints.length, 3);
  assert.ok(state.decisions.some((d) => d.model === 'qwen2-5-0-5b-instruct'));
  // The router reads the API, so the console shows the workload objects behind the demo too.
  assert.deepEqual(state.workloads?.errors, {});
  assert.ok(state.workloads?.modelServings.some((m) => m.key === 'default/demo-server'));
  assert.ok(state.workloads?.modelBoosters.some((b) => b.key === 'default/demo'));

  // Gateway API mode is on: upstream's ModelRoute-binding-gateway shape, applied unchanged, is served on the
  // Gateway's own listener.
  const gwPort = await freePort();
  const gw = await kubectl(
    [...kc, 'apply', '-f', '-'],
    `apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: kthena-router}
spec: {controllerName: volcano.sh/kthena-router}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: default}
spec:
  gatewayClassName: kthena-router
  listeners: [{name: http, port: ${gwPort}, protocol: HTTP}]
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: demo-gw, namespace: default}
spec:
  modelName: demo-gw
  parentRefs: [{name: gw, namespace: default, kind: Gateway, group: gateway.networking.k8s.io}]
  rules: [{name: default, targetModels: [{modelServerName: demo-server}]}]
`,
  );
  assert.equal(gw.status, 0, gw.stderr);
  const viaGateway = new OpenAI({ baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: 'unused', maxRetries: 0 });
  const g = await eventually(
    'the Gateway listener serves the bound route',
    async () =>
      viaGateway.chat.completions
        .create({ model: 'demo-gw', messages: [{ role: 'user', content: 'hi' }], max_tokens: 1 })
        .catch(() => undefined),
    120_000,
  );
  assert.ok(g.choices[0]);

  const pids = descendants(child.pid!);
  assert.ok(pids.length >= 3, `pod processes under kthena up: ${pids.length}`);
  const exited = new Promise<number | null>((r) => child!.once('exit', (code) => r(code)));
  child.kill('SIGINT');
  assert.equal(await exited, 0, stderr.slice(-2000));
  await eventually(
    'no process of kthena up left',
    async () => (pids.every((p) => !alive(p)) ? true : undefined),
    30_000,
  );
});
