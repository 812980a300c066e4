// ModelBooster end to end on the local control plane, the way upstream's TestModelCR / TestModelCRDisaggregated run:
// kubectl applies upstream's Qwen2.5-0.5B-Instruct booster and a prefill/decode booster; the controller manager
// (ModelBooster + ModelServing controllers, admission webhooks registered with the API server) makes the children;
// the kubelet runs the engines as engine-sim with the runtime sidecar beside them; both boosters become Active and
// `kthena router --kubeconfig` serves their model names to the official openai client. A bad booster is refused by
// kubectl with the webhook's message; deleting a booster removes its children.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import pino from 'pino';
import type { runRouter } from '../../src/cli/router.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { eventually } from '../helpers/run.js';
import { type MsEnv, startKubeRouter, startMsEnv } from './modelserving-helpers.js';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { stdio: 'ignore' }).status === 0;

// upstream's examples/model-booster/Qwen2.5-0.5B-Instruct.yaml
const QWEN = `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelBooster
metadata: {name: demo, namespace: default}
spec:
  backend:
    name: backend1
    type: vLLM
    modelURI: hf://Qwen/Qwen2.5-0.5B-Instruct
    cacheURI: hostpath://tmp/cache
    replicas: 1
    workers:
    - type: server
      image: vllm/vllm-openai-cpu:latest
      replicas: 1
      pods: 1
      config: {served-model-name: Qwen2.5-0.5B-Instruct, max-model-len: 2048, enable-prefix-caching: "", enforce-eager: ""}
      resources: {limits: {cpu: "4", memory: 8Gi}}
`;

const PD = `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelBooster
metadata: {name: pd, namespace: default}
spec:
  name: deepseek-v2-lite
  backend:
    name: b
    type: vLLMDisaggregated
    modelURI: hf://deepseek-ai/DeepSeek-V2-Lite
    cacheURI: hostpath://tmp/cache
    replicas: 1
    workers:
    - type: prefill
      image: vllm/vllm-openai:v0.10.0
      replicas: 1
      pods: 1
      config: {kv-transfer-config: '{"kv_connector":"NixlConnector","kv_role":"kv_producer"}'}
      resources: {limits: {nvidia.com/gpu: "1"}}
    - type: decode
      image: vllm/vllm-openai:v0.10.0
      replicas: 1
      pods: 1
      config: {kv-transfer-config: '{"kv_connector":"NixlConnector","kv_role":"kv_consumer"}'}
      resources: {limits: {nvidia.com/gpu: "1"}}
`;

