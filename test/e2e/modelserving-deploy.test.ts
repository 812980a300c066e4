// deploy/controller-manager stays valid: YAML parses, RBAC equals what the controller needs, the Deployment's
// args are flags the CLI accepts, and kubectl applies every kind the local control plane serves.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { parseAllDocuments } from 'yaml';
import { register } from '../../src/cli/controller-manager.js';
import { startApiServer } from '../../src/cluster/apiserver/index.js';
import { RBAC_RULES } from '../../src/controllers/modelserving/controller.js';
import { KubeClient } from '../../src/kube/client.js';

const DIR = 'deploy/controller-manager';
type Obj = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string }; [k: string]: any };

function load(): { file: string; obj: Obj }[] {
  const out: { file: string; obj: Obj }[] = [];
  for (const file of readdirSync(DIR).sort()) {
    if (!file.endsWith('.yaml')) continue;
    for (const doc of parseAllDocuments(readFileSync(join(DIR, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], file);
      const obj = doc.toJS() as Obj;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

/** kubectl must run asynchronously: the API server lives in this process and must keep serving. */
function kubectl(args: string[], input?: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const norm = (rules: { apiGroups: string[]; resources: string[]; verbs: string[] }[]) =>
  rules.map((r) => `${r.apiGroups.join(',')}|${r.resources.join(',')}|${[...r.verbs].sort().join(',')}`).sort();

test('RBAC is exactly what the controller needs; leader election may only touch Leases', () => {
  const objs = load().map((d) => d.obj);
  const cr = objs.find((o) => o.kind === 'ClusterRole')!;
  assert.deepEqual(norm(cr.rules), norm(RBAC_RULES));
  const role = objs.find((o) => o.kind === 'Role')!;
  assert.deepEqual(
    norm(role.rules),
    norm([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], verbs: ['get', 'create', 'update'] }]),
  );
  for (const b of objs.filter((o) => o.kind.endsWith('Binding'))) {
    assert.equal(b.subjects[0].name, 'kthena-controller-manager');
    assert.ok(
      objs.some((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name),
      b.metadata.name,
    );
  }
  const dep = objs.find((o) => o.kind === 'Deployment')!;
  assert.equal(dep.spec.template.spec.serviceAccountName, 'kthena-controller-manager');
  assert.deepEqual(
    dep.spec.selector.matchLabels,
    Object.fromEntries(Object.entries(dep.spec.template.metadata.labels)),
  );
});

test('the Deployment runs flags the CLI accepts', async () => {
  const dep = load().find((d) => d.obj.kind === 'Deployment')!.obj;
  const args: string[] = dep.spec.template.spec.containers[0].args;
  assert.equal(args[0], 'controller-manager');
  const program = new Command().exitOverride();
  register(program);
  let parsed: Record<string, unknown> | undefined;
  const cmd = program.commands.find((c) => c.name() === 'controller-manager')!;
  cmd.exitOverride();
  cmd.hook('preAction', (_p, action) => {
    parsed = action.opts();
    throw new Error('parsed');
  });
  await assert.rejects(program.parseAsync(['node', 'kthena', ...args]), /parsed/);
  assert.equal(parsed?.leaderElect, true);
  assert.equal(parsed?.port, 8080);
});

test('kubectl applies the manifests the local control plane serves', async (t) => {
  const which = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (which.status !== 0) {
    t.skip('kubectl not installed');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'kthena-deploy-'));
  const kubeconfig = join(dir, 'kubeconfig');
  const api = await startApiServer({ port: 0, kubeconfigPath: kubeconfig, installVolcanoCrds: false });
  const client = new KubeClient({ server: api.url });
  try {
    // Which of our kinds does the server serve (discovery)?
    const served = new Set<string>();
    for (const { obj } of load()) {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
      try {
        const list = await client.request<{ resources: { kind: string }[] }>({ method: 'GET', path });
        if (list.resources.some((r) => r.kind === obj.kind)) served.add(`${obj.apiVersion}/${obj.kind}`);
      } catch {
        // group not served
      }
    }
    const toApply: Obj[] = [];
    for (const { file, obj } of load()) {
      if (served.has(`${obj.apiVersion}/${obj.kind}`)) toApply.push(obj);
      else
        t.diagnostic(
          `${file}: ${obj.kind} ${obj.metadata.name} not served by the local control plane; checked statically`,
        );
    }
    toApply.sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    // One kubectl run; client-side OpenAPI validation is off because the API server validates the objects itself.
    const r = await kubectl(
      ['--kubeconfig', kubeconfig, 'apply', '--validate=false', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: toApply }),
    );
    assert.equal(r.status, 0, r.stderr);
    const applied = r.stdout.split('\n').filter((l) => /(created|configured|unchanged)$/.test(l)).length;
    assert.equal(applied, toApply.length, r.stdout);
    assert.ok(applied >= 3, 'at least Namespace, ServiceAccount and Service are applied');
    const ns = await kubectl([
      '--kubeconfig',
      kubeconfig,
      'get',
      'serviceaccount',
      '-n',
      'kthena-system',
      '-o',
      'name',
    ]);
    assert.match(ns.stdout, /serviceaccount\/kthena-controller-manager/);
  } finally {
    await client.close();
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
