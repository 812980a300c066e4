// kubectl 1.32 against the local API server: apply of the shipped CRDs and examples, get with printer
// columns, get -w, describe with events, delete (with waiting), logs, scale, server-side apply.
import assert from 'node:assert/strict';
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type ApiServer, logFilePath } from '../../src/cluster/apiserver/index.js';
import { call, eventually, PODS, pod, startTestServer } from './cluster-helpers.js';

const KUBECTL = '/usr/bin/kubectl';
const haveKubectl = existsSync(KUBECTL);
let srv: ApiServer;
let dir: string;
let kubeconfig: string;
const children: ChildProcess[] = [];

function kubectl(args: string[], input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      KUBECTL,
      ['--kubeconfig', kubeconfig, ...args],
      { env: { ...process.env, KUBECACHEDIR: join(dir, 'cache'), HOME: dir }, timeout: 60_000 },
      (err, stdout, stderr) => {
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
  });
}

function kubectlStream(args: string[]): { child: ChildProcess; out: () => string } {
  let out = '';
  const child = spawn(KUBECTL, ['--kubeconfig', kubeconfig, ...args], {
    env: { ...process.env, KUBECACHEDIR: join(dir, 'cache'), HOME: dir },
  });
  child.stdout.on('data', (d) => {
    out += String(d);
  });
  children.push(child);
  return { child, out: () => out };
}

