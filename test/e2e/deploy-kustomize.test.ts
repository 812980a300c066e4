// deploy/ as an install bundle: the kustomize base and every overlay render with the real `kubectl kustomize`, each
// holds what its mode promises, and the base applied with real kubectl to the local control plane runs: the
// Deployments' pods run our own CLI as processes, the router answers on its pod IP and the controller manager
// reconciles a ModelServing into pods.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import OpenAI from 'openai';
import { parseAllDocuments } from 'yaml';
import { PODS } from '../../src/kube/index.js';
import { eventually, kubectl } from '../helpers/run.js';
import { cluster } from './kubelet-helpers.js';

type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; [k: string]: any };
  [k: string]: any;
};

async function render(dir: string): Promise<{ yaml: string; objs: Obj[] }> {
  const r = await kubectl(['kustomize', dir]);
  assert.equal(r.status, 0, `kubectl kustomize ${dir}: ${r.stderr}`);
  return { yaml: r.stdout, objs: parseAllDocuments(r.stdout).map((d) => d.toJS() as Obj) };
}

const kinds = (objs: Obj[]) => objs.map((o) => `${o.kind}/${o.metadata.name}`);
const deployment = (objs: Obj[], name: string) => objs.find((o) => o.kind === 'Deployment' && o.metadata.name === name);

