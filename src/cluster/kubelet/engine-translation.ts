// Engines become simulators: a container that would start vLLM or SGLang is run as `kthena engine-sim` with the
// flags that matter translated, so upstream ModelServing/ModelBooster manifests run unchanged on a laptop.
// Pure: container → engine-sim argv (or null when the container is not an inference engine).
import type { Container } from 'kubernetes-types/core/v1.js';
import { splitShellCommands } from './shell-words.js';

export type EngineKind = 'vllm' | 'sglang';

export type EngineTranslation =
  | { kind: 'engine'; engine: EngineKind; argv: string[]; port: number; model: string }
  /** A multi-node worker (Ray worker of a leader elsewhere): nothing to simulate, the container just stays up. */
  | { kind: 'idle'; engine: EngineKind; why: string }
  /** The engine would refuse to start (e.g. tensor parallel size larger than the pod's GPUs). */
  | { kind: 'error'; engine: EngineKind; message: string };

export interface TranslationContext {
  /** The pod's IP: the simulator listens there, and `*` in ZMQ endpoints is replaced by it. */
  podIP: string;
  /** nvidia.com/gpu assigned to this container (its limit, else request). */
  gpus: number;
  /** Extra engine-sim flags from the pod (e.g. a profile). */
  extraArgs?: string[];
}

const SHELLS = /^(?:ba|da|z|k)?sh$/;
const PYTHON = /^python(?:\d+(?:\.\d+)?)?$/;
const VLLM_MODULES = new Set(['vllm.entrypoints.openai.api_server', 'vllm.entrypoints.api_server']);
const SGLANG_MODULES = new Set(['sglang.launch_server']);

const basename = (p: string) => p.slice(p.lastIndexOf('/') + 1);

/** Flags of either engine that never take a value (so the next word is not swallowed). */
const BOOLEAN_FLAGS = new Set([
  'enable-lora',
  'enforce-eager',
  'trust-remote-code',
  'enable-prefix-caching',
  'no-enable-prefix-caching',
  'disable-log-requests',
  'disable-log-stats',
  'enable-chunked-prefill',
  'disable-radix-cache',
  'enable-metrics',
  'skip-server-warmup',
  'disable-cuda-graph',
  'enable-auto-tool-choice',
  'enable-reasoning',
]);

interface ParsedArgs {
  positional: string[];
  flags: Map<string, string[]>;
}

/** argparse-like: `--a=b`, `--a b c` (nargs '+'), `-tp 2`; known boolean flags take no value. */
export function parseEngineArgs(args: string[]): ParsedArgs {
  const positional: string[] = [];
  const flags = new Map<string, string[]>();
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-') || a === '-' || /^-\d/.test(a)) {
      positional.push(a);
      continue;
    }
    let name = a.replace(/^--?/, '');
    const values: string[] = [];
    const eq = name.indexOf('=');
    if (eq >= 0) {
      values.push(name.slice(eq + 1));
      name = name.slice(0, eq);
    } else if (BOOLEAN_FLAGS.has(name.replace(/_/g, '-'))) {
      if (args[i + 1] === 'true' || args[i + 1] === 'false') values.push(args[++i]);
    } else {
      while (i + 1 < args.length && (!args[i + 1].startsWith('-') || /^-\d/.test(args[i + 1]))) values.push(args[++i]);
    }
    name = name.replace(/_/g, '-');
    flags.set(name, [...(flags.get(name) ?? []), ...values]);
  }
  return { positional, flags };
}

interface EngineCall {
  engine: EngineKind;
  args: string[];
  /** A Ray worker of a multi-node group (no server of its own). */
  worker?: boolean;
}

/** Skips `VAR=x`, `exec`, `env`, `nohup` prefixes of a simple command. */
function stripPrefixes(words: string[]): string[] {
  let i = 0;
  while (i < words.length) {
    const w = words[i];
    if (/^[A-Za-z_][A-Za-z0-9_]*=/.test(w) || w === 'exec' || w === 'nohup' || w === 'time') i++;
    else if (w === 'env') {
      i++;
      while (i < words.length && words[i].startsWith('-')) i++;
    } else break;
  }
  return words.slice(i);
}

