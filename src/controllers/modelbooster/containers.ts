// The containers every generated pod shares: the model downloader (init), the runtime sidecar, and the engine's
// command and environment (§3.3). Pure.
import type { Container, EnvVar, Probe } from 'kubernetes-types/core/v1.js';
import {
  configPort,
  configToArgs,
  DEFAULT_ENGINE_PORT,
  kvTransferConfig,
  servedModelName,
  shellQuote,
  type WorkerConfig,
} from './engine-args.js';
import { type BoosterImages, isKthenaImage } from './naming.js';
import { cachePath, cacheVolumeName, modelPath } from './storage.js';
import type { Backend, ModelBooster, Worker } from './types.js';

const ENGINE_WORKERS = new Set(['server', 'prefill', 'decode']);
const DOWNLOADER_ENV = ['ENDPOINT', 'HF_ENDPOINT', 'MS_TOKEN', 'MS_REVISION'];
const MULTI_NODE_SCRIPT = 'examples/online_serving/multi-node-serving.sh';
const GPU_KEYS = ['nvidia.com/gpu', 'huawei.com/ascend-1980'];

export const workerType = (w: Worker) => w.type ?? 'server';
export const isSGLang = (b: Pick<Backend, 'type'>) => b.type.startsWith('SGLang');

/** The one engine port of a backend: config.port of its server/prefill/decode workers (admission keeps them equal). */
export function enginePort(backend: Backend): number {
  for (const w of backend.workers) {
    if (!ENGINE_WORKERS.has(workerType(w))) continue;
    const p = configPort(w.config as WorkerConfig | undefined);
    if (p !== undefined) return p;
  }
  return DEFAULT_ENGINE_PORT;
}

function envValue(backend: Backend, name: string): string | undefined {
  const v = backend.env?.find((e) => e.name === name)?.value;
  return v === undefined || v === '' ? undefined : v;
}

export function cacheMount(backend: Backend) {
  return { name: cacheVolumeName(backend), mountPath: cachePath(backend.cacheURI) };
}

/** The init container that fetches the weights: upstream's `--source URI --output-dir PATH`. */
export function downloaderContainer(mb: ModelBooster, images: BoosterImages): Container {
  const backend = mb.spec.backend;
  const env = (backend.env ?? []).filter(
    (e) => DOWNLOADER_ENV.includes(e.name) && ((e.value !== undefined && e.value !== '') || e.valueFrom),
  );
  const args = ['--source', backend.modelURI, '--output-dir', modelPath(backend)];
  return {
    name: `${mb.metadata.name}-model-downloader`,
    image: images.downloader,
    args: isKthenaImage(images.downloader) ? ['download', ...args] : args,
    ...(env.length ? { env } : {}),
    ...(backend.envFrom?.length ? { envFrom: backend.envFrom } : {}),
    volumeMounts: [cacheMount(backend)],
  };
}

/** Engine env: the backend's, then the pod's identity, vLLM v1 and the optional Redis of the KV-cache index. */
export function engineEnv(backend: Backend): EnvVar[] {
  return [
    ...(backend.env ?? []),
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'VLLM_USE_V1', value: '1' },
    { name: 'REDIS_HOST', valueFrom: { configMapKeyRef: { name: 'redis-config', key: 'REDIS_HOST', optional: true } } },
    { name: 'REDIS_PORT', valueFrom: { configMapKeyRef: { name: 'redis-config', key: 'REDIS_PORT', optional: true } } },
    {
      name: 'REDIS_PASSWORD',
      valueFrom: { secretKeyRef: { name: 'redis-secret', key: 'REDIS_PASSWORD', optional: true } },
    },
  ];
}

export const DEFAULT_RUNTIME_PORT = 8100;

export function runtimePort(backend: Backend): number {
  const v = Number(envValue(backend, 'RUNTIME_PORT'));
  return Number.isInteger(v) && v >= 1 && v <= 65535 ? v : DEFAULT_RUNTIME_PORT;
}

/** The runtime sidecar: health, normalised metrics and LoRA load/unload beside the engine. */
export function runtimeContainer(mb: ModelBooster, images: BoosterImages, withEnvFrom: boolean): Container {
  const backend = mb.spec.backend;
  const port = runtimePort(backend);
  const args = [
    '--port',
    String(port),
    '--engine',
    backend.type.toLowerCase(),
    '--engine-base-url',
    envValue(backend, 'RUNTIME_URL') ?? `http://localhost:${enginePort(backend)}`,
    '--engine-metrics-path',
    envValue(backend, 'RUNTIME_METRICS_PATH') ?? '/metrics',
    '--pod',
    '$(POD_NAME).$(NAMESPACE)',
    '--model',
    mb.metadata.name,
  ];
  return {
    name: 'runtime',
    image: images.runtime,
    args: isKthenaImage(images.runtime) ? ['runtime', ...args] : args,
    ports: [{ containerPort: port }],
    env: engineEnv(backend),
    ...(withEnvFrom && backend.envFrom?.length ? { envFrom: backend.envFrom } : {}),
    readinessProbe: { httpGet: { path: '/health', port }, initialDelaySeconds: 5, periodSeconds: 10 },
  };
}

