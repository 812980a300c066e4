import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { Container, PodTemplateSpec } from 'kubernetes-types/core/v1.js';
import { validate } from '../../api/index.js';
import { generateChildren } from './children.js';
import { DEFAULT_IMAGES, KTHENA_IMAGE } from './naming.js';
import { pdBooster, vllmBooster } from './testing/fixtures.js';
import type { Child } from './types.js';

const UPSTREAM = { downloader: 'ghcr.io/volcano-sh/downloader:latest', runtime: 'ghcr.io/volcano-sh/runtime:latest' };
const md5 = (s: string) => createHash('md5').update(s).digest('hex');
const roles = (ms: Child) =>
  ms.spec.template.roles as {
    name: string;
    replicas: number;
    workerReplicas: number;
    entryTemplate: PodTemplateSpec;
    workerTemplate?: PodTemplateSpec;
  }[];
const container = (t: PodTemplateSpec, name: string) => t.spec!.containers.find((c) => c.name === name) as Container;

test('vLLM: ModelServing demo-backend1 with one leader role, gang policy, grace periods and volumes', () => {
  const { modelServing: ms } = generateChildren(vllmBooster(), DEFAULT_IMAGES);
  assert.equal(ms.metadata.name, 'demo-backend1');
  assert.equal(ms.metadata.namespace, 'default');
  assert.equal(ms.spec.replicas, 1);
  assert.equal(ms.spec.schedulerName, undefined, 'empty schedulerName leaves the CRD default');
  assert.equal(ms.spec.template.restartGracePeriodSeconds, 60);
  assert.deepEqual(ms.spec.template.gangPolicy, { minRoleReplicas: { leader: 1 } });
  const [leader] = roles(ms);
  assert.deepEqual(
    [leader.name, leader.replicas, leader.workerReplicas, leader.workerTemplate],
    ['leader', 1, 0, undefined],
  );
  const spec = leader.entryTemplate.spec!;
  assert.equal(spec.terminationGracePeriodSeconds, 300);
  assert.deepEqual(spec.volumes, [
    { name: 'backend1-weights', hostPath: { path: '/tmp/cache', type: 'DirectoryOrCreate' } },
    { name: 'dshm', emptyDir: { medium: 'Memory' } },
  ]);
  assert.deepEqual(
    spec.containers.map((c) => c.name),
    ['runtime', 'engine'],
  );
});

test('vLLM engine: command from config, env, probe, mounts, resources and the draining preStop', () => {
  const { modelServing: ms } = generateChildren(vllmBooster(), DEFAULT_IMAGES);
  const engine = container(roles(ms)[0].entryTemplate, 'engine');
  const modelPath = `/tmp/cache/${md5('hf://Qwen/Qwen2.5-0.5B-Instruct')}`;
  assert.equal(engine.image, 'vllm/vllm-openai-cpu:latest');
  assert.deepEqual(engine.command, [
    'python3',
    '-m',
    'vllm.entrypoints.openai.api_server',
    '--model',
    modelPath,
    '--enforce-eager',
    '--max-model-len',
    '2048',
    '--served-model-name',
    'Qwen2.5-0.5B-Instruct',
  ]);
  assert.deepEqual(
    engine.env?.map((e) => e.name),
    ['POD_NAME', 'NAMESPACE', 'VLLM_USE_V1', 'REDIS_HOST', 'REDIS_PORT', 'REDIS_PASSWORD'],
  );
  assert.deepEqual(engine.env?.[3].valueFrom?.configMapKeyRef, {
    name: 'redis-config',
    key: 'REDIS_HOST',
    optional: true,
  });
  assert.deepEqual(engine.env?.[5].valueFrom?.secretKeyRef, {
    name: 'redis-secret',
    key: 'REDIS_PASSWORD',
    optional: true,
  });
  assert.deepEqual(engine.readinessProbe, {
    httpGet: { path: '/health', port: 8000 },
    initialDelaySeconds: 180,
    periodSeconds: 5,
    failureThreshold: 3,
    timeoutSeconds: 1,
  });
  assert.deepEqual(engine.volumeMounts, [
    { name: 'backend1-weights', mountPath: '/tmp/cache' },
    { name: 'dshm', mountPath: '/dev/shm' },
  ]);
  assert.deepEqual(engine.resources, { limits: { cpu: '4', memory: '8Gi' } });
  const stop = engine.lifecycle?.preStop?.exec?.command ?? [];
  assert.match(stop[2], /localhost:8000\/metrics/);
  assert.match(stop[2], /vllm:num_requests_running/);
  assert.match(stop[2], /vllm:num_requests_waiting/);
});

