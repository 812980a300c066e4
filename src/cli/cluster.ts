// `kthena cluster`: the local control plane (API server + kubelet + scheduler components).
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { DEFAULT_KUBECONFIG } from '../cluster/apiserver/index.js';
import { startCluster } from '../cluster/index.js';
import { intArg } from './args.js';
import { addLogOptions, createLogger, type LogOptions } from './logging.js';

export interface ClusterCliOptions extends LogOptions {
  port: number;
  host: string;
  dataDir?: string;
  kubeconfig: string;
  nodes: number;
  gpusPerNode: number;
  nodesFile?: string;
  engineSim: boolean;
}

export function register(program: Command): void {
  addLogOptions(program.command('cluster'))
    .description(
      'run a local Kubernetes control plane: API server, kubelet (pods as processes), Volcano-like scheduler',
    )
    .option('--port <n>', 'API server port (0 = ephemeral)', intArg('--port', 0, 65535), 6443)
    .option('--host <addr>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'persist every acknowledged write here (default: in memory)')
    .option('--kubeconfig <path>', 'write a kubeconfig for this cluster here', DEFAULT_KUBECONFIG)
    .option('--nodes <n>', 'number of simulated nodes', intArg('--nodes', 0, 10000), 1)
    .option('--gpus-per-node <n>', 'nvidia.com/gpu per node', intArg('--gpus-per-node', 0, 1024), 8)
    .option('--nodes-file <path>', 'YAML file describing nodes (overrides --nodes/--gpus-per-node)')
    .option('--no-engine-sim', 'do not translate engine containers into simulated engines')
    .action(async (o: ClusterCliOptions) => {
      if (o.nodesFile && !existsSync(o.nodesFile)) throw new Error(`--nodes-file ${o.nodesFile}: no such file`);
      const log = createLogger(o, 'kthena-cluster');
      const kubeconfigPath = resolve(o.kubeconfig);
      const cluster = await startCluster({
        port: o.port,
        host: o.host,
        dataDir: o.dataDir ? resolve(o.dataDir) : undefined,
        kubeconfigPath,
        nodes: o.nodes,
        gpusPerNode: o.gpusPerNode,
        nodesFile: o.nodesFile ? resolve(o.nodesFile) : undefined,
        runEngines: o.engineSim,
        log,
        requireAuth: true,
      });
      process.stdout.write(`kthena cluster: API server at ${cluster.url}\n`);
      process.stdout.write(`kthena cluster: kubeconfig written to ${kubeconfigPath}\n`);
      process.stdout.write(`  kubectl --kubeconfig ${kubeconfigPath} get nodes\n`);
      await new Promise<void>((done) => {
        let stopping = false;
        const stop = (signal: string) => {
          if (stopping) return;
          stopping = true;
          log.info({ signal }, 'stopping cluster');
          cluster.close().then(done, (e: unknown) => {
            log.error({ err: e }, 'error while stopping');
            done();
          });
        };
        process.once('SIGINT', () => stop('SIGINT'));
        process.once('SIGTERM', () => stop('SIGTERM'));
      });
    });
}