describe('kubectl against the local API server', {
  skip: haveKubectl ? false : 'kubectl not installed at /usr/bin/kubectl',
}, () => {
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kthena-kubectl-'));
    kubeconfig = join(dir, 'kubeconfig.yaml');
    srv = await startTestServer({ kubeconfigPath: kubeconfig, logDir: join(dir, 'logs'), logPollMs: 50 });
  });
  after(async () => {
    for (const c of children) c.kill('SIGKILL');
    await srv?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  test('the kubeconfig works at once and the server reports 1.32', async () => {
    const r = await kubectl(['version', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).serverVersion.minor, '32');
    const ar = await kubectl(['api-resources', '--api-group=scheduling.volcano.sh']);
    assert.match(ar.stdout, /podgroups\s+pg,podgroup-v1beta1\s+scheduling.volcano.sh\/v1beta1\s+true\s+PodGroup/);
  });

  test('apply -f deploy/crds/ then -R -f examples/; second apply creates nothing', async () => {
    const crds = await kubectl(['apply', '-f', 'deploy/crds/']);
    assert.equal(crds.code, 0, crds.stderr);
    assert.match(
      crds.stdout,
      /customresourcedefinition.apiextensions.k8s.io\/modelservings.workload.serving.volcano.sh created/,
    );
    const wait = await kubectl([
      'wait',
      '--for=condition=Established',
      'crd/modelroutes.networking.serving.volcano.sh',
      '--timeout=10s',
    ]);
    assert.equal(wait.code, 0, wait.stderr);
    // Examples meant for Kubernetes: everything except the router's file-source engine declarations
    // (EngineEndpoint, a router-local kind no API server serves). Kthena's own namespace exists on a real install.
    const files = kubernetesExamples();
    assert.equal((await kubectl(['create', 'namespace', 'kthena-system'])).code, 0);
    const ex = await kubectl(['apply', ...files.flatMap((f) => ['-f', f])]);
    assert.equal(ex.code, 0, ex.stderr);
    assert.match(ex.stdout, /modelserving.workload.serving.volcano.sh\/\S+ created/);
    assert.match(ex.stdout, /modelroute.networking.serving.volcano.sh\/\S+ created/);
    const again = await kubectl(['apply', ...files.flatMap((f) => ['-f', f])]);
    assert.equal(again.code, 0, again.stderr);
    assert.doesNotMatch(again.stdout, / created/);
    // Per-object RVs (some router "shapes" examples reuse names of other examples, so the global RV may
    // move when both are applied; the workload objects have unique names).
    const rvs = async () =>
      Object.fromEntries(
        (await call(srv.url, 'GET', '/apis/workload.serving.volcano.sh/v1alpha1/modelservings')).body.items.map(
          (i: any) => [i.metadata.name, i.metadata.resourceVersion],
        ),
      );
    const rv1 = await rvs();
    await kubectl(['apply', ...files.flatMap((f) => ['-f', f])]);
    assert.deepEqual(await rvs(), rv1, 're-applying unchanged manifests writes nothing');
  });

  test('get shows printer columns; -o wide adds priority columns', async () => {
    const ms = await kubectl(['get', 'modelservings']);
    assert.equal(ms.code, 0, ms.stderr);
    assert.match(ms.stdout.split('\n')[0], /^NAME\s+REPLICAS/);
    const pg = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata:\n  name: pg1\nspec:\n  minMember: 3\n',
    );
    assert.equal(pg.code, 0, pg.stderr);
    const get = await kubectl(['get', 'pg']);
    assert.match(get.stdout, /NAME\s+STATUS\s+MINMEMBER\s+RUNNINGS\s+AGE\n/);
    assert.match(get.stdout, /pg1\s+3\s+\d+s/);
    const wide = await kubectl(['get', 'pg', '-o', 'wide']);
    assert.match(wide.stdout, /QUEUE/);
    assert.match(wide.stdout, /default/);
    const q = await kubectl(['get', 'queues']);
    assert.match(q.stdout, /default\s+Open\s+1/);
  });

  test('apply: edit → configured, same again → unchanged; server-side apply works', async () => {
    const cm = (v: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k1\ndata:\n  a: "${v}"\n`;
    assert.match((await kubectl(['apply', '-f', '-'], cm('1'))).stdout, /configmap\/k1 created/);
    assert.match((await kubectl(['apply', '-f', '-'], cm('1'))).stdout, /configmap\/k1 unchanged/);
    assert.match((await kubectl(['apply', '-f', '-'], cm('2'))).stdout, /configmap\/k1 configured/);
    const ssa = await kubectl(
      ['apply', '--server-side', '-f', '-'],
      `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k2\ndata:\n  a: "1"\n`,
    );
    assert.equal(ssa.code, 0, ssa.stderr);
    assert.match(ssa.stdout, /configmap\/k2 serverside-applied/);
    const dry = await kubectl(['apply', '--dry-run=server', '-f', '-'], cm('3'));
    assert.equal(dry.code, 0, dry.stderr);
    assert.equal((await call(srv.url, 'GET', '/api/v1/namespaces/default/configmaps/k1')).body.data.a, '2');
    const bad = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: k3\nbogus: 1\n',
    );
    assert.notEqual(bad.code, 0);
  });

  test('strict validation of custom resources rejects unknown fields', async () => {
    const r = await kubectl(
      ['apply', '-f', '-'],
      'apiVersion: scheduling.volcano.sh/v1beta1\nkind: PodGroup\nmetadata:\n  name: pg2\nspec:\n  minMember: 1\n  nope: true\n',
    );
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec.nope"/);
  });

  test('scale a ModelServing through the scale subresource', async () => {
    const r = await kubectl(['scale', 'modelserving/qwen-single', '--replicas=3']);
    assert.equal(r.code, 0, r.stderr);
    const ms = await call(
      srv.url,
      'GET',
      '/apis/workload.serving.volcano.sh/v1alpha1/namespaces/default/modelservings/qwen-single',
    );
    assert.equal(ms.body.spec.replicas, 3);
  });

  test('get pods -w prints the list, then one line per change', async () => {
    await call(srv.url, 'POST', PODS, pod('w1'));
    const w = kubectlStream(['get', 'pods', '-w']);
    await eventually(() => (w.out().includes('w1') ? true : undefined), 20_000, 'initial list');
    await call(srv.url, 'POST', PODS, pod('w2'));
    await eventually(() => (/w2\s+0\/1\s+Pending/.test(w.out()) ? true : undefined), 20_000, 'watch line for w2');
    assert.equal(w.out().match(/^NAME/gm)?.length, 1, 'headers printed once');
    w.child.kill();
  });

  test('describe pod shows its events', async () => {
    const p = await call(srv.url, 'POST', PODS, pod('d1'));
    await call(srv.url, 'POST', '/api/v1/namespaces/default/events', {
      metadata: { name: 'd1.1' },
      involvedObject: { kind: 'Pod', namespace: 'default', name: 'd1', uid: p.body.metadata.uid, apiVersion: 'v1' },
      reason: 'Scheduled',
      message: 'Successfully assigned default/d1 to node-0',
      type: 'Normal',
      source: { component: 'default-scheduler' },
      firstTimestamp: p.body.metadata.creationTimestamp,
      lastTimestamp: p.body.metadata.creationTimestamp,
      count: 1,
    });
    const r = await kubectl(['describe', 'pod', 'd1']);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Events:\n\s+Type\s+Reason\s+Age\s+From\s+Message/);
    assert.match(
      r.stdout,
      /Normal\s+Scheduled\s+\S+\s+default-scheduler\s+Successfully assigned default\/d1 to node-0/,
    );
  });

  test('delete waits for a bound pod until the kubelet-style grace-0 delete', async () => {
    await call(srv.url, 'POST', PODS, pod('g1'));
    await call(srv.url, 'POST', `${PODS}/g1/binding`, { kind: 'Binding', target: { kind: 'Node', name: 'node-0' } });
    const del = kubectl(['delete', 'pod', 'g1', '--timeout=30s']);
    const marked = await eventually(async () => {
      const r = await call(srv.url, 'GET', `${PODS}/g1`);
      return r.body?.metadata?.deletionTimestamp ? r.body : undefined;
    });
    await call(srv.url, 'DELETE', `${PODS}/g1`, { gracePeriodSeconds: 0, preconditions: { uid: marked.metadata.uid } });
    const r = await del;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /pod "g1" deleted/);
  });

  test('logs (plain, tail, follow until the pod is deleted)', async () => {
    await call(srv.url, 'POST', PODS, pod('l1'));
    const file = logFilePath(srv.logDir, 'default', 'l1', 'c');
    await writeFile(file, 'one\ntwo\nthree\n');
    const all = await kubectl(['logs', 'l1']);
    assert.equal(all.stdout, 'one\ntwo\nthree\n');
    const tail = await kubectl(['logs', 'l1', '--tail=1']);
    assert.equal(tail.stdout, 'three\n');
    const f = kubectlStream(['logs', '-f', 'l1']);
    await eventually(() => (f.out().includes('three') ? true : undefined), 20_000, 'initial log');
    await writeFile(file, 'one\ntwo\nthree\nfour\n');
    await eventually(() => (f.out().includes('four') ? true : undefined), 20_000, 'followed line');
    const exited = new Promise<number | null>((res) => f.child.on('exit', (c) => res(c)));
    await call(srv.url, 'DELETE', `${PODS}/l1`);
    assert.equal(await exited, 0);
    const missing = await kubectl(['logs', 'w1']);
    assert.notEqual(missing.code, 0);
    assert.match(missing.stderr, /waiting to start/);
  });

  test('delete a namespace with content; kubectl waits until it is gone', async () => {
    assert.equal((await kubectl(['create', 'namespace', 'tmp'])).code, 0);
    // kubectl's typed generators send protobuf bodies
    assert.equal((await kubectl(['-n', 'tmp', 'create', 'configmap', 'x', '--from-literal=a=b'])).code, 0);
    assert.equal((await kubectl(['-n', 'tmp', 'create', 'secret', 'generic', 's', '--from-literal=k=v'])).code, 0);
    assert.equal((await kubectl(['-n', 'tmp', 'create', 'serviceaccount', 'sa1'])).code, 0);
    const sec = await call(srv.url, 'GET', '/api/v1/namespaces/tmp/secrets/s');
    assert.equal(sec.body.data.k, Buffer.from('v').toString('base64'));
    assert.equal((await call(srv.url, 'GET', '/api/v1/namespaces/tmp/configmaps/x')).body.data.a, 'b');
    const r = await kubectl(['delete', 'namespace', 'tmp', '--timeout=30s']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal((await call(srv.url, 'GET', '/api/v1/namespaces/tmp')).status, 404);
  });
});

function kubernetesExamples(dir = 'examples'): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...kubernetesExamples(p));
    else if (/\.ya?ml$/.test(name) && !/^kind: *EngineEndpoint\b/m.test(readFileSync(p, 'utf8'))) out.push(p);
  }
  return out;
}