test('the base renders: namespace, our CRDs, the controller manager with leader election, the router with RBAC/ConfigMap/Service', async () => {
  const { objs } = await render('deploy');
  assert.ok(kinds(objs).includes('Namespace/kthena-system'));
  assert.equal(objs.filter((o) => o.kind === 'CustomResourceDefinition').length, 6);
  const cm = deployment(objs, 'kthena-controller-manager');
  assert.ok(cm?.spec.template.spec.containers[0].args.includes('--leader-elect'));
  assert.ok(deployment(objs, 'kthena-router'));
  for (const k of [
    'ConfigMap/kthena-router-config',
    'Service/kthena-router',
    'ClusterRole/kthena-router',
    'ClusterRole/kthena-controller-manager',
  ])
    assert.ok(kinds(objs).includes(k), k);
  // Every namespaced object lands in kthena-system.
  for (const o of objs)
    if (!['Namespace', 'CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind))
      assert.equal(o.metadata.namespace, 'kthena-system', `${o.kind}/${o.metadata.name}`);
});

test('the controllers-only and router-only overlays hold one component each', async () => {
  const ctl = (await render('deploy/overlays/controllers-only')).objs;
  assert.ok(deployment(ctl, 'kthena-controller-manager'));
  assert.equal(deployment(ctl, 'kthena-router'), undefined);
  assert.ok(!kinds(ctl).some((k) => k.includes('kthena-router')));
  const rtr = (await render('deploy/overlays/router-only')).objs;
  assert.ok(deployment(rtr, 'kthena-router'));
  assert.equal(deployment(rtr, 'kthena-controller-manager'), undefined);
  for (const objs of [ctl, rtr]) assert.equal(objs.filter((o) => o.kind === 'CustomResourceDefinition').length, 6);
});

test('the cert-manager overlay wires Certificate → Secret → mounted cert files, CA injection and the webhook Service', async () => {
  const { objs } = await render('deploy/overlays/cert-manager');
  const cert = objs.find((o) => o.kind === 'Certificate')!;
  const issuer = objs.find((o) => o.kind === 'Issuer')!;
  assert.equal(cert.spec.issuerRef.name, issuer.metadata.name);
  const svc = objs.find((o) => o.kind === 'Service' && o.metadata.name === 'kthena-controller-manager-webhook')!;
  assert.deepEqual(cert.spec.dnsNames, [
    `${svc.metadata.name}.kthena-system.svc`,
    `${svc.metadata.name}.kthena-system.svc.cluster.local`,
  ]);
  const pod = deployment(objs, 'kthena-controller-manager')!.spec.template.spec;
  const c = pod.containers[0];
  const vol = pod.volumes.find((v: any) => v.secret?.secretName === cert.spec.secretName);
  assert.ok(vol, 'the Secret cert-manager writes is mounted');
  const mount = c.volumeMounts.find((m: any) => m.name === vol.name);
  assert.ok(c.args.includes('--enable-webhook'));
  assert.ok(c.args.includes(`--tls-cert-file=${mount.mountPath}/tls.crt`));
  assert.ok(c.args.includes(`--tls-private-key-file=${mount.mountPath}/tls.key`));
  const port = Number(c.args.find((a: string) => a.startsWith('--webhook-port=')).split('=')[1]);
  assert.equal(svc.spec.ports[0].targetPort, port);
  assert.ok(c.ports.some((p: any) => p.containerPort === port));
  for (const kind of ['ValidatingWebhookConfiguration', 'MutatingWebhookConfiguration']) {
    const w = objs.find((o) => o.kind === kind)!;
    assert.equal(w.metadata.annotations['cert-manager.io/inject-ca-from'], `kthena-system/${cert.metadata.name}`);
    for (const h of w.webhooks) {
      assert.equal(h.clientConfig.service.name, svc.metadata.name, h.name);
      assert.equal(h.clientConfig.service.port, svc.spec.ports[0].port, h.name);
      assert.equal(h.failurePolicy, 'Fail');
    }
  }
});

test('the monitoring overlay adds monitors that select the components and the dashboards for Grafana', async () => {
  const { objs } = await render('deploy/overlays/monitoring');
  const base = (await render('deploy')).objs;
  assert.deepEqual(
    kinds(objs)
      .filter((k) => !kinds(base).includes(k))
      .sort(),
    [
      'ConfigMap/kthena-controllers-dashboard',
      'ConfigMap/kthena-router-dashboard',
      'PodMonitor/kthena-router',
      'ServiceMonitor/kthena-controller-manager',
    ],
  );
  const labelsMatch = (sel: Record<string, string>, labels: Record<string, string> = {}) =>
    Object.entries(sel).every(([k, v]) => labels[k] === v);
  const pm = objs.find((o) => o.kind === 'PodMonitor')!;
  const router = deployment(objs, 'kthena-router')!;
  assert.ok(labelsMatch(pm.spec.selector.matchLabels, router.spec.template.metadata.labels));
  const routerPorts = router.spec.template.spec.containers[0].ports.map((p: { name: string }) => p.name);
  assert.ok(routerPorts.includes(pm.spec.podMetricsEndpoints[0].port));
  const sm = objs.find((o) => o.kind === 'ServiceMonitor')!;
  const svc = objs.find((o) => o.kind === 'Service' && labelsMatch(sm.spec.selector.matchLabels, o.metadata.labels))!;
  assert.ok(svc, 'a Service the ServiceMonitor selects');
  assert.ok(svc.spec.ports.some((p: { name: string }) => p.name === sm.spec.endpoints[0].port));
  for (const o of objs.filter((x) => x.kind === 'ConfigMap' && x.metadata.name.endsWith('-dashboard'))) {
    assert.equal(o.metadata.labels.grafana_dashboard, '1');
    const [json] = Object.values(o.data as Record<string, string>);
    assert.ok(JSON.parse(json).panels.length > 5, o.metadata.name);
  }
});

test('every overlay folder renders', async () => {
  const dirs = readdirSync('deploy/overlays');
  assert.ok(dirs.length >= 3, dirs.join(','));
  for (const d of dirs) await render(join('deploy/overlays', d));
});

type Kubectl = (args: string[], input?: string) => ReturnType<typeof kubectl>;

/** A fresh local cluster with the rendered bundle of `dir` applied by real kubectl, then `check`; always torn down. */
async function withBundle(
  dir: string,
  shape: { nodes: number; gpusPerNode: number },
  check: (k: Kubectl, env: Awaited<ReturnType<typeof cluster>>) => Promise<void>,
): Promise<void> {
  const tmp = mkdtempSync(join(tmpdir(), 'kthena-kustomize-'));
  const kubeconfig = join(tmp, 'kubeconfig');
  const env = await cluster({ ...shape, runEngines: true, kubeconfigPath: kubeconfig });
  const k: Kubectl = (args, input) => kubectl(['--kubeconfig', kubeconfig, '--request-timeout=20s', ...args], input);
  try {
    const { yaml } = await render(dir);
    const applied = await k(['apply', '-f', '-'], yaml);
    assert.equal(applied.status, 0, applied.stderr);
    await check(k, env);
  } finally {
    await env.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}

const isReady = (p: Pod) => p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false;

test('the rendered base applies to the local control plane: the router serves and the controllers reconcile', async () => {
  await withBundle('deploy', { nodes: 2, gpusPerNode: 4 }, async (k, env) => {
    const rollout = await k(['-n', 'kthena-system', 'rollout', 'status', 'deployment/kthena-router', '--timeout=120s']);
    assert.equal(rollout.status, 0, rollout.stderr + rollout.stdout);
    const routers = await eventually('two ready router pods', async () => {
      const pods = (
        await env.client.list<Pod>(PODS, {
          namespace: 'kthena-system',
          labelSelector: 'app.kubernetes.io/component=router',
        })
      ).items;
      return pods.filter(isReady).length === 2 ? pods : undefined;
    });
    const ready = await fetch(`http://${routers[0].status!.podIP}:8080/readyz`);
    assert.equal(ready.status, 200);
    const cmRollout = await k([
      '-n',
      'kthena-system',
      'rollout',
      'status',
      'deployment/kthena-controller-manager',
      '--timeout=120s',
    ]);
    assert.equal(cmRollout.status, 0, cmRollout.stderr + cmRollout.stdout);
    // The controller manager, running as a pod of that Deployment, turns a ModelServing into pods.
    const ms = await k(['apply', '-f', 'examples/modelserving/single-node.yaml']);
    assert.equal(ms.status, 0, ms.stderr);
    await eventually('the ModelServing reconciled into running pods', async () => {
      const pods = (await env.client.list<Pod>(PODS, { namespace: 'default', labelSelector: 'app=qwen-0-5b' })).items;
      return pods.filter(isReady).length === 2 || undefined;
    });
    // Upstream's fixture style routes through the deployed router: Deployments of mock engine images
    // (MODEL_NAME; llm-d-inference-sim's vLLM flags) + ModelServer + ModelRoute, applied with kubectl.
    const fx = await k(['apply', '-f', 'test/e2e/fixtures/upstream-style/mock-engines.yaml']);
    assert.equal(fx.status, 0, fx.stderr);
    const fxRollout = await k([
      'rollout',
      'status',
      'deployment/deepseek-r1-1-5b',
      'deployment/llama-sim',
      '--timeout=120s',
    ]);
    assert.equal(fxRollout.status, 0, fxRollout.stderr + fxRollout.stdout);
    const openai = new OpenAI({
      baseURL: `http://${routers[0].status!.podIP}:8080/v1`,
      apiKey: 'unused',
      maxRetries: 0,
    });
    for (const [model, served] of [
      ['deepseek-r1', 'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B'],
      ['llama-8b', 'llama-8b'],
    ]) {
      const reply = await eventually(`a chat completion for ${model}`, async () => {
        try {
          return await openai.chat.completions.create({
            model,
            messages: [{ role: 'user', content: 'hi' }],
            max_tokens: 4,
          });
        } catch {
          return undefined;
        }
      });
      assert.equal(reply.model, served, 'the engine answers under the model the mock image was given');
      assert.ok(reply.choices[0].message.content);
    }
    // The ReplicaSets own the pods; scaling the Deployment follows.
    const scaled = await k(['-n', 'kthena-system', 'scale', 'deployment/kthena-router', '--replicas=1']);
    assert.equal(scaled.status, 0, scaled.stderr);
    await eventually('one router pod left', async () => {
      const pods = (
        await env.client.list<Pod>(PODS, {
          namespace: 'kthena-system',
          labelSelector: 'app.kubernetes.io/component=router',
        })
      ).items;
      return pods.filter((p) => !p.metadata?.deletionTimestamp).length === 1 || undefined;
    });
  });
});

test('the self-signed overlay: the controller manager creates the certificate Secret and patches every caBundle', async () => {
  await withBundle('deploy/overlays/self-signed', { nodes: 1, gpusPerNode: 0 }, async (k) => {
    const rollout = await k([
      '-n',
      'kthena-system',
      'rollout',
      'status',
      'deployment/kthena-controller-manager',
      '--timeout=120s',
    ]);
    assert.equal(rollout.status, 0, rollout.stderr + rollout.stdout);
    const secret = await eventually('the certificate Secret', async () => {
      const r = await k([
        '-n',
        'kthena-system',
        'get',
        'secret',
        'kthena-controller-manager-webhook-certs',
        '-o',
        'json',
      ]);
      return r.status === 0 ? (JSON.parse(r.stdout) as { type: string; data: Record<string, string> }) : undefined;
    });
    assert.equal(secret.type, 'kubernetes.io/tls');
    for (const kind of ['validatingwebhookconfiguration', 'mutatingwebhookconfiguration']) {
      const r = await k(['get', kind, '-o', 'json']);
      const items = JSON.parse(r.stdout).items as { webhooks: { clientConfig: { caBundle?: string } }[] }[];
      assert.equal(items.length, 1, kind);
      for (const w of items[0].webhooks) assert.equal(w.clientConfig.caBundle, secret.data['ca.crt'], kind);
    }
  });
});
