// `kthena cluster` as a library: the API server plus every registered ClusterComponent.
import pino, { type Logger } from 'pino';
import { clusterToken } from './apiserver/auth.js';
import { type ApiServer, defaultLogDir, startApiServer } from './apiserver/index.js';
import { type ClusterComponent, type ClusterContext, clusterComponents } from './components.js';

export type { ApiServer, ApiServerOptions } from './apiserver/index.js';
export { startApiServer } from './apiserver/index.js';
export type { ClusterComponent, ClusterContext } from './components.js';
export { clusterComponents } from './components.js';

export interface ClusterOptions {
  port?: number;
  host?: string;
  dataDir?: string;
  kubeconfigPath?: string;
  nodes?: number;
  gpusPerNode?: number;
  nodesFile?: string;
  logDir?: string;
  runEngines?: boolean;
  log?: Logger;
  /** Defaults to the registered `clusterComponents`. */
  components?: ClusterComponent[];
  /**
   * Require a bearer token (kept in `<dataDir>/auth-token`, written into every kubeconfig): what `kthena cluster` and
   * `kthena up` do. Off for in-process tests that talk raw HTTP.
   */
  requireAuth?: boolean;
}

export interface Cluster {
  url: string;
  kubeconfigPath?: string;
  apiServer: ApiServer;
  close(): Promise<void>;
}

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const log = opts.log ?? pino({ level: 'silent' });
  const logDir = opts.logDir ?? defaultLogDir(opts.dataDir);
  const token = opts.requireAuth ? await clusterToken(opts.dataDir) : undefined;
  const apiServer = await startApiServer({
    token,
    port: opts.port,
    host: opts.host,
    dataDir: opts.dataDir,
    kubeconfigPath: opts.kubeconfigPath,
    logDir,
    log,
  });
  const ctx: ClusterContext = {
    url: apiServer.url,
    kubeconfigPath: opts.kubeconfigPath,
    nodes: opts.nodes ?? 1,
    gpusPerNode: opts.gpusPerNode ?? 8,
    nodesFile: opts.nodesFile,
    dataDir: opts.dataDir,
    logDir,
    runEngines: opts.runEngines ?? true,
    log,
    token,
  };
  const running: { name: string; stop(): Promise<void> }[] = [];
  const stopAll = async () => {
    for (const r of running.reverse()) {
      try {
        await r.stop();
      } catch (e) {
        log.warn({ err: e, component: r.name }, 'component failed to stop');
      }
    }
    running.length = 0;
  };
  try {
    for (const c of opts.components ?? clusterComponents) {
      const handle = await c.start({ ...ctx, log: log.child({ component: c.name }) });
      running.push({ name: c.name, stop: () => handle.stop() });
      log.info({ component: c.name }, 'component started');
    }
  } catch (e) {
    await stopAll();
    await apiServer.close();
    throw e;
  }
  let closed = false;
  return {
    url: apiServer.url,
    kubeconfigPath: opts.kubeconfigPath,
    apiServer,
    async close() {
      if (closed) return;
      closed = true;
      await stopAll();
      await apiServer.close();
    },
  };
}
