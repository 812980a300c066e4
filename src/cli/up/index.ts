// `kthena up` (what `npm start` runs): the whole platform on one machine — the local control plane, the controller
// manager (every controller), the router fed from the Kubernetes API, and a demo model deployed *through the API*
// on simulated engines. One process owns the lifecycle: Ctrl-C stops the router, then the controllers, then the
// cluster (which stops every pod process). With --data-dir the cluster's objects survive a restart.
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import type { Logger } from 'pino';
import { generateCrds } from '../../api/index.js';
import { startCluster } from '../../cluster/index.js';
import { startControllerManager } from '../../controllers/manager.js';
import {
  CRDS,
  isAlreadyExists,
  KubeClient,
  type KubeObject,
  MODEL_BOOSTERS,
  MODEL_ROUTES,
  MODEL_SERVERS,
  MODEL_SERVINGS,
  NAMESPACES,
  PODS,
  type ResourceRef,
} from '../../kube/index.js';
import { intArg } from '../args.js';
import { addLogOptions, createLogger, type LogOptions } from '../logging.js';
import { runRouter } from '../router.js';
import { DEMO_NAME, DEMO_WORKLOAD, demoObjects, servedName } from './demo.js';
import { portOrEphemeral } from './ports.js';

export interface UpOptions extends LogOptions {
  port: number;
  metricsPort: number;
  debugPort: number;
  apiPort: number;
  kubeconfig: string;
  dataDir?: string;
  nodes: number;
  gpusPerNode: number;
  model: string;
  replicas: number;
  demo: boolean;
}

const REF_OF: Record<string, ResourceRef> = {
  ModelBooster: MODEL_BOOSTERS,
  ModelServing: MODEL_SERVINGS,
  ModelServer: MODEL_SERVERS,
  ModelRoute: MODEL_ROUTES,
};

/** Creates what is missing; an object that exists (a restart with --data-dir, or the user's edit) is left alone. */
async function createIfAbsent(client: KubeClient, ref: ResourceRef, obj: KubeObject): Promise<void> {
  try {
    await client.create(ref, obj);
  } catch (e) {
    if (!isAlreadyExists(e)) throw e;
  }
}