const hasGpu = (w: Worker) => Number(w.resources?.limits?.['nvidia.com/gpu'] ?? 0) > 0;

function gpuCount(w: Worker): number {
  let n = 0;
  for (const k of GPU_KEYS) n += Number(w.resources?.limits?.[k] ?? 0) || 0;
  return n;
}

function skipDependencyInstall(backend: Backend): boolean {
  return (envValue(backend, 'KTHENA_SKIP_ENGINE_DEPENDENCY_INSTALL') ?? '').toLowerCase() === 'true';
}

/** The pip install a KV connector needs on GPU nodes (upstream installs it at container start). */
function connectorInstall(backend: Backend, w: Worker): string | undefined {
  if (!backend.workers.some(hasGpu) || skipDependencyInstall(backend)) return undefined;
  const connector = kvTransferConfig(w.config as WorkerConfig | undefined)?.kv_connector;
  if (connector === 'MooncakeConnector') return 'pip install mooncake-transfer-engine && ';
  if (connector === 'NixlConnector') return 'PIP_DISABLE_PIP_VERSION_CHECK=1 pip install -U --no-cache-dir nixl && ';
  return undefined;
}

/** Engine flags an SGLang worker needs and a vLLM one does not (SGLang's defaults differ from the booster's). */
function sglangExtras(backend: Backend, w: Worker, config: WorkerConfig): string[] {
  const out: string[] = [];
  if (config.host === undefined) out.push('--host', '0.0.0.0');
  if (config.port === undefined) out.push('--port', String(enginePort(backend)));
  const role = workerType(w);
  if ((role === 'prefill' || role === 'decode') && config['disaggregation-mode'] === undefined)
    out.push('--disaggregation-mode', role);
  return out;
}

/** The model name the engines serve: the first server/decode worker's served-model-name, else the booster's name. */
export function engineModelName(mb: ModelBooster): string {
  for (const w of mb.spec.backend.workers) {
    const t = workerType(w);
    if (t !== 'server' && t !== 'decode') continue;
    const name = servedModelName(w.config as WorkerConfig | undefined);
    if (name) return name;
  }
  return mb.metadata.name;
}

/**
 * The engine's argv: vLLM's OpenAI server (or SGLang's launch_server) on the model path, then the config flags.
 * A worker without served-model-name gets the backend's (engineModelName): the ModelServer routes that name, and an
 * engine would otherwise serve its model under the cache path (upstream's generated pods answer 404 there).
 */
export function engineCommand(mb: ModelBooster, w: Worker): string[] {
  const backend = mb.spec.backend;
  const config = (w.config ?? {}) as WorkerConfig;
  const base = isSGLang(backend)
    ? ['python3', '-m', 'sglang.launch_server', '--model-path', modelPath(backend), ...configToArgs(config)]
    : ['python3', '-m', 'vllm.entrypoints.openai.api_server', '--model', modelPath(backend), ...configToArgs(config)];
  if (!servedModelName(config)) base.push('--served-model-name', engineModelName(mb));
  if (isSGLang(backend)) base.push(...sglangExtras(backend, w, config));
  let script: string | undefined;
  if (workerType(w) === 'server' && w.pods > 1 && !isSGLang(backend)) {
    base.push('--distributed_executor_backend', 'ray');
    script =
      `chmod u+x ${MULTI_NODE_SCRIPT} && ${MULTI_NODE_SCRIPT} leader --ray_cluster_size=${w.pods} ` +
      `--num-gpus=${gpuCount(w)} && ${base.map(shellQuote).join(' ')}`;
  }
  const install = connectorInstall(backend, w);
  if (install) script = install + (script ?? base.map(shellQuote).join(' '));
  return script ? ['bash', '-c', script] : base;
}

/** A Ray worker of a multi-node vLLM group: joins the entry pod's Ray head. */
export function rayWorkerCommand(): string[] {
  return ['bash', '-c', `chmod u+x ${MULTI_NODE_SCRIPT} && ${MULTI_NODE_SCRIPT} worker --ray_address=$(ENTRY_ADDRESS)`];
}

export function healthProbe(port: number, p: Omit<Probe, 'httpGet'>): Probe {
  return { httpGet: { path: '/health', port }, ...p };
}

/**
 * preStop of a vLLM server: wait until it has no running or waiting request (or its metrics are gone), so a
 * scale-down or rollout does not cut requests in flight.
 */
export function drainScript(port: number, sglang = false): string {
  const [running, waiting] = sglang
    ? ['sglang:num_running_reqs', 'sglang:num_queue_reqs']
    : ['vllm:num_requests_running', 'vllm:num_requests_waiting'];
  return [
    'while true; do',
    `  m=$(curl -sf --max-time 3 http://localhost:${port}/metrics) || exit 0`,
    `  r=$(printf '%s\\n' "$m" | awk '/^${running}/ {s+=$NF} END {print s+0}')`,
    `  w=$(printf '%s\\n' "$m" | awk '/^${waiting}/ {s+=$NF} END {print s+0}')`,
    '  [ "$r" = 0 ] && [ "$w" = 0 ] && exit 0',
    '  sleep 5',
    'done',
  ].join('\n');
}