test('downloader: upstream args behind our `download` subcommand; only the downloader env names pass', () => {
  const mb = vllmBooster();
  mb.spec.backend.env = [
    { name: 'HF_ENDPOINT', value: 'https://hf-mirror.example' },
    { name: 'MS_TOKEN', value: '' },
    { name: 'OTHER', value: 'x' },
    { name: 'ENDPOINT', valueFrom: { secretKeyRef: { name: 's3', key: 'endpoint' } } },
  ];
  mb.spec.backend.envFrom = [{ secretRef: { name: 'hf-token' } }];
  const { modelServing: ms } = generateChildren(mb, DEFAULT_IMAGES);
  const [dl] = roles(ms)[0].entryTemplate.spec!.initContainers!;
  const modelPath = `/tmp/cache/${md5('hf://Qwen/Qwen2.5-0.5B-Instruct')}`;
  assert.equal(dl.name, 'demo-model-downloader');
  assert.equal(dl.image, KTHENA_IMAGE);
  assert.deepEqual(dl.args, ['download', '--source', 'hf://Qwen/Qwen2.5-0.5B-Instruct', '--output-dir', modelPath]);
  assert.deepEqual(
    dl.env?.map((e) => e.name),
    ['HF_ENDPOINT', 'ENDPOINT'],
  );
  assert.deepEqual(dl.envFrom, [{ secretRef: { name: 'hf-token' } }]);
  assert.deepEqual(dl.volumeMounts, [{ name: 'backend1-weights', mountPath: '/tmp/cache' }]);
  // the engine receives the whole backend env first
  const engine = container(roles(ms)[0].entryTemplate, 'engine');
  assert.deepEqual(
    engine.env?.slice(0, 4).map((e) => e.name),
    ['HF_ENDPOINT', 'MS_TOKEN', 'OTHER', 'ENDPOINT'],
  );
});

test('runtime sidecar: upstream flags, port 8100, /health readiness; RUNTIME_* env overrides them', () => {
  const { modelServing: ms } = generateChildren(vllmBooster(), DEFAULT_IMAGES);
  const rt = container(roles(ms)[0].entryTemplate, 'runtime');
  assert.deepEqual(rt.args, [
    'runtime',
    '--port',
    '8100',
    '--engine',
    'vllm',
    '--engine-base-url',
    'http://localhost:8000',
    '--engine-metrics-path',
    '/metrics',
    '--pod',
    '$(POD_NAME).$(NAMESPACE)',
    '--model',
    'demo',
  ]);
  assert.deepEqual(rt.ports, [{ containerPort: 8100 }]);
  assert.deepEqual(rt.readinessProbe, {
    httpGet: { path: '/health', port: 8100 },
    initialDelaySeconds: 5,
    periodSeconds: 10,
  });
  const mb = vllmBooster({ config: { port: 9000 } });
  mb.spec.backend.env = [
    { name: 'RUNTIME_PORT', value: '8200' },
    { name: 'RUNTIME_URL', value: 'http://127.0.0.1:9000' },
    { name: 'RUNTIME_METRICS_PATH', value: '/m' },
  ];
  const rt2 = container(roles(generateChildren(mb, DEFAULT_IMAGES).modelServing)[0].entryTemplate, 'runtime');
  assert.deepEqual(rt2.args?.slice(1, 9), [
    '--port',
    '8200',
    '--engine',
    'vllm',
    '--engine-base-url',
    'http://127.0.0.1:9000',
    '--engine-metrics-path',
    '/m',
  ]);
});

test('upstream images from the ConfigMap keep upstream args (no subcommand)', () => {
  const { modelServing: ms } = generateChildren(vllmBooster(), UPSTREAM);
  const t = roles(ms)[0].entryTemplate;
  assert.equal(t.spec!.initContainers![0].image, UPSTREAM.downloader);
  assert.equal(t.spec!.initContainers![0].args![0], '--source');
  assert.equal(container(t, 'runtime').image, UPSTREAM.runtime);
  assert.equal(container(t, 'runtime').args![0], '--port');
});