/** Installs (or upgrades) the Kthena CRDs and waits until each kind is served (also the chaos bench's set-up). */
export async function installCrds(client: KubeClient): Promise<void> {
  for (const crd of generateCrds() as KubeObject[]) {
    try {
      await client.create(CRDS, crd);
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
      const cur = await client.get<KubeObject>(CRDS, crd.metadata?.name ?? '');
      await client.replace(CRDS, {
        ...crd,
        metadata: { ...crd.metadata, resourceVersion: cur.metadata?.resourceVersion },
      });
    }
  }
  for (const ref of Object.values(REF_OF)) {
    for (let i = 0; ; i++) {
      try {
        await client.list(ref, { namespace: 'default', limit: 1 });
        break;
      } catch (e) {
        if (i > 100) throw e;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
  }
}

const isReady = (p: any) =>
  p.status?.phase === 'Running' &&
  (p.status.conditions ?? []).some((c: any) => c.type === 'Ready' && c.status === 'True');

/** Prints pod progress of the demo until every replica is ready and the router has them as endpoints. */
async function reportProgress(
  client: KubeClient,
  want: number,
  routed: () => number,
  signal: AbortSignal,
): Promise<boolean> {
  let last = '';
  while (!signal.aborted) {
    const pods = (
      await client
        .list<any>(PODS, { namespace: 'default', labelSelector: `modelserving.volcano.sh/name=${DEMO_WORKLOAD}` })
        .catch(() => ({ items: [] }))
    ).items;
    const ready = pods.filter(isReady).length;
    const line = `  demo: ${pods.length} pod(s), ${ready}/${want} ready, ${routed()} routed`;
    if (line !== last) {
      process.stdout.write(`${line}\n`);
      last = line;
    }
    if (ready >= want && routed() >= want) return true;
    await new Promise((r) => setTimeout(r, 500));
  }
  return false;
}

export async function up(o: UpOptions, log: Logger): Promise<() => Promise<void>> {
  const out = (s: string) => process.stdout.write(`${s}\n`);
  const [apiPort, port, metricsPort, debugPort] = await Promise.all([
    portOrEphemeral(o.apiPort),
    portOrEphemeral(o.port, '0.0.0.0'),
    portOrEphemeral(o.metricsPort, '0.0.0.0'),
    o.debugPort < 0 ? Promise.resolve(-1) : portOrEphemeral(o.debugPort),
  ]);
  const kubeconfig = resolve(o.kubeconfig);
  out('kthena up: starting the local control plane, the controllers and the router');
  const cluster = await startCluster({
    port: apiPort,
    kubeconfigPath: kubeconfig,
    dataDir: o.dataDir ? resolve(o.dataDir) : undefined,
    nodes: o.nodes,
    gpusPerNode: o.gpusPerNode,
    log: log.child({ part: 'cluster' }),
    requireAuth: true,
  });
  const client = KubeClient.fromKubeconfig(kubeconfig);
  let manager: Awaited<ReturnType<typeof startControllerManager>> | undefined;
  let router: Awaited<ReturnType<typeof runRouter>> | undefined;
  const progress = new AbortController();
  const stop = async () => {
    progress.abort();
    await router?.close().catch((e: unknown) => log.warn({ err: e }, 'router stop'));
    await manager?.close().catch((e: unknown) => log.warn({ err: e }, 'controller manager stop'));
    await client.close().catch(() => {});
    await cluster.close();
  };
  try {
    await installCrds(client);
    manager = await startControllerManager({
      client,
      log: log.child({ part: 'controllers' }),
      port: 0,
      host: '127.0.0.1',
    });
    router = await runRouter({
      host: '0.0.0.0',
      port,
      metricsPort,
      debugPort,
      kubeconfig,
      maxBodyBytes: 16 * 1024 * 1024,
      headersTimeout: 60_000,
      bodyTimeout: 60_000,
      scrapeInterval: 1000,
      drainTimeout: 10_000,
      accessLog: false,
      logger: log.child({ part: 'router' }),
      // Gateway API and Inference Extension modes, so upstream's gateway examples apply unchanged (the local API server
      // serves those CRDs from start-up). Routes without parentRefs are still served on --port.
      enableGatewayApi: true,
      enableGatewayApiInferenceExtension: true,
    });
    // The namespace a real install (deploy/) creates: manifests written for one (router ConfigMaps, examples/) apply here too.
    await createIfAbsent(client, NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'kthena-system', labels: { 'app.kubernetes.io/name': 'kthena' } },
    });
    if (o.demo) {
      for (const obj of demoObjects({ model: o.model, replicas: o.replicas, namespace: 'default' }))
        await createIfAbsent(client, REF_OF[obj.kind ?? '']!, obj);
    }
  } catch (e) {
    await stop();
    throw e;
  }
  const base = `http://127.0.0.1:${router.port}`;
  out('');
  out(`  control plane  ${cluster.url}   (kthena cluster; pods run as local processes)`);
  out(`  kubeconfig     export KUBECONFIG=${kubeconfig}`);
  out(`  controllers    ${manager.url}/metrics   (modelserving, modelbooster, autoscaler)`);
  out(
    `  router         ${base}   metrics http://127.0.0.1:${router.metricsPort}/metrics${router.debugPort ? `   debug http://127.0.0.1:${router.debugPort}/debug/scheduler` : ''}`,
  );
  if (router.debugPort)
    out(`  console        http://127.0.0.1:${router.debugPort}/console/   (live routes, endpoints, decisions)`);
  for (const [what, want, got] of [
    ['router', o.port, router.port],
    ['router metrics', o.metricsPort, router.metricsPort],
    ['API server', o.apiPort, Number(new URL(cluster.url).port)],
  ] as const)
    if (want !== 0 && want !== got) out(`  note: port ${want} was taken; the ${what} uses ${got}`);
  if (!o.demo) {
    out('\nNo demo model (--no-demo). Apply your own manifests with kubectl.');
    return stop;
  }
  const model = servedName(o.model);
  out(
    `\nDeploying ${o.model} as model "${model}" through the API: ModelBooster "${DEMO_NAME}" → ModelServing, ModelServer "${DEMO_WORKLOAD}", ModelRoute "${DEMO_NAME}"`,
  );
  const rt = router;
  const routed = () => (rt.store.view.endpointsByServer.get(`default/${DEMO_WORKLOAD}`) ?? []).length;
  void reportProgress(client, o.replicas, routed, progress.signal).then((ready) => {
    if (!ready) return;
    out('');
    out('Ready. Try:');
    out(`  curl -s ${base}/v1/chat/completions -H 'content-type: application/json' \\`);
    out(`    -d '{"model":"${model}","messages":[{"role":"user","content":"Say hello"}],"max_tokens":16}'`);
    out('  # or with the openai client (npm i openai):');
    out(
      `  node -e 'const O=require("openai");new O({baseURL:"${base}/v1",apiKey:"unused"}).chat.completions.create({model:"${model}",messages:[{role:"user",content:"hi"}]}).then(r=>console.log(r.choices[0].message.content))'`,
    );
    out(`  kubectl --kubeconfig ${kubeconfig} get modelboosters,modelservings,modelservers,modelroutes,pods`);
    out(
      `  kubectl --kubeconfig ${kubeconfig} patch modelbooster ${DEMO_NAME} --type merge -p '{"spec":{"backend":{"replicas":3}}}'   # the router follows`,
    );
    out('Ctrl-C stops everything.');
  });
  return stop;
}

