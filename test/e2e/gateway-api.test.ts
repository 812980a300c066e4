// Gateway API and Inference Extension modes on the local control plane, with real kubectl and the openai client
// (upstream's gateway-api and gateway-inference-extension e2e scenarios): a ModelRoute through a Gateway, an
// HTTPRoute + InferencePool whose pods no ModelServer selects, both together, a router restart, a Gateway created
// after its HTTPRoute, a listener port change, and the statuses written and cleared as that happens.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import type { KubeObject } from '../../src/kube/index.js';
import type { RunningRouter } from '../../src/router/router.js';
import { freePort } from '../helpers/ports.js';
import { eventually, type MsEnv, startKubeRouter, startMsEnv } from './modelserving-helpers.js';

process.env.LOG_LEVEL ??= 'warn';
let env: MsEnv;
let router: RunningRouter | undefined;
let accessLog: string;

const startRouter = () =>
  startKubeRouter(env.kubeconfig, {
    accessLog: true,
    accessLogFormat: 'json',
    accessLogOutput: accessLog,
    enableGatewayApi: true,
    enableGatewayApiInferenceExtension: true,
  });

const apply = async (yaml: string) => {
  const r = await env.kubectl(['apply', '-f', '-'], yaml);
  assert.equal(r.status, 0, r.stderr);
};
const getJson = async (args: string[]) => {
  const r = await env.kubectl(['get', ...args, '-o', 'json']);
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as KubeObject & { status?: any };
};
const cond = (conds: { type: string; status: string; reason: string }[] | undefined, type: string) => {
  const c = conds?.find((x) => x.type === type);
  return c ? `${c.status}/${c.reason}` : 'absent';
};

const simPod = (name: string, app: string, model: string) => `
apiVersion: v1
kind: Pod
metadata: {name: ${name}, namespace: default, labels: {app: ${app}}}
spec:
  terminationGracePeriodSeconds: 2
  containers:
  - name: engine
    image: kthena/kthena:latest
    args: [engine-sim, --port, "8000", --model, ${model}, --speedup, "20"]
    readinessProbe: {httpGet: {path: /health, port: 8000}, periodSeconds: 1}
`;

const gateway = (name: string, port: number) => `
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: ${name}, namespace: default}
spec:
  gatewayClassName: kthena-router
  listeners: [{name: http, port: ${port}, protocol: HTTP}]
`;

const chat = async (port: number, model: string, headers: Record<string, string> = {}) => {
  const c = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0, defaultHeaders: headers });
  return c.chat.completions.create({ model, messages: [{ role: 'user', content: 'hello' }], max_tokens: 4 });
};
const status = async (port: number, model: string) => {
  try {
    await chat(port, model);
    return 200;
  } catch (e) {
    return (e as { status?: number }).status ?? -1;
  }
};

let gwPort: number;

before(async () => {
  env = await startMsEnv({ nodes: 1, gpusPerNode: 8, manager: false });
  accessLog = join(env.dir, 'access.log');
  gwPort = await freePort();
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: kthena-router}
spec: {controllerName: volcano.sh/kthena-router}
---
${gateway('gw', gwPort)}
---
${simPod('small-0', 'small', 'small-model')}
---
${simPod('pool-0', 'pool', 'pool-model')}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelServer
metadata: {name: small, namespace: default}
spec:
  model: small-model
  inferenceEngine: vLLM
  workloadSelector: {matchLabels: {app: small}}
  workloadPort: {port: 8000}
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: small, namespace: default}
spec:
  modelName: small
  parentRefs: [{name: gw, kind: Gateway, group: gateway.networking.k8s.io}]
  rules: [{targetModels: [{modelServerName: small}]}]
---
apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ModelRoute
metadata: {name: orphan, namespace: default}
spec:
  modelName: orphan
  parentRefs: [{name: nowhere}]
  rules: [{targetModels: [{modelServerName: small}]}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: pool, namespace: default}
spec:
  selector: {matchLabels: {app: pool}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: unused-epp, port: {number: 9002}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: pool-route, namespace: default}
spec:
  parentRefs: [{name: gw}]
  rules:
  - matches: [{path: {type: PathPrefix, value: /v1}, headers: [{name: x-tier, value: pool}]}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: pool}]
  - matches: [{path: {type: PathPrefix, value: /v1}, method: POST, queryParams: [{name: broken, value: "1"}]}]
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: missing-pool}]
`);
  router = await startRouter();
});

after(async () => {
  await router?.close();
  await env?.close();
});

test('a ModelRoute bound through parentRefs is served on the Gateway listener only, and its status says so', async () => {
  await eventually('served on the gateway', async () => (await status(gwPort, 'small')) === 200);
  assert.equal(await status(router!.port, 'small'), 404, 'not on the plain port');
  const gw = await eventually('Gateway status', async () => {
    const g = await getJson(['gateway', 'gw']);
    return g.status?.listeners?.[0]?.attachedRoutes === 2 && g; // one ModelRoute, one HTTPRoute
  });
  assert.equal(cond(gw.status.conditions, 'Accepted'), 'True/Accepted');
  assert.equal(cond(gw.status.conditions, 'Programmed'), 'True/Programmed');
  assert.equal(cond(gw.status.listeners[0].conditions, 'Programmed'), 'True/Programmed');
  await eventually('ModelRoute status', async () => {
    const ok = cond((await getJson(['modelroute', 'small'])).status?.conditions, 'Accepted') === 'True/Accepted';
    const orphan = cond((await getJson(['modelroute', 'orphan'])).status?.conditions, 'Accepted');
    return ok && orphan === 'False/NoMatchingParent';
  });
});

test('an HTTPRoute sends matching requests to an InferencePool whose pods no ModelServer selects', async () => {
  const r = await eventually('pool served', async () => {
    try {
      return await chat(gwPort, 'pool-model', { 'x-tier': 'pool' });
    } catch {
      return undefined;
    }
  });
  assert.equal(r.model, 'pool-model');
  // A header that does not match is not routed to the pool: no ModelRoute serves the model either.
  assert.equal(await status(gwPort, 'pool-model'), 404);
  // The method + query rule names a pool that does not exist: upstream's 404.
  const c = new OpenAI({ baseURL: `http://127.0.0.1:${gwPort}/v1`, apiKey: 'x', maxRetries: 0 });
  await assert.rejects(
    c.chat.completions.create(
      { model: 'pool-model', messages: [{ role: 'user', content: 'x' }] },
      { query: { broken: '1' } },
    ),
    (e: { status?: number; message?: string }) =>
      e.status === 404 && /can't find inference pool: default\/missing-pool/.test(e.message ?? ''),
  );
  const lines = readFileSync(accessLog, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const hit = lines.find((l) => l.inference_pool === 'default/pool' && l.status_code === 200);
  assert.ok(hit, 'access log names the pool');
  assert.equal(hit.gateway, 'default/gw');
  assert.equal(hit.http_route, 'default/pool-route');
  const route = await eventually('HTTPRoute status', async () => {
    const h = await getJson(['httproute', 'pool-route']);
    return h.status?.parents?.length === 1 && h;
  });
  assert.equal(route.status.parents[0].controllerName, 'volcano.sh/kthena-router');
  assert.equal(cond(route.status.parents[0].conditions, 'Accepted'), 'True/Accepted');
  assert.equal(cond(route.status.parents[0].conditions, 'ResolvedRefs'), 'False/BackendNotFound');
});