test('config.port sets the engine port everywhere: probes, runtime URL, ModelServer', () => {
  const c = generateChildren(vllmBooster({ config: { port: 9000 } }), DEFAULT_IMAGES);
  const t = roles(c.modelServing)[0].entryTemplate;
  assert.equal(container(t, 'engine').readinessProbe?.httpGet?.port, 9000);
  assert.ok(container(t, 'engine').command?.includes('9000'));
  assert.equal(container(t, 'runtime').args![6], 'http://localhost:9000');
  assert.deepEqual(c.modelServer.spec.workloadPort, { port: 9000 });
});

test('pods > 1: Ray leader wrapper with the GPU count, and Ray worker pods', () => {
  const mb = vllmBooster({
    worker: { pods: 3, resources: { limits: { 'nvidia.com/gpu': '2', 'huawei.com/ascend-1980': '1' } } },
  });
  const { modelServing: ms } = generateChildren(mb, DEFAULT_IMAGES);
  const [leader] = roles(ms);
  assert.equal(leader.workerReplicas, 2);
  const cmd = container(leader.entryTemplate, 'engine').command!;
  assert.equal(cmd[0], 'bash');
  assert.equal(cmd[1], '-c');
  assert.match(
    cmd[2],
    /^chmod u\+x examples\/online_serving\/multi-node-serving\.sh && examples\/online_serving\/multi-node-serving\.sh leader --ray_cluster_size=3 --num-gpus=3 && python3 -m vllm\.entrypoints\.openai\.api_server /,
  );
  assert.match(cmd[2], /--distributed_executor_backend ray$/);
  const w = leader.workerTemplate!.spec!;
  assert.equal(w.containers[0].name, 'backend1-vllm-worker');
  assert.deepEqual(w.containers[0].command, [
    'bash',
    '-c',
    'chmod u+x examples/online_serving/multi-node-serving.sh && examples/online_serving/multi-node-serving.sh worker --ray_address=$(ENTRY_ADDRESS)',
  ]);
  assert.equal(w.initContainers?.[0].name, 'demo-model-downloader');
  assert.equal(w.containers[0].env, undefined, 'a Ray worker gets backend.env only (none here)');
});

test('GPU + Mooncake/Nixl connector: pip install prefix in bash -c, unless KTHENA_SKIP_ENGINE_DEPENDENCY_INSTALL', () => {
  const mooncake = generateChildren(pdBooster('MooncakeConnector'), DEFAULT_IMAGES).modelServing;
  assert.match(
    container(roles(mooncake)[0].entryTemplate, 'vllm').command![2],
    /^pip install mooncake-transfer-engine && python3 /,
  );
  const nixl = generateChildren(pdBooster('NixlConnector'), DEFAULT_IMAGES).modelServing;
  assert.match(
    container(roles(nixl)[1].entryTemplate, 'vllm').command![2],
    /^PIP_DISABLE_PIP_VERSION_CHECK=1 pip install -U --no-cache-dir nixl && python3 /,
  );
  const lm = generateChildren(pdBooster('LMCacheConnectorV1'), DEFAULT_IMAGES).modelServing;
  assert.equal(container(roles(lm)[0].entryTemplate, 'vllm').command![0], 'python3');
  const skip = pdBooster('NixlConnector');
  skip.spec.backend.env = [{ name: 'KTHENA_SKIP_ENGINE_DEPENDENCY_INSTALL', value: 'true' }];
  assert.equal(
    container(roles(generateChildren(skip, DEFAULT_IMAGES).modelServing)[0].entryTemplate, 'vllm').command![0],
    'python3',
  );
  const cpu = pdBooster('NixlConnector');
  for (const w of cpu.spec.backend.workers) w.resources = {};
  assert.equal(
    container(roles(generateChildren(cpu, DEFAULT_IMAGES).modelServing)[0].entryTemplate, 'vllm').command![0],
    'python3',
  );
});

