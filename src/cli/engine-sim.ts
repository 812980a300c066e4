// `kthena engine-sim`: the simulated vLLM/SGLang engine. Flag names follow vLLM's (and a few of SGLang's) so
// a real serving command line can be translated by dropping the binary name.
import { type Command, InvalidArgumentError, Option } from 'commander';
import type { EngineOptions, EngineRole } from '../engine/config.js';
import { PROFILES } from '../engine/profiles.js';
import { positiveArg } from './args.js';
import { addLogOptions, createLogger, type LogOptions } from './logging.js';
import { toleratingUnknownFlags } from './unknown-flags.js';

function int(name: string) {
  return (v: string): number => {
    if (!/^\d+$/.test(v)) throw new InvalidArgumentError(`${name} must be a non-negative integer`);
    return Number(v);
  };
}

const num = positiveArg;

function collect(v: string, prev: string[] = []): string[] {
  return [...prev, v];
}

/** --lora-modules accepts name=path or vLLM's JSON form {"name": …, "path": …}. */
export function parseLoraModules(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items.flatMap((s) => (s.trim().startsWith('{') ? [s] : s.split(/\s+/).filter(Boolean)))) {
    if (item.trim().startsWith('{')) {
      let j: unknown;
      try {
        j = JSON.parse(item);
      } catch {
        throw new InvalidArgumentError(`--lora-modules: invalid JSON ${item}`);
      }
      const o = j as { name?: unknown; path?: unknown };
      if (typeof o.name !== 'string' || typeof o.path !== 'string')
        throw new InvalidArgumentError('--lora-modules JSON needs string "name" and "path"');
      out[o.name] = o.path;
      continue;
    }
    const eq = item.indexOf('=');
    if (eq <= 0 || eq === item.length - 1)
      throw new InvalidArgumentError(`--lora-modules expects name=path, got "${item}"`);
    out[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return out;
}

/** vLLM's --kv-transfer-config kv_role → our role. */
function roleFromKvTransferConfig(json: string): EngineRole | undefined {
  let c: unknown;
  try {
    c = JSON.parse(json);
  } catch {
    throw new InvalidArgumentError('--kv-transfer-config must be JSON');
  }
  if (typeof c !== 'object' || c === null || Array.isArray(c))
    throw new InvalidArgumentError('--kv-transfer-config must be a JSON object');
  const role = (c as { kv_role?: unknown }).kv_role;
  if (role === 'kv_producer') return 'prefill';
  if (role === 'kv_consumer') return 'decode';
  if (role === 'kv_both' || role === undefined) return undefined;
  throw new InvalidArgumentError(`--kv-transfer-config: unknown kv_role ${String(role)}`);
}

export interface Opts extends LogOptions {
  port: number;
  host: string;
  enableAdmin?: boolean;
  model?: string;
  modelPath?: string;
  servedModelName?: string[];
  engine: 'vllm' | 'sglang';
  profile: string;
  role?: EngineRole;
  replicas: number;
  basePort?: number;
  speedup: number;
  kvEventsEndpoint?: string;
  kvEventsReplayEndpoint?: string;
  kvEventsTopic?: string;
  kvEventsFormat: 'array' | 'map';
  kvEventsConfig?: string;
  kvTransferConfig?: string;
  seed: number;
  blockSize?: number;
  maxNumSeqs?: number;
  maxNumBatchedTokens?: number;
  maxModelLen?: number;
  numGpuBlocksOverride?: number;
  gpuMemoryUtilization?: number;
  enablePrefixCaching: boolean;
  enableLora?: boolean;
  maxLoras?: number;
  loraModules?: string[];
  outputLen?: string;
  streamInterval?: number;
  tokenizer?: string;
}

/** Whether an address is reachable only from this machine (127.0.0.0/8, ::1, localhost). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** Flags → EngineOptions (pure, so malformed flag values are testable without starting anything). */
export function toEngineOptions(positional: string | undefined, o: Opts): EngineOptions {
  const model = o.model ?? o.modelPath ?? positional ?? 'sim-model';
  let kvEndpoint = o.kvEventsEndpoint;
  let kvReplay = o.kvEventsReplayEndpoint;
  let kvTopic = o.kvEventsTopic;
  if (o.kvEventsConfig) {
    let c: Record<string, unknown>;
    try {
      c = JSON.parse(o.kvEventsConfig) as Record<string, unknown>;
    } catch {
      throw new InvalidArgumentError('--kv-events-config must be JSON');
    }
    if (typeof c !== 'object' || c === null || Array.isArray(c))
      throw new InvalidArgumentError('--kv-events-config must be a JSON object');
    if (c.enable_kv_cache_events !== false) {
      kvEndpoint ??= typeof c.endpoint === 'string' ? c.endpoint : 'tcp://*:5557';
      kvReplay ??= typeof c.replay_endpoint === 'string' ? c.replay_endpoint : undefined;
      if (!kvTopic && typeof c.topic === 'string') kvTopic = c.topic;
    }
  }
  const role = o.role ?? (o.kvTransferConfig ? roleFromKvTransferConfig(o.kvTransferConfig) : undefined);
  const opts: EngineOptions = {
    port: o.port,
    host: o.host,
    enableAdmin: o.enableAdmin === true,
    model,
    servedModelName: o.servedModelName,
    engine: o.engine,
    profile: o.profile,
    role,
    speedup: o.speedup,
    seed: o.seed,
    blockSize: o.blockSize,
    maxNumSeqs: o.maxNumSeqs,
    maxNumBatchedTokens: o.maxNumBatchedTokens,
    maxModelLen: o.maxModelLen,
    numGpuBlocks: o.numGpuBlocksOverride,
    gpuMemoryUtilization: o.gpuMemoryUtilization,
    enablePrefixCaching: o.enablePrefixCaching,
    enableLora: o.enableLora,
    maxLoras: o.maxLoras,
    loraModules: o.loraModules ? parseLoraModules(o.loraModules) : undefined,
    kvEventsEndpoint: kvEndpoint,
    kvEventsReplayEndpoint: kvReplay,
    kvEventsTopic: kvTopic,
    kvEventsFormat: o.kvEventsFormat,
    outputLen: o.outputLen,
    streamInterval: o.streamInterval,
    tokenizer: o.tokenizer,
  };
  return opts;
}

export function register(program: Command): void {
  addLogOptions(toleratingUnknownFlags(program.command('engine-sim')))
    .description('simulated vLLM/SGLang engine: OpenAI API, continuous batching, paged KV + prefix cache, metrics')
    .argument('[model]', 'model to serve (like `vllm serve MODEL`)')
    .option('--port <n>', 'port (0 = ephemeral; the bound port is printed)', int('--port'), 8000)
    .option('--host <addr>', 'address to listen on (0.0.0.0: every interface)', '127.0.0.1')
    .option('--enable-admin', 'serve the fault-injection and stats endpoints /admin/faults, /admin/stats (default off)')
    .option('--model <name>', 'model name/path (also the served name)')
    .option('--model-path <name>', 'SGLang spelling of --model')
    .option('--served-model-name <names...>', 'names the API answers to (first one is reported)')
    .addOption(new Option('--engine <kind>', 'API/metrics flavour').choices(['vllm', 'sglang']).default('vllm'))
    .addOption(
      new Option('--profile <name>', 'calibration profile').choices(Object.keys(PROFILES)).default('llama-3.1-8b-h100'),
    )
    .addOption(new Option('--role <role>', 'PD role').choices(['both', 'prefill', 'decode']))
    .option('--replicas <n>', 'independent engines in this process', int('--replicas'), 1)
    .option('--base-port <n>', 'replica i listens on base-port + i', int('--base-port'))
    .option('--speedup <x>', 'simulated time runs x times faster than wall time', num('--speedup'), 1)
    .option('--kv-events-endpoint <ep>', 'ZMQ PUB endpoint for KV events, e.g. tcp://*:5557')
    .option(
      '--kv-events-replay-endpoint <ep>',
      'ZMQ ROUTER endpoint replaying buffered KV events (default: an ephemeral port when the publisher binds; "none" = off)',
    )
    .option(
      '--tokenizer <path>',
      "a real model's tokenizer: a directory with tokenizer.json + tokenizer_config.json (chat template), or tokenizer.json",
    )
    .option('--kv-events-topic <topic>', 'topic frame of KV events', '')
    .addOption(
      new Option('--kv-events-format <format>', 'KV event encoding: array (msgspec array_like) or map (newer vLLM)')
        .choices(['array', 'map'])
        .default('array'),
    )
    .option('--kv-events-config <json>', "vLLM's JSON form: endpoint, replay_endpoint, topic, enable_kv_cache_events")
    .option('--kv-transfer-config <json>', "vLLM's JSON; kv_role kv_producer/kv_consumer/kv_both sets the role")
    .option('--seed <n>', 'seed for synthetic outputs', int('--seed'), 0)
    .option('--block-size <n>', 'KV block size in tokens', int('--block-size'))
    .option('--max-num-seqs <n>', 'max sequences per step', int('--max-num-seqs'))
    .option('--max-num-batched-tokens <n>', 'token budget per step', int('--max-num-batched-tokens'))
    .option('--max-model-len <n>', 'context length', int('--max-model-len'))
    .option(
      '--num-gpu-blocks-override <n>',
      'KV blocks (default: derived from the profile)',
      int('--num-gpu-blocks-override'),
    )
    .option('--gpu-memory-utilization <f>', 'fraction of GPU memory for the engine', num('--gpu-memory-utilization'))
    .option('--enable-prefix-caching', 'automatic prefix caching (default on)', true)
    .option('--no-enable-prefix-caching', 'disable automatic prefix caching')
    .option('--enable-lora', 'allow LoRA adapters')
    .option('--max-loras <n>', 'adapters per batch', int('--max-loras'))
    .option('--lora-modules <spec>', 'adapter at start: name=path or {"name":…,"path":…} (repeatable)', collect)
    .option('--output-len <dist>', 'output length without ignore_eos: fixed:N | uniform:A-B | lognormal:MEDIAN,SIGMA')
    .option(
      '--stream-interval <n>',
      'tokens per SSE chunk (default 1, or ceil(speedup) when speedup > 1)',
      int('--stream-interval'),
    )
    .action(async (first: string | undefined, o: Opts, cmd: Command) => {
      const logger = createLogger(o, 'engine-sim');
      // Unknown flags follow the operands in cmd.args (see unknown-flags.ts); the first word may be one of them.
      const positional = first?.startsWith('-') ? undefined : first;
      const unknown = cmd.args.slice(positional ? 1 : 0);
      if (unknown.length > 0) logger.warn({ arguments: unknown }, 'ignoring unsupported arguments');
      if (o.enableAdmin && !isLoopback(o.host))
        logger.warn({ host: o.host }, 'fault injection (/admin/faults) is reachable beyond this machine');
      const opts = { ...toEngineOptions(positional, o), log: (line: string) => logger.error(line) };
      const { startEngines } = await import('../engine/index.js');
      const engines = await startEngines({
        ...opts,
        replicas: o.replicas,
        basePort: o.basePort ?? (o.replicas > 1 ? o.port : undefined),
      });
      for (const e of engines) {
        const c = e.engine.cfg;
        process.stdout.write(
          `engine-sim listening on ${e.url} port=${e.port} model=${c.servedNames[0]} engine=${c.engine} role=${c.role} ` +
            `profile=${c.profile.name} blocks=${c.numGpuBlocks}x${c.blockSize} speedup=${c.speedup} ` +
            `tokenizer=${e.engine.tokenizer.kind === 'hf' ? e.engine.tokenizer.source : 'simulator'}` +
            (e.kvEventsReplayEndpoint ? ` kv-replay=${e.kvEventsReplayEndpoint}` : '') +
            '\n',
        );
      }
      await new Promise<void>((resolve) => {
        const stop = () => resolve();
        process.once('SIGINT', stop);
        process.once('SIGTERM', stop);
      });
      await Promise.all(engines.map((e) => e.close()));
    });
}
