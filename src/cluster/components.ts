// Things that run beside the API server as ordinary API clients (kubelet, scheduler, …).
// Each component talks to the server over HTTP only; `kthena cluster` starts them in order.
import type { Logger } from 'pino';
import { kubeletComponent } from './kubelet/index.js';
import { schedulerComponent } from './scheduler/index.js';

export interface ClusterContext {
  /** Base URL of the API server, e.g. http://127.0.0.1:6443 */
  url: string;
  kubeconfigPath?: string;
  nodes: number;
  gpusPerNode: number;
  nodesFile?: string;
  dataDir?: string;
  /**
   * Directory for container logs. The kubelet writes each container's output to
   * `<logDir>/<namespace>_<pod>_<container>.log` (the previous instance, after a restart, to
   * `<namespace>_<pod>_<container>.previous.log`); `GET …/pods/NAME/log` serves those files.
   */
  logDir: string;
  /** Translate engine containers into simulated engines (off with --no-engine-sim). */
  runEngines: boolean;
  log: Logger;
  /** The API server's bearer token, when it requires one. */
  token?: string;
}

export interface ClusterComponent {
  name: string;
  start(ctx: ClusterContext): Promise<{ stop(): Promise<void> }>;
}

/** The components `kthena cluster` runs, in start order (stopped in reverse). */
export const clusterComponents: ClusterComponent[] = [kubeletComponent, schedulerComponent];