test('vLLMDisaggregated: prefill and decode roles, role env, probes, no dshm, runtime envFrom only on decode', () => {
  const mb = pdBooster();
  mb.spec.backend.envFrom = [{ configMapRef: { name: 'cm' } }];
  const { modelServing: ms } = generateChildren(mb, DEFAULT_IMAGES);
  assert.deepEqual(ms.spec.template.gangPolicy, { minRoleReplicas: { prefill: 2, decode: 1 } });
  const [p, d] = roles(ms);
  assert.deepEqual([p.name, p.replicas, p.workerReplicas, d.name, d.replicas], ['prefill', 2, 0, 'decode', 1]);
  assert.deepEqual(p.workerTemplate, { spec: { containers: [] } });
  for (const r of [p, d]) {
    const spec = r.entryTemplate.spec!;
    assert.deepEqual(spec.volumes, [{ name: 'b-weights', persistentVolumeClaim: { claimName: 'model-cache' } }]);
    const v = container(r.entryTemplate, 'vllm');
    assert.deepEqual(v.ports, [{ containerPort: 8000 }]);
    assert.equal(v.imagePullPolicy, 'IfNotPresent');
    assert.deepEqual(v.readinessProbe, {
      httpGet: { path: '/health', port: 8000 },
      initialDelaySeconds: 5,
      periodSeconds: 5,
      failureThreshold: 3,
    });
    assert.deepEqual(v.livenessProbe, {
      httpGet: { path: '/health', port: 8000 },
      initialDelaySeconds: 180,
      periodSeconds: 5,
      failureThreshold: 3,
    });
    assert.equal(v.lifecycle, undefined);
    assert.equal(container(r.entryTemplate, 'runtime').args![4], 'vllmdisaggregated');
  }
  const envNames = (r: typeof p) =>
    container(r.entryTemplate, 'vllm')
      .env!.slice(6)
      .map((e) => e.name);
  assert.deepEqual(envNames(p), ['HF_HUB_OFFLINE', 'HCCL_IF_IP']);
  assert.deepEqual(envNames(d), ['HF_HUB_OFFLINE', 'GLOO_SOCKET_IFNAME', 'TP_SOCKET_IFNAME', 'HCCL_SOCKET_IFNAME']);
  assert.equal(container(p.entryTemplate, 'runtime').envFrom, undefined);
  assert.deepEqual(container(d.entryTemplate, 'runtime').envFrom, [{ configMapRef: { name: 'cm' } }]);
  assert.equal(d.entryTemplate.spec!.tolerations, undefined);
});

test('ModelServer: model name, selector on model-uid, port, retry; pdGroup and kvConnector for PD', () => {
  const single = generateChildren(vllmBooster(), DEFAULT_IMAGES).modelServer;
  assert.equal(single.metadata.name, 'demo-backend1');
  assert.deepEqual(single.spec, {
    model: 'Qwen2.5-0.5B-Instruct',
    inferenceEngine: 'vLLM',
    workloadSelector: { matchLabels: { 'workload.serving.volcano.sh/model-uid': 'uid-demo' } },
    workloadPort: { port: 8000 },
    trafficPolicy: { retry: { attempts: 5, retryInterval: '0s' } },
  });
  assert.equal(generateChildren(vllmBooster({ config: {} }), DEFAULT_IMAGES).modelServer.spec.model, 'demo');
  const pd = generateChildren(pdBooster(), DEFAULT_IMAGES).modelServer;
  assert.deepEqual(pd.spec.workloadSelector.pdGroup, {
    groupKey: 'modelserving.volcano.sh/group-name',
    prefillLabels: { 'modelserving.volcano.sh/role': 'prefill' },
    decodeLabels: { 'modelserving.volcano.sh/role': 'decode' },
  });
  assert.deepEqual(pd.spec.kvConnector, { type: 'nixl' });
  assert.deepEqual(generateChildren(pdBooster('MooncakeConnectorV1'), DEFAULT_IMAGES).modelServer.spec.kvConnector, {
    type: 'mooncake',
  });
  assert.deepEqual(generateChildren(pdBooster('LMCacheConnectorV1'), DEFAULT_IMAGES).modelServer.spec.kvConnector, {
    type: 'lmcache',
  });
  assert.equal(pd.spec.model, 'pd', 'no served-model-name: the booster name');
});

