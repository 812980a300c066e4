// deploy/controller-manager stays valid: YAML parses, RBAC equals what the controller needs, the Deployment's
// args are flags the CLI accepts, and kubectl applies every kind the local control plane serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { register } from '../../src/cli/controller-manager.js';
import { AUTOSCALER_RBAC_RULES } from '../../src/controllers/autoscaler/index.js';
import { BOOSTER_RBAC_RULES } from '../../src/controllers/modelbooster/controller.js';
import { RBAC_RULES } from '../../src/controllers/modelserving/controller.js';
import { applyToLocalControlPlane, loadManifests, normRules as norm } from './deploy-manifests.js';

const DIR = 'deploy/controller-manager';
const load = () => loadManifests(DIR);

test('RBAC is exactly what the controller needs; leader election may only touch Leases', () => {
  const objs = load().map((d) => d.obj);
  const cr = objs.find((o) => o.kind === 'ClusterRole' && o.metadata.name === 'kthena-controller-manager')!;
  assert.deepEqual(norm(cr.rules), norm(RBAC_RULES));
  const booster = objs.find(
    (o) => o.kind === 'ClusterRole' && o.metadata.name === 'kthena-controller-manager-modelbooster',
  )!;
  assert.deepEqual(norm(booster.rules), norm(BOOSTER_RBAC_RULES));
  const autoscaler = objs.find(
    (o) => o.kind === 'ClusterRole' && o.metadata.name === 'kthena-controller-manager-autoscaler',
  )!;
  assert.deepEqual(norm(autoscaler.rules), norm(AUTOSCALER_RBAC_RULES));
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
  await applyToLocalControlPlane(t, DIR, async (kubectl, applied) => {
    assert.ok(applied.length >= 3, 'at least Namespace, ServiceAccount and Service are applied');
    const ns = await kubectl(['get', 'serviceaccount', '-n', 'kthena-system', '-o', 'name']);
    assert.match(ns.stdout, /serviceaccount\/kthena-controller-manager/);
  });
});
