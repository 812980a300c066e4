// The ModelBooster, AutoscalingPolicy, ModelRoute and ModelServer webhooks: upstream's e2e cases (TestWebhook) and
// the bad boosters the issue names, each denied with upstream's message shape and the path of the field.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { pdBooster, vllmBooster } from '../modelbooster/testing/fixtures.js';
import { KTHENA_HANDLERS, PATHS } from './kthena.js';

const review = (object: unknown, operation = 'CREATE') => ({
  apiVersion: 'admission.k8s.io/v1',
  kind: 'AdmissionReview',
  request: { uid: 'u1', operation, object },
});
const call = (path: string, object: unknown) => (KTHENA_HANDLERS[path](review(object)) as { response: any }).response;
const denial = (object: unknown, path: string = PATHS.validateModelBooster) => {
  const r = call(path, object);
  assert.equal(r.allowed, false, 'denied');
  assert.match(r.status.message, /^validation failed:\n {2}- /);
  return r.status.message as string;
};

test('upstream TestWebhook: a valid booster passes; replicas > 1,000,000 is denied', () => {
  assert.equal(call(PATHS.validateModelBooster, vllmBooster()).allowed, true);
  assert.equal(call(PATHS.validateModelBooster, pdBooster()).allowed, true);
  const big = vllmBooster();
  big.spec.backend.replicas = 1_000_001;
  assert.match(denial(big), /spec\.backend\.replicas/);
});

test('invalid worker sets: vLLM needs one server; PD takes only prefill/decode, one of each', () => {
  const two = vllmBooster();
  two.spec.backend.workers.push({ ...two.spec.backend.workers[0] });
  assert.match(
    denial(two),
    /spec\.backend\.workers: a vLLM backend needs exactly one worker of type server, got server, server/,
  );
  const pd = pdBooster();
  pd.spec.backend.workers[1].type = 'server';
  const msg = denial(pd);
  assert.match(
    msg,
    /spec\.backend\.workers\[1\]\.type: a vLLMDisaggregated backend only takes prefill and decode workers/,
  );
  assert.match(msg, /needs a decode worker/);
});

test('inconsistent ports → the path of the second port', () => {
  const pd = pdBooster();
  pd.spec.backend.workers[1].config = { ...pd.spec.backend.workers[1].config, port: 9000 };
  assert.match(
    denial(pd),
    /spec\.backend\.workers\[1\]\.config\.port: engine port 9000 differs from 8000 of workers\[0\]/,
  );
  const bad = vllmBooster({ config: { port: 70000 } });
  assert.match(denial(bad), /spec\.backend\.workers\[0\]\.config\.port: must be a port between 1 and 65535/);
});

test('bad pvc:// paths: cache not a pvc, .. segments, outside the claim', () => {
  const mb = vllmBooster();
  mb.spec.backend.modelURI = 'pvc:///models/qwen';
  assert.match(denial(mb), /spec\.backend\.cacheURI: must be a pvc:\/\/ URI when modelURI is pvc:\/\//);
  mb.spec.backend.cacheURI = 'pvc://models';
  assert.equal(call(PATHS.validateModelBooster, mb).allowed, true);
  mb.spec.backend.modelURI = 'pvc:///models/../etc';
  assert.match(denial(mb), /spec\.backend\.modelURI: must not contain "\.\." path segments/);
  mb.spec.backend.modelURI = 'pvc:///other/qwen';
  assert.match(denial(mb), /spec\.backend\.modelURI: must point inside the cache claim/);
});

test('mismatched KV connectors and wrong roles are denied at the decode worker', () => {
  const pd = pdBooster();
  pd.spec.backend.workers[1].config = {
    port: 8000,
    'kv-transfer-config': '{"kv_connector":"MooncakeConnector","kv_role":"kv_consumer"}',
  };
  assert.match(
    denial(pd),
    /workers\[1\]\.config\.kv-transfer-config: connector mooncake differs from the prefill worker's nixl/,
  );
  const role = pdBooster();
  role.spec.backend.workers[0].config = {
    'kv-transfer-config': '{"kv_connector":"NixlConnector","kv_role":"kv_consumer"}',
  };
  assert.match(
    denial(role),
    /workers\[0\]\.config\.kv-transfer-config: kv_role of a prefill worker must be kv_producer or kv_both/,
  );
  const one = pdBooster();
  one.spec.backend.workers[1].config = {};
  assert.match(
    denial(one),
    /workers\[1\]\.config\.kv-transfer-config: is required because the prefill worker sets one/,
  );
});

test('autoscaling annotations are checked: path of the annotation', () => {
  const mb = vllmBooster();
  mb.metadata.annotations = { 'autoscaling.kthena.io/max-replicas': 'lots' };
  assert.match(denial(mb), /metadata\.annotations\[autoscaling\.kthena\.io\/max-replicas\]: must be an integer/);
  mb.metadata.annotations = { 'autoscaling.kthena.io/max-replicas': '2', 'autoscaling.kthena.io/min-replicas': '3' };
  assert.match(denial(mb), /min-replicas\]: must be an integer in 0\.\.2/);
  mb.metadata.annotations = { 'autoscaling.kthena.io/target-value': '3' };
  assert.match(denial(mb), /target-value\]: needs autoscaling\.kthena\.io\/max-replicas/);
});

