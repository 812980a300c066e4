// The local Kubernetes API server ("API double"): startApiServer wires storage, persistence, the
// HTTP front, the in-process controllers and the kubeconfig file.
import { mkdir } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { isLoopback, requireBearer } from './auth.js';
import { Controllers } from './controllers.js';
import { ApiCore } from './core.js';
import { DisruptionStatusWriter } from './disruption.js';
import { writeKubeconfig } from './kubeconfig.js';
import { DiskLog } from './persistence.js';
import { Registry } from './registry.js';
import { seed } from './seed.js';
import { ApiHandler } from './server.js';
import { Store } from './store.js';
import { WorkloadController } from './workloads.js';

export { DEFAULT_KUBECONFIG, kubeconfigYaml, writeKubeconfig } from './kubeconfig.js';
export { logFilePath } from './logs.js';

export interface ApiServerOptions {
  port?: number;
  host?: string;
  /** Persist every acknowledged write here (WAL + snapshot); in memory when absent. */
  dataDir?: string;
  /** Written once the server answers. */
  kubeconfigPath?: string;
  /** Where pods/log reads container logs (`<ns>_<pod>_<container>.log`). */
  logDir?: string;
  /** Watch history kept per resource (events). */
  historyLimit?: number;
  /** Interval of BOOKMARK events on watches that ask for them. */
  bookmarkIntervalMs?: number;
  /** Poll interval of `pods/log?follow=true`. */
  logPollMs?: number;
  /** Install the Volcano CRDs from deploy/crds/volcano (default true). */
  installVolcanoCrds?: boolean;
  /** Events older than this are deleted (default 1 h). */
  eventTtlMs?: number;
  /** Period of the node-lifecycle check (default 5 s). */
  nodeMonitorPeriodMs?: number;
  log?: Logger;
  now?: () => number;
  /**
   * Bearer token every request must carry (401 otherwise), written into the kubeconfig. Absent: no authentication
   * (in-process tests); `kthena cluster` and `kthena up` always set one (src/cluster/auth.ts).
   */
  token?: string;
}

export interface ApiServer {
  url: string;
  port: number;
  kubeconfigPath?: string;
  logDir: string;
  close(): Promise<void>;
  /** In-process access for tests and hooks (e.g. compaction). */
  core: ApiCore;
  /** Test hook: drop the watch history so older resourceVersions get 410 Expired. */
  compactHistory(): void;
  /** Test hook: end every open watch stream (clients reconnect from their last RV). */
  closeWatches(): void;
}

export function defaultLogDir(dataDir?: string): string {
  return dataDir ? join(dataDir, 'logs') : join(tmpdir(), `kthena-cluster-logs-${process.pid}`);
}

export async function startApiServer(opts: ApiServerOptions = {}): Promise<ApiServer> {
  const registry = new Registry();
  let disk: DiskLog | undefined;
  let store: Store;
  if (opts.dataDir) {
    const opened = await DiskLog.open(opts.dataDir);
    disk = opened.log;
    store = new Store(opts.historyLimit, disk);
    // CRDs first, so their resource types exist before anything is served.
    const crds = opened.state.objects.get('apiextensions.k8s.io/customresourcedefinitions');
    for (const crd of crds?.values() ?? []) registry.syncCrd(crd);
    store.load(opened.state.rv, opened.state.objects);
  } else store = new Store(opts.historyLimit);
  const core = new ApiCore(store, registry, opts.now ?? Date.now);
  await seed(core, opts.installVolcanoCrds === false ? null! : undefined);
  const logDir = opts.logDir ?? defaultLogDir(opts.dataDir);
  await mkdir(logDir, { recursive: true });
  const controllers = new Controllers(core, {
    log: opts.log,
    eventTtlMs: opts.eventTtlMs,
    nodeMonitorPeriodMs: opts.nodeMonitorPeriodMs,
  });
  controllers.start();
  const disruption = new DisruptionStatusWriter(core);
  disruption.start();
  const workloads = new WorkloadController(core, opts.log);
  workloads.start();

  const host = opts.host ?? '127.0.0.1';
  let address = '';
  const handler = new ApiHandler(core, registry, {
    logDir,
    bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 60_000,
    serverAddress: () => address,
    logPollMs: opts.logPollMs,
  });
  const server: Server = createServer(
    { keepAliveTimeout: 65_000 },
    opts.token ? requireBearer(opts.token, handler.handle) : handler.handle,
  );
  server.headersTimeout = 70_000;
  server.requestTimeout = 0;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 6443, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const clientHost = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host.includes(':') ? `[${host}]` : host;
  address = `${clientHost}:${port}`;
  const url = `http://${address}`;
  if (opts.kubeconfigPath) await writeKubeconfig(opts.kubeconfigPath, url, opts.token);
  if (!isLoopback(host)) {
    const warning = `the local API server listens on ${host}, beyond loopback: anyone who can reach ${address} ${opts.token ? 'with the token' : 'WITHOUT ANY CREDENTIAL'} can run processes on this machine as this user, over plain HTTP`;
    opts.log?.warn(warning);
    process.stderr.write(`kthena cluster: WARNING: ${warning}\n`);
  }
  opts.log?.info({ url, dataDir: opts.dataDir, kubeconfig: opts.kubeconfigPath }, 'API server listening');

  let closed = false;
  return {
    url,
    port,
    kubeconfigPath: opts.kubeconfigPath,
    logDir,
    core,
    compactHistory: () => store.compactHistory(),
    closeWatches: () => handler.closeWatches(),
    async close() {
      if (closed) return;
      closed = true;
      controllers.stop();
      disruption.stop();
      workloads.stop();
      handler.closeWatches();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      await store.close();
    },
  };
}