test('both still route after a router restart', async () => {
  await router?.close();
  router = await startRouter();
  await eventually('ModelRoute after restart', async () => (await status(gwPort, 'small')) === 200);
  const r = await eventually('HTTPRoute after restart', async () =>
    chat(gwPort, 'pool-model', { 'x-tier': 'pool' }).catch(() => undefined),
  );
  assert.equal(r.model, 'pool-model');
});

test('a Gateway created after its HTTPRoute picks the route up', async () => {
  const port = await freePort();
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: late-route, namespace: default}
spec:
  parentRefs: [{name: late}]
  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: pool}]}]
`);
  await apply(gateway('late', port));
  const r = await eventually('late gateway serves', async () => chat(port, 'pool-model').catch(() => undefined));
  assert.equal(r.model, 'pool-model');
});

test('our GatewayClass is Accepted; a class of another controller is left alone', async () => {
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: someone-else}
spec: {controllerName: example.com/other}
`);
  const gc = await eventually('GatewayClass status', async () => {
    const g = await getJson(['gatewayclass', 'kthena-router']);
    return cond(g.status?.conditions, 'Accepted') === 'True/Accepted' && g;
  });
  assert.equal(gc.status.conditions[0].observedGeneration, gc.metadata?.generation);
  assert.equal((await getJson(['gatewayclass', 'someone-else'])).status?.conditions, undefined);
});

test('a cross-namespace InferencePool needs a ReferenceGrant: 500 and RefNotPermitted without, served with', async () => {
  const port = await freePort();
  const ns = await env.kubectl(['create', 'namespace', 'apps']);
  assert.equal(ns.status, 0, ns.stderr);
  await apply(`
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: shared, namespace: default}
spec:
  gatewayClassName: kthena-router
  listeners: [{name: http, port: ${port}, protocol: HTTP, allowedRoutes: {namespaces: {from: All}}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: cross, namespace: apps}
spec:
  parentRefs: [{name: shared, namespace: default}]
  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: pool, namespace: default}]}]
`);
  await eventually('refused without a grant', async () => (await status(port, 'pool-model')) === 500);
  const c = new OpenAI({ baseURL: `http://127.0.0.1:${port}/v1`, apiKey: 'x', maxRetries: 0 });
  await assert.rejects(
    c.chat.completions.create({ model: 'pool-model', messages: [{ role: 'user', content: 'x' }] }),
    (e: { message?: string }) =>
      /no ReferenceGrant in namespace default lets it use InferencePool default\/pool/.test(e.message ?? ''),
  );
  await eventually('status RefNotPermitted', async () => {
    const h = await getJson(['httproute', 'cross', '-n', 'apps']);
    return cond(h.status?.parents?.[0]?.conditions, 'ResolvedRefs') === 'False/RefNotPermitted';
  });
  await apply(`
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: apps-to-pools, namespace: default}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: inference.networking.k8s.io, kind: InferencePool}]
`);
  const r = await eventually('served with the grant', async () => chat(port, 'pool-model').catch(() => undefined));
  assert.equal(r.model, 'pool-model');
  await eventually('status ResolvedRefs', async () => {
    const h = await getJson(['httproute', 'cross', '-n', 'apps']);
    return cond(h.status?.parents?.[0]?.conditions, 'ResolvedRefs') === 'True/ResolvedRefs';
  });
});

test('a listener port change moves the listener, and a deleted Gateway detaches its ModelRoutes', async () => {
  const next = await freePort();
  await apply(gateway('gw', next));
  await eventually('new port serves', async () => (await status(next, 'small')) === 200);
  await eventually('old port closed', async () => (await status(gwPort, 'small')) === -1);
  const del = await env.kubectl(['delete', 'gateway', 'gw']);
  assert.equal(del.status, 0, del.stderr);
  await eventually('ModelRoute detached', async () => {
    const c = cond((await getJson(['modelroute', 'small'])).status?.conditions, 'Accepted');
    return c === 'False/NoMatchingParent';
  });
  await eventually('port closed', async () => (await status(next, 'small')) === -1);
});
