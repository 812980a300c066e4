// `kthena runtime`: the sidecar of generated ModelBooster pods — upstream's runtime flags, served by src/runtime.
import { type Command, InvalidArgumentError } from 'commander';
import { startRuntime, validateRuntimeOptions } from '../runtime/index.js';
import { intArg } from './args.js';
import { addLogOptions, createLogger, type LogOptions } from './logging.js';
import { closeOnSignals } from './router.js';

interface RuntimeCliOptions extends LogOptions {
  port: number;
  host: string;
  engine: string;
  engineBaseUrl: string;
  engineMetricsPath: string;
  pod?: string;
  model?: string;
}

export function register(program: Command): void {
  addLogOptions(program.command('runtime'))
    .description('the ModelBooster sidecar: /health, engine metrics with standard kthena: names, LoRA load/unload')
    .option('--port <n>', 'listen port', intArg('--port', 1, 65535), 8100)
    .option('--host <addr>', 'listen address', '0.0.0.0')
    .option('--engine <name>', 'vllm | vllmdisaggregated | sglang | sglangdisaggregated', 'vllm')
    .option('--engine-base-url <url>', 'the engine beside this sidecar', 'http://localhost:8000')
    .option('--engine-metrics-path <path>', "the engine's metrics path", '/metrics')
    .option('--pod <name>', 'this pod, <name>.<namespace> (for logs)')
    .option('--model <name>', 'the ModelBooster this pod serves (for logs)')
    .action(async (o: RuntimeCliOptions) => {
      const log = createLogger(o, 'kthena-runtime');
      const opts = { ...o, port: o.port, host: o.host };
      const problem = validateRuntimeOptions(opts);
      if (problem) throw new InvalidArgumentError(problem);
      const rt = await startRuntime(opts);
      process.stdout.write(`kthena runtime: ${rt.url} beside ${o.engine} at ${o.engineBaseUrl}\n`);
      closeOnSignals(() => rt.close(), log);
    });
}
