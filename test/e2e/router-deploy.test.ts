// deploy/router stays valid: YAML parses, RBAC equals what the Kubernetes source needs, the ConfigMap is upstream's
// shape and parses as a router configuration, the Deployment's args are flags the CLI accepts and its mounts, ports
// and probes line up, and kubectl applies every kind the local control plane serves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { register } from '../../src/cli/router.js';
import { DEFAULT_ROUTER_CONFIG_YAML, parseRouterConfig } from '../../src/router/scheduler/config.js';
import { BUILTIN_PLUGINS, PluginRegistry } from '../../src/router/scheduler/registry.js';
import { ROUTER_LEADER_ELECTION_RULES, ROUTER_RBAC_RULES } from '../../src/router/sources/rbac.js';
import { applyToLocalControlPlane, loadManifests, normRules } from './deploy-manifests.js';

const DIR = 'deploy/router';
const objs = () => loadManifests(DIR).map((d) => d.obj);
const one = (kind: string) => {
  const found = objs().filter((o) => o.kind === kind);
  assert.equal(found.length, 1, kind);
  return found[0];
};

test('RBAC is exactly what the Kubernetes source needs, bound to the router service account', () => {
  assert.deepEqual(normRules(one('ClusterRole').rules), normRules(ROUTER_RBAC_RULES));
  assert.deepEqual(normRules(one('Role').rules), normRules(ROUTER_LEADER_ELECTION_RULES));
  for (const b of objs().filter((o) => o.kind.endsWith('Binding'))) {
    assert.deepEqual(b.subjects, [{ kind: 'ServiceAccount', name: 'kthena-router', namespace: 'kthena-system' }]);
    assert.ok(
      objs().some((o) => o.kind === b.roleRef.kind && o.metadata.name === b.roleRef.name),
      b.metadata.name,
    );
  }
  assert.equal(one('ServiceAccount').metadata.name, 'kthena-router');
  for (const o of objs())
    if (o.kind !== 'Namespace' && !o.kind.startsWith('Cluster'))
      assert.equal(o.metadata.namespace, 'kthena-system', o.kind);
});

test("the ConfigMap is upstream's (kthena-router-config / routerConfiguration) and a valid router configuration", () => {
  const cm = one('ConfigMap');
  assert.equal(cm.metadata.name, 'kthena-router-config');
  const cfg = parseRouterConfig(cm.data.routerConfiguration, new PluginRegistry(BUILTIN_PLUGINS));
  // The router's built-in default (upstream's Helm default is examples/router/router-config.yaml).
  assert.deepEqual(cfg, parseRouterConfig(DEFAULT_ROUTER_CONFIG_YAML, new PluginRegistry(BUILTIN_PLUGINS)));
  assert.deepEqual(
    cfg.scheduler.scores.map((p) => p.name),
    ['latency-predictor'],
  );
});

test('the Deployment runs flags the CLI accepts, mounts the config where --router-config reads it, probes the router port', async () => {
  const dep = one('Deployment');
  const pod = dep.spec.template.spec;
  assert.equal(pod.serviceAccountName, 'kthena-router');
  assert.deepEqual(dep.spec.selector.matchLabels, dep.spec.template.metadata.labels);
  const c = pod.containers[0];
  const program = new Command().exitOverride();
  register(program);
  const cmd = program.commands.find((x) => x.name() === 'router')!;
  cmd.exitOverride();
  let parsed: Record<string, unknown> | undefined;
  cmd.hook('preAction', (_p, action) => {
    parsed = action.opts();
    throw new Error('parsed');
  });
  await assert.rejects(program.parseAsync(['node', 'kthena', ...c.args]), /parsed/);
  assert.equal(parsed?.port, 8080);
  assert.equal(parsed?.metricsPort, 9090);
  assert.equal(parsed?.configDir, undefined, 'in-cluster: the Kubernetes source, not files');
  const mount = c.volumeMounts.find((m: { name: string }) => m.name === 'router-config');
  const vol = pod.volumes.find((v: { name: string }) => v.name === 'router-config');
  assert.equal(vol.configMap.name, 'kthena-router-config');
  assert.equal(`${mount.mountPath}/${vol.configMap.items[0].path}`, parsed?.routerConfig);
  assert.equal(vol.configMap.items[0].key, 'routerConfiguration');
  const ports = Object.fromEntries(
    c.ports.map((p: { name: string; containerPort: number }) => [p.name, p.containerPort]),
  );
  assert.deepEqual(ports, { http: 8080, metrics: 9090 }, 'the debug port is loopback-only, not a container port');
  assert.deepEqual(c.readinessProbe.httpGet, { path: '/readyz', port: 'http' });
  assert.deepEqual(c.livenessProbe.httpGet, { path: '/healthz', port: 'http' });
  // The pod outlives the drain timeout, so in-flight streams can finish.
  const drain = c.env.find((e: { name: string }) => e.name === 'DRAIN_TIMEOUT').value;
  assert.equal(drain, '5m');
  assert.ok(pod.terminationGracePeriodSeconds > 300);
  const svc = one('Service');
  assert.deepEqual(svc.spec.selector, dep.spec.template.metadata.labels);
  for (const p of svc.spec.ports) assert.ok(p.targetPort in ports, p.name);
});

test('kubectl applies the router manifests the local control plane serves', async (t) => {
  await applyToLocalControlPlane(t, DIR, async (kubectl, applied) => {
    assert.ok(applied.length >= 4, 'at least Namespace, ServiceAccount, ConfigMap and Service are applied');
    const cm = await kubectl(['get', 'configmap', 'kthena-router-config', '-n', 'kthena-system', '-o', 'json']);
    assert.equal(cm.status, 0, cm.stderr);
    assert.match(JSON.parse(cm.stdout).data.routerConfiguration, /latency-predictor/);
    const sa = await kubectl(['get', 'serviceaccount', '-n', 'kthena-system', '-o', 'name']);
    assert.match(sa.stdout, /serviceaccount\/kthena-router/);
  });
});