test("the ModelBooster mutator is upstream's no-op; a wrong kind at a path is refused", () => {
  const r = call(PATHS.mutateModelBooster, vllmBooster());
  assert.deepEqual(r, { uid: 'u1', allowed: true });
  const wrong = call(PATHS.validateModelBooster, { kind: 'ModelRoute' });
  assert.equal(wrong.allowed, false);
  assert.match(wrong.status.message, /admits ModelBooster objects, got "ModelRoute"/);
});

const policy = (spec: Record<string, unknown>) => ({
  apiVersion: 'workload.serving.volcano.sh/v1alpha1',
  kind: 'AutoscalingPolicy',
  metadata: { name: 'p', namespace: 'default' },
  spec: {
    metrics: [{ name: 'waiting', targetValue: '10' }],
    homogeneousTarget: { minReplicas: 1, maxReplicas: 4, target: { targetRef: { kind: 'ModelServing', name: 'm' } } },
    ...spec,
  },
});

test('upstream TestWebhook: AutoscalingPolicy duplicate metric names and a negative target are denied', () => {
  assert.equal(call(PATHS.validateAutoscalingPolicy, policy({})).allowed, true);
  const dup = policy({
    metrics: [
      { name: 'a', targetValue: '1' },
      { name: 'a', targetValue: '2' },
    ],
  });
  assert.match(denial(dup, PATHS.validateAutoscalingPolicy), /spec\.metrics\[1\]/);
  const neg = policy({ metrics: [{ name: 'a', targetValue: '-1' }] });
  assert.match(denial(neg, PATHS.validateAutoscalingPolicy), /spec\.metrics\[0\]\.targetValue/);
});

test('upstream TestWebhook: behavior defaults come back as a JSON patch of spec', () => {
  const r = call(PATHS.mutateAutoscalingPolicy, policy({}));
  assert.equal(r.patchType, 'JSONPatch');
  const [op] = JSON.parse(Buffer.from(r.patch, 'base64').toString('utf8'));
  assert.equal(op.path, '/spec');
  assert.deepEqual(op.value.behavior.scaleDown, {
    instances: 0,
    percent: 100,
    period: '1m',
    selectPolicy: 'Or',
    stabilizationWindow: '5m',
  });
  assert.equal(op.value.behavior.scaleUp.stablePolicy.instances, 4);
  assert.equal(op.value.behavior.scaleUp.panicPolicy.panicThresholdPercent, 200);
  const full = call(PATHS.mutateAutoscalingPolicy, { ...policy({}), spec: op.value });
  assert.equal(full.patch, undefined, 'already defaulted: no patch');
});

test("ModelRoute and ModelServer: upstream's router checks (empty LoRA names, no targets)", () => {
  const route = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelRoute',
    metadata: { name: 'r', namespace: 'default' },
    spec: { modelName: 'm', loraAdapters: [''], rules: [{ targetModels: [{ modelServerName: 's' }] }] },
  };
  assert.match(denial(route, PATHS.validateModelRoute), /spec\.loraAdapters\[0\]/);
  route.spec.loraAdapters = ['ok'];
  assert.equal(call(PATHS.validateModelRoute, route).allowed, true);
  const server = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ModelServer',
    metadata: { name: 's', namespace: 'default' },
    spec: { inferenceEngine: 'TGI', workloadSelector: { matchLabels: { a: 'b' } } },
  };
  assert.match(denial(server, PATHS.validateModelServer), /spec\.inferenceEngine/);
});

test('SGLang backends (beyond upstream): one server, single-node; SGLang PD takes prefill and decode', () => {
  const s = vllmBooster();
  s.spec.backend.type = 'SGLang';
  assert.equal(call(PATHS.validateModelBooster, s).allowed, true);
  s.spec.backend.workers[0].pods = 2;
  assert.match(denial(s), /spec\.backend\.workers\[0\]\.pods: a multi-node SGLang server is not generated yet/);
  const pd = pdBooster('NixlConnector', 'SGLangDisaggregated');
  assert.equal(call(PATHS.validateModelBooster, pd).allowed, true);
  pd.spec.backend.workers[0].type = 'server';
  assert.match(denial(pd), /a SGLangDisaggregated backend only takes prefill and decode workers/);
});