describe('ModelBooster on the local control plane', { skip: !hasKubectl && 'kubectl not installed' }, () => {
  let env: MsEnv;
  let router: Awaited<ReturnType<typeof runRouter>> | undefined;
  const get = async (args: string[]) => (await env.kubectl(['get', ...args])).stdout.trim();
  before(async () => {
    env = await startMsEnv({ nodes: 2, gpusPerNode: 8, manager: false });
    env.manager = await startControllerManager({
      client: env.client,
      log: pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' }),
      workers: 3,
      port: 0,
      host: '127.0.0.1',
      webhook: { port: 0, host: '127.0.0.1', register: true },
    });
  });
  after(async () => {
    await router?.close().catch(() => {});
    await env?.close();
  });

  test("kubectl refuses a bad booster with the webhook's message and the field path", async () => {
    const bad = PD.replace('name: pd,', 'name: bad,').replace(
      '{"kv_connector":"NixlConnector","kv_role":"kv_consumer"}',
      '{"kv_connector":"MooncakeConnector","kv_role":"kv_consumer"}',
    );
    const r = await env.kubectl(['apply', '-f', '-'], bad);
    assert.notEqual(r.status, 0);
    assert.match(
      r.stderr,
      /admission webhook "validate\.modelbooster\.workload\.serving\.volcano\.sh" denied the request/,
    );
    assert.match(r.stderr, /spec\.backend\.workers\[1\]\.config\.kv-transfer-config: connector mooncake differs/);
  });

  test("upstream's Qwen booster and a PD booster become Active and answer through the router", async () => {
    for (const y of [QWEN, PD]) {
      const r = await env.kubectl(['apply', '-f', '-'], y);
      assert.equal(r.status, 0, r.stderr);
    }
    for (const name of ['demo', 'pd'])
      await eventually(
        `${name} Active`,
        async () =>
          (await get(['modelbooster', name, '-o', 'jsonpath={.status.conditions[?(@.type=="Active")].status}'])) ===
          'True',
        300_000,
      );
    for (const child of [
      'modelserving/demo-backend1',
      'modelserver/demo-backend1',
      'modelroute/demo',
      'modelserving/pd-b',
      'modelserver/pd-b',
      'modelroute/pd',
    ])
      assert.equal(await get([child, '-o', 'jsonpath={.metadata.ownerReferences[0].kind}']), 'ModelBooster', child);
    assert.equal(await get(['modelserver', 'pd-b', '-o', 'jsonpath={.spec.kvConnector.type}']), 'nixl');
    router = await startKubeRouter(env.kubeconfig);
    const openai = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    // route name → the engines' served name (the PD booster sets none: the controller passes the booster's name)
    for (const [model, served] of [
      ['demo', 'Qwen2.5-0.5B-Instruct'],
      ['deepseek-v2-lite', 'pd'],
    ]) {
      const reply = await eventually(
        `${model} answers`,
        () =>
          openai.chat.completions
            .create({ model, messages: [{ role: 'user', content: 'hi' }], max_tokens: 8 })
            .catch(() => undefined),
        120_000,
      );
      assert.ok(reply.choices[0].message.content, `${model}: a completion`);
      assert.equal(reply.model, served);
    }
  });

  test('LoRA adapters declared on a booster are loaded by its engine and routable by name', async () => {
    const lora = `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelBooster
metadata: {name: lora, namespace: default}
spec:
  backend:
    name: b
    type: vLLM
    modelURI: hf://Qwen/Qwen2.5-0.5B-Instruct
    replicas: 1
    workers:
    - type: server
      image: vllm/vllm-openai:latest
      replicas: 1
      pods: 1
      config: {served-model-name: base, enable-lora: "", lora-modules: [sql-adapter=/loras/sql]}
`;
    const r = await env.kubectl(['apply', '-f', '-'], lora);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(await get(['modelroute', 'lora', '-o', 'jsonpath={.spec.loraAdapters[0]}']), 'sql-adapter');
    await eventually(
      'lora Active',
      async () =>
        (await get(['modelbooster', 'lora', '-o', 'jsonpath={.status.conditions[?(@.type=="Active")].status}'])) ===
        'True',
      300_000,
    );
    assert.ok(router, 'the router runs');
    const openai = new OpenAI({ baseURL: `${router.url}/v1`, apiKey: 'unused', maxRetries: 0 });
    const reply = await eventually(
      'the adapter answers',
      () =>
        openai.chat.completions
          .create({ model: 'sql-adapter', messages: [{ role: 'user', content: 'hi' }], max_tokens: 4 })
          .catch(() => undefined),
      120_000,
    );
    assert.equal(reply.model, 'sql-adapter');
  });

  test('the runtime sidecar serves standard metrics from the pod IP', async () => {
    const ip = await get([
      'pod',
      '-l',
      'workload.serving.volcano.sh/model-name=demo',
      '-o',
      'jsonpath={.items[0].status.podIP}',
    ]);
    const text = await (await fetch(`http://${ip}:8100/metrics`)).text();
    assert.match(text, /^kthena:num_requests_waiting/m);
  });

  test('deleting a booster removes its children', async () => {
    const r = await env.kubectl(['delete', 'modelbooster', 'demo', '--wait=true']);
    assert.equal(r.status, 0, r.stderr);
    await eventually(
      'children gone',
      async () =>
        (await get(['modelservings,modelservers,modelroutes', '--no-headers', '-o', 'name']))
          .split('\n')
          .every((l) => !l.includes('demo')),
      60_000,
    );
  });
});