function engineCallOf(rawWords: string[]): EngineCall | undefined {
  const words = stripPrefixes(rawWords);
  if (words.length === 0) return undefined;
  const prog = basename(words[0]);
  if (prog === 'vllm' && words[1] === 'serve') return { engine: 'vllm', args: words.slice(2) };
  if (PYTHON.test(prog)) {
    const m = words.indexOf('-m');
    if (m >= 1 && m + 1 < words.length) {
      if (VLLM_MODULES.has(words[m + 1])) return { engine: 'vllm', args: words.slice(m + 2) };
      if (SGLANG_MODULES.has(words[m + 1])) return { engine: 'sglang', args: words.slice(m + 2) };
    }
  }
  if (/multi-node-serving\.sh$/.test(words[0]) && words[1] === 'worker')
    return { engine: 'vllm', args: [], worker: true };
  if (SHELLS.test(prog)) {
    const c = words.indexOf('-c');
    if (c >= 1 && c + 1 < words.length) return findInScript(words[c + 1]);
  }
  return undefined;
}

function findInScript(script: string): EngineCall | undefined {
  let commands: string[][];
  try {
    commands = splitShellCommands(script);
  } catch {
    return undefined;
  }
  let worker: EngineCall | undefined;
  for (const words of commands) {
    const call = engineCallOf(words);
    if (call && !call.worker) return call;
    worker ??= call;
  }
  return worker;
}

/** Image repositories whose default entrypoint is the engine itself (args are the engine's flags). */
function engineOfImage(image: string | undefined): EngineKind | undefined {
  if (!image) return undefined;
  const repo = basename(image.replace(/@.*$/, '').replace(/:[^/:]*$/, ''));
  if (/vllm/.test(repo)) return 'vllm';
  if (/sglang/.test(repo)) return 'sglang';
  return undefined;
}

/** Finds the engine a container starts, from its command+args or (with no command) its image. */
export function detectEngine(c: Pick<Container, 'image' | 'command' | 'args'>): EngineCall | undefined {
  const argv = [...(c.command ?? []), ...(c.args ?? [])];
  if (c.command?.length) return engineCallOf(argv);
  const byImage = engineOfImage(c.image);
  if (!byImage) return undefined;
  // An engine image run with only args: the image's entrypoint is the server; args may also be a full command.
  return engineCallOf(argv) ?? { engine: byImage, args: argv };
}

const first = (p: ParsedArgs, ...names: string[]) => {
  for (const n of names) {
    const v = p.flags.get(n);
    if (v?.length) return v[0];
  }
  return undefined;
};
const has = (p: ParsedArgs, ...names: string[]) =>
  names.some((n) => p.flags.has(n) && !['false'].includes(p.flags.get(n)?.[0] ?? ''));

function intFlag(p: ParsedArgs, names: string[], what: string): number | undefined | Error {
  const v = first(p, ...names);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) return new Error(`${what} must be a positive integer, got "${v}"`);
  return Number(v);
}

function loraModules(values: string[]): string[] | Error {
  const out: string[] = [];
  for (const v of values) {
    if (v.trim().startsWith('{')) {
      try {
        const o = JSON.parse(v) as { name?: string; path?: string };
        if (!o.name || !o.path) return new Error(`LoRA module ${v} needs "name" and "path"`);
        out.push(`${o.name}=${o.path}`);
      } catch {
        return new Error(`LoRA module ${v} is not valid JSON`);
      }
    } else if (/^[^=]+=.+$/.test(v)) out.push(v);
    else return new Error(`LoRA module "${v}" must be name=path`);
  }
  return out;
}

/** kv_role of vLLM's --kv-transfer-config → the simulator's role. */
function roleOfKvTransfer(json: string): string | Error {
  let cfg: { kv_role?: string };
  try {
    cfg = JSON.parse(json);
  } catch {
    return new Error(`--kv-transfer-config is not valid JSON: ${json}`);
  }
  switch (cfg.kv_role) {
    case 'kv_producer':
      return 'prefill';
    case 'kv_consumer':
      return 'decode';
    case 'kv_both':
    case undefined:
      return 'both';
    default:
      return new Error(`--kv-transfer-config has unknown kv_role "${cfg.kv_role}"`);
  }
}

function kvEventsEndpoint(json: string, podIP: string): string | undefined | Error {
  let cfg: { enable_kv_cache_events?: boolean; endpoint?: string };
  try {
    cfg = JSON.parse(json);
  } catch {
    return new Error(`--kv-events-config is not valid JSON: ${json}`);
  }
  if (!cfg.enable_kv_cache_events) return undefined;
  return (cfg.endpoint ?? 'tcp://*:5557').replace('://*:', `://${podIP}:`).replace('://0.0.0.0:', `://${podIP}:`);
}

