// `kthena start`: three simulated engines and the router in front of them, configured from files
// (examples/router/demo), with a ready-to-paste curl — the demo without Kubernetes (`kthena up` is the whole platform).
import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type RunningEngine, startEngines } from '../engine/index.js';
import { intArg, positiveArg } from './args.js';
import { createLogger } from './logging.js';
import { addRouterOptions, closeOnSignals, type RouterCliOptions, runRouter } from './router.js';

const DEMO_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../examples/router/demo');

interface StartOptions extends RouterCliOptions {
  replicas: number;
  engineBasePort: number;
  speedup: number;
  profile?: string;
}

function endpointsYaml(engines: RunningEngine[], labels: Record<string, string>, prefix: string): string {
  return engines
    .map(
      (e, i) => `apiVersion: router.kthena.io/v1alpha1
kind: EngineEndpoint
metadata:
  name: ${prefix}-${i}
  namespace: default
  labels: ${JSON.stringify(labels)}
spec:
  address: 127.0.0.1
  port: ${e.port}
`,
    )
    .join('---\n');
}

export function register(program: Command): void {
  addRouterOptions(
    program
      .command('start')
      .description('demo without Kubernetes: the router on :8080 in front of simulated engines (examples/router/demo)')
      .option('--replicas <n>', 'simulated engines', intArg('--replicas', 1, 64), 3)
      .option(
        '--engine-base-port <p>',
        'first engine port (0 = ephemeral ports)',
        intArg('--engine-base-port', 0, 65535),
        0,
      )
      .option('--speedup <x>', 'simulated time runs this many times faster', positiveArg('--speedup'), 1)
      .option('--profile <name>', 'engine hardware/model profile'),
  ).action(async (o: StartOptions) => {
    const logger = createLogger(o, 'kthena-start');
    const server = parseYaml(await readFile(join(DEMO_DIR, 'modelserver.yaml'), 'utf8')) as {
      metadata: { name: string };
      spec: { model: string; workloadSelector: { matchLabels: Record<string, string> } };
    };
    const route = parseYaml(await readFile(join(DEMO_DIR, 'modelroute.yaml'), 'utf8')) as {
      spec: { modelName: string };
    };
    const engines = await startEngines({
      replicas: o.replicas,
      basePort: o.engineBasePort,
      host: '127.0.0.1',
      model: server.spec.model,
      profile: o.profile,
      speedup: o.speedup,
      seed: 1,
      log: (line) => logger.error(line),
    });
    // The demo directory is copied so the engines' real ports can be written into it; edits to the copy hot-reload.
    const dir = await mkdtemp(join(tmpdir(), 'kthena-demo-'));
    await cp(DEMO_DIR, dir, { recursive: true });
    await writeFile(
      join(dir, 'engines.yaml'),
      endpointsYaml(engines, server.spec.workloadSelector.matchLabels, server.metadata.name),
    );
    let router: Awaited<ReturnType<typeof runRouter>>;
    try {
      router = await runRouter({ ...o, configDir: dir, logger });
    } catch (e) {
      await Promise.all(engines.map((e) => e.close()));
      throw e;
    }
    const model = route.spec.modelName;
    const base = `http://127.0.0.1:${router.port}`;
    process.stdout.write(
      [
        '',
        `kthena: router ready on ${base} in front of ${engines.length} simulated engines (${engines.map((e) => e.port).join(', ')})`,
        `  config (hot-reloaded): ${dir}`,
        `  metrics: http://127.0.0.1:${router.metricsPort}/metrics   debug: http://127.0.0.1:${router.debugPort}/debug/scheduler`,
        '',
        'Try:',
        `  curl -s ${base}/v1/chat/completions -H 'content-type: application/json' \\`,
        `    -d '{"model":"${model}","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'`,
        `  curl -sN ${base}/v1/chat/completions -H 'content-type: application/json' \\`,
        `    -d '{"model":"${model}","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16,"stream":true}'`,
        '',
      ].join('\n'),
    );
    closeOnSignals(async () => {
      await router.close();
      await Promise.all(engines.map((e) => e.close()));
      await rm(dir, { recursive: true, force: true });
    }, logger);
  });
}