export function register(program: Command): void {
  addLogOptions(program.command('up'), 'warn')
    .description('the whole platform on this machine: control plane, controllers, Kubernetes-fed router, a demo model')
    .option(
      '--port <n>',
      'router inference port (a taken default is replaced by a free port)',
      intArg('--port', 0, 65535),
      8080,
    )
    .option('--metrics-port <n>', 'router /metrics port', intArg('--metrics-port', 0, 65535), 9090)
    .option(
      '--debug-port <n>',
      'router debug port on 127.0.0.1 (-1 disables)',
      intArg('--debug-port', -1, 65535),
      15000,
    )
    .option('--api-port <n>', 'local Kubernetes API server port', intArg('--api-port', 0, 65535), 6443)
    .option('--kubeconfig <path>', 'where to write the kubeconfig', join(homedir(), '.kube', 'kthena-local.yaml'))
    .option('--data-dir <dir>', 'keep the cluster state here across restarts (default: in memory)')
    .option('--nodes <n>', 'simulated nodes', intArg('--nodes', 1, 1000), 1)
    .option('--gpus-per-node <n>', 'nvidia.com/gpu per node', intArg('--gpus-per-node', 0, 1024), 8)
    .option(
      '--model <id>',
      'demo model (served under its DNS-label name, e.g. qwen2-5-0-5b-instruct)',
      'Qwen/Qwen2.5-0.5B-Instruct',
    )
    .option('--replicas <n>', 'demo model replicas', intArg('--replicas', 0, 64), 2)
    .option('--no-demo', 'deploy no demo model')
    .action(async (o: UpOptions) => {
      const log = createLogger(o, 'kthena-up');
      const stop = await up(o, log);
      await new Promise<void>((done) => {
        let stopping = false;
        const onSignal = (sig: string) => {
          if (stopping) process.exit(1); // a second Ctrl-C forces it
          stopping = true;
          process.stdout.write(`\nkthena up: ${sig}, stopping the router, the controllers and the cluster\n`);
          stop().then(done, (e: unknown) => {
            process.stderr.write(`kthena up: error while stopping: ${(e as Error).message}\n`);
            done();
          });
        };
        process.on('SIGINT', () => onSignal('SIGINT'));
        process.on('SIGTERM', () => onSignal('SIGTERM'));
      });
      process.exit(0);
    });
}