/** Translates a container into an engine-sim invocation; null when the container is not a known engine. */
export function translateEngine(
  c: Pick<Container, 'image' | 'command' | 'args'>,
  ctx: TranslationContext,
): EngineTranslation | null {
  const call = detectEngine(c);
  if (!call) return null;
  const engine = call.engine;
  if (call.worker) return { kind: 'idle', engine, why: 'multi-node worker: the simulated leader serves the group' };
  const p = parseEngineArgs(call.args);
  const fail = (e: Error): EngineTranslation => ({ kind: 'error', engine, message: e.message });

  const model =
    engine === 'vllm'
      ? (p.positional[0] ?? first(p, 'model') ?? 'facebook/opt-125m')
      : (first(p, 'model-path', 'model') ?? '');
  if (!model) return fail(new Error('sglang.launch_server needs --model-path'));
  const port = intFlag(p, ['port'], '--port');
  if (port instanceof Error) return fail(port);
  const resolvedPort = port ?? (engine === 'vllm' ? 8000 : 30000);
  if (resolvedPort < 1 || resolvedPort > 65535) return fail(new Error(`--port ${resolvedPort} is out of range`));

  const tp = intFlag(
    p,
    engine === 'vllm' ? ['tensor-parallel-size', 'tp'] : ['tp-size', 'tp', 'tensor-parallel-size'],
    'tensor parallel size',
  );
  if (tp instanceof Error) return fail(tp);
  const pp = intFlag(
    p,
    engine === 'vllm' ? ['pipeline-parallel-size', 'pp'] : ['pp-size', 'pp'],
    'pipeline parallel size',
  );
  if (pp instanceof Error) return fail(pp);
  const multiNode = (first(p, 'distributed-executor-backend') ?? '') === 'ray' || p.flags.has('nnodes');
  const wantGpus = (tp ?? 1) * (pp ?? 1);
  if (!multiNode && wantGpus > 1 && wantGpus > ctx.gpus) {
    return fail(
      new Error(
        `tensor parallel size ${tp ?? 1} × pipeline parallel size ${pp ?? 1} needs ${wantGpus} GPUs, ` +
          `but the container has ${ctx.gpus} nvidia.com/gpu`,
      ),
    );
  }

  const argv = [
    'engine-sim',
    '--engine',
    engine,
    '--host',
    ctx.podIP,
    '--port',
    String(resolvedPort),
    '--model',
    model,
  ];
  const served = first(p, 'served-model-name');
  if (served) argv.push('--served-model-name', served);
  const passInt = (names: string[], to: string) => {
    const v = intFlag(p, names, `--${names[0]}`);
    if (v instanceof Error) return v;
    if (v !== undefined) argv.push(to, String(v));
    return undefined;
  };
  const intMap: [string[], string][] =
    engine === 'vllm'
      ? [
          [['block-size'], '--block-size'],
          [['max-num-seqs'], '--max-num-seqs'],
          [['max-num-batched-tokens'], '--max-num-batched-tokens'],
          [['max-model-len'], '--max-model-len'],
          [['max-loras'], '--max-loras'],
          [['seed'], '--seed'],
        ]
      : [
          [['page-size'], '--block-size'],
          [['max-running-requests'], '--max-num-seqs'],
          [['max-prefill-tokens', 'chunked-prefill-size'], '--max-num-batched-tokens'],
          [['context-length'], '--max-model-len'],
          [['max-loras-per-batch'], '--max-loras'],
          [['random-seed'], '--seed'],
        ];
  for (const [names, to] of intMap) {
    const e = passInt(names, to);
    if (e) return fail(e);
  }

  let role = 'both';
  if (engine === 'vllm') {
    const kv = first(p, 'kv-transfer-config');
    if (kv) {
      const r = roleOfKvTransfer(kv);
      if (r instanceof Error) return fail(r);
      role = r;
    }
  } else {
    const mode = first(p, 'disaggregation-mode');
    if (mode === 'prefill' || mode === 'decode') role = mode;
    else if (mode && mode !== 'null')
      return fail(new Error(`--disaggregation-mode "${mode}" is not prefill or decode`));
  }
  argv.push('--role', role);

  const loraValues = engine === 'vllm' ? (p.flags.get('lora-modules') ?? []) : (p.flags.get('lora-paths') ?? []);
  const loras = loraModules(loraValues);
  if (loras instanceof Error) return fail(loras);
  if (has(p, 'enable-lora') || loras.length > 0) argv.push('--enable-lora');
  for (const l of loras) argv.push('--lora-modules', l);

  const kvEvents = first(p, 'kv-events-config');
  if (kvEvents) {
    const ep = kvEventsEndpoint(kvEvents, ctx.podIP);
    if (ep instanceof Error) return fail(ep);
    if (ep) argv.push('--kv-events-endpoint', ep);
  }
  argv.push(...(ctx.extraArgs ?? []));
  return { kind: 'engine', engine, argv, port: resolvedPort, model: served ?? model };
}