test('ModelRoute: modelName = spec.name or the booster name; one default rule with modelMatch', () => {
  const route = generateChildren(vllmBooster(), DEFAULT_IMAGES).modelRoute;
  assert.equal(route.metadata.name, 'demo');
  assert.deepEqual(route.spec, {
    modelName: 'demo',
    rules: [{ name: 'default', targetModels: [{ modelServerName: 'demo-backend1' }] }],
  });
  const mb = pdBooster();
  mb.spec.modelMatch = { headers: { 'x-tier': { exact: 'batch' } } };
  const r2 = generateChildren(mb, DEFAULT_IMAGES).modelRoute;
  assert.equal(r2.spec.modelName, 'deepseek-v2-lite');
  assert.deepEqual(r2.spec.rules[0].modelMatch, { headers: { 'x-tier': { exact: 'batch' } } });
});

test('labels, revisions and the controlling owner on every child; pods carry model-uid but no revision', () => {
  const c = generateChildren(vllmBooster(), DEFAULT_IMAGES);
  for (const child of [c.modelServing, c.modelServer, c.modelRoute]) {
    const l = child.metadata.labels!;
    assert.equal(l['workload.serving.volcano.sh/model-name'], 'demo');
    assert.equal(l['workload.serving.volcano.sh/managed-by'], 'workload.serving.volcano.sh');
    assert.equal(l['workload.serving.volcano.sh/model-uid'], 'uid-demo');
    assert.match(l['workload.serving.volcano.sh/revision'], /^[a-z0-9]+$/);
    assert.deepEqual(child.metadata.ownerReferences, [
      {
        apiVersion: 'workload.serving.volcano.sh/v1alpha1',
        kind: 'ModelBooster',
        name: 'demo',
        uid: 'uid-demo',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
  }
  assert.equal(c.modelServing.metadata.labels!['workload.serving.volcano.sh/backend-name'], 'backend1');
  assert.equal(c.modelRoute.metadata.labels!['workload.serving.volcano.sh/backend-name'], '');
  const podLabels = roles(c.modelServing)[0].entryTemplate.metadata!.labels!;
  assert.equal(podLabels['workload.serving.volcano.sh/model-uid'], 'uid-demo');
  assert.equal(podLabels['workload.serving.volcano.sh/revision'], undefined);
  // the ModelServing revision follows spec.backend; the route's its own spec
  const again = generateChildren(vllmBooster(), DEFAULT_IMAGES);
  assert.equal(
    again.modelServing.metadata.labels!['workload.serving.volcano.sh/revision'],
    c.modelServing.metadata.labels!['workload.serving.volcano.sh/revision'],
  );
  const scaled = vllmBooster();
  scaled.spec.backend.replicas = 2;
  const c2 = generateChildren(scaled, DEFAULT_IMAGES);
  assert.notEqual(
    c2.modelServing.metadata.labels!['workload.serving.volcano.sh/revision'],
    c.modelServing.metadata.labels!['workload.serving.volcano.sh/revision'],
  );
  assert.equal(
    c2.modelRoute.metadata.labels!['workload.serving.volcano.sh/revision'],
    c.modelRoute.metadata.labels!['workload.serving.volcano.sh/revision'],
  );
});

test('cache: pvc:// claim, empty cacheURI → emptyDir at /models (upstream mounts at "")', () => {
  const mb = vllmBooster();
  mb.spec.backend.cacheURI = undefined;
  const t = roles(generateChildren(mb, DEFAULT_IMAGES).modelServing)[0].entryTemplate;
  assert.deepEqual(t.spec!.volumes![0], { name: 'backend1-weights', emptyDir: {} });
  assert.deepEqual(container(t, 'engine').volumeMounts![0], { name: 'backend1-weights', mountPath: '/models' });
  mb.spec.backend.cacheURI = 'pvc://models/';
  const t2 = roles(generateChildren(mb, DEFAULT_IMAGES).modelServing)[0].entryTemplate;
  assert.deepEqual(t2.spec!.volumes![0], { name: 'backend1-weights', persistentVolumeClaim: { claimName: 'models' } });
  assert.equal(container(t2, 'engine').command![4], `/models/${md5('hf://Qwen/Qwen2.5-0.5B-Instruct')}`);
});

test('scheduling fields: runtimeClassName, affinity, tolerations, schedulerName', () => {
  const mb = vllmBooster({
    worker: { tolerations: [{ key: 'gpu', operator: 'Exists' }], affinity: { nodeAffinity: {} } },
  });
  mb.spec.backend.runtimeClassName = 'nvidia';
  mb.spec.backend.schedulerName = 'default-scheduler';
  const ms = generateChildren(mb, DEFAULT_IMAGES).modelServing;
  const s = roles(ms)[0].entryTemplate.spec!;
  assert.equal(s.runtimeClassName, 'nvidia');
  assert.deepEqual(s.tolerations, [{ key: 'gpu', operator: 'Exists' }]);
  assert.deepEqual(s.affinity, { nodeAffinity: {} });
  assert.equal(ms.spec.schedulerName, 'default-scheduler');
});

test('LoRA modules declared in config are loaded by the engine and listed on the route', () => {
  const c = generateChildren(
    vllmBooster({ config: { 'enable-lora': '', 'lora-modules': ['sql=/loras/sql', 'chat=/loras/chat'] } }),
    DEFAULT_IMAGES,
  );
  assert.deepEqual(c.modelRoute.spec.loraAdapters, ['sql', 'chat']);
  const cmd = container(roles(c.modelServing)[0].entryTemplate, 'engine').command!;
  assert.deepEqual(cmd.slice(5), [
    '--enable-lora',
    '--lora-modules',
    'sql=/loras/sql',
    'chat=/loras/chat',
    '--served-model-name',
    'demo',
  ]);
});

test('every generated child is a valid object of its kind (src/api validate, as admission runs it)', () => {
  const mb = vllmBooster();
  mb.metadata.annotations = { 'autoscaling.kthena.io/max-replicas': '3' };
  for (const booster of [mb, pdBooster(), vllmBooster({ worker: { pods: 2 } })]) {
    const c = generateChildren(booster, DEFAULT_IMAGES);
    for (const child of Object.values(c)) {
      const r = validate(child);
      assert.deepEqual(r.errors, [], `${child.kind} ${child.metadata.name}`);
    }
  }
});

test('SGLang (beyond upstream): launch_server on the model path, host/port made explicit, SGLang ModelServer', () => {
  const mb = vllmBooster({ config: { 'served-model-name': 'qwen', 'context-length': 4096 } });
  mb.spec.backend.type = 'SGLang';
  mb.spec.backend.workers[0].image = 'lmsysorg/sglang:latest';
  const c = generateChildren(mb, DEFAULT_IMAGES);
  const t = roles(c.modelServing)[0].entryTemplate;
  const modelPath = `/tmp/cache/${md5('hf://Qwen/Qwen2.5-0.5B-Instruct')}`;
  assert.deepEqual(container(t, 'engine').command, [
    'python3',
    '-m',
    'sglang.launch_server',
    '--model-path',
    modelPath,
    '--context-length',
    '4096',
    '--served-model-name',
    'qwen',
    '--host',
    '0.0.0.0',
    '--port',
    '8000',
  ]);
  assert.match(container(t, 'engine').lifecycle!.preStop!.exec!.command![2], /sglang:num_queue_reqs/);
  assert.equal(container(t, 'runtime').args![4], 'sglang');
  assert.equal(c.modelServer.spec.inferenceEngine, 'SGLang');
  assert.equal(c.modelServer.spec.model, 'qwen');
  assert.deepEqual(validate(c.modelServing).errors, []);
});

test('SGLang PD (beyond upstream): disaggregation modes per role, bootstrap by SGLang default, no kvConnector', () => {
  const mb = pdBooster('NixlConnector', 'SGLangDisaggregated');
  for (const w of mb.spec.backend.workers) w.config = { 'disaggregation-transfer-backend': 'mooncake' };
  const c = generateChildren(mb, DEFAULT_IMAGES);
  const [p, d] = roles(c.modelServing);
  const cmd = (r: typeof p) => container(r.entryTemplate, 'sglang').command!;
  assert.deepEqual(cmd(p).slice(-6), ['--host', '0.0.0.0', '--port', '8000', '--disaggregation-mode', 'prefill']);
  assert.deepEqual(cmd(d).slice(-2), ['--disaggregation-mode', 'decode']);
  assert.ok(cmd(p).includes('--disaggregation-transfer-backend'));
  assert.equal(c.modelServer.spec.kvConnector, undefined);
  assert.equal(c.modelServer.spec.inferenceEngine, 'SGLang');
  assert.ok(c.modelServer.spec.workloadSelector.pdGroup);
  assert.equal(container(p.entryTemplate, 'runtime').args![4], 'sglangdisaggregated');
});
