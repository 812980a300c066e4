// Shared by the kubelet/scheduler e2e tests: a real local cluster on an ephemeral port and polling helpers.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { type Cluster, startCluster } from '../../src/cluster/index.js';
import { KubeApiError, KubeClient, PODS } from '../../src/kube/index.js';
import { eventually } from '../helpers/run.js';

export { eventually };

export async function cluster(opts: {
  nodes: number;
  gpusPerNode: number;
  runEngines?: boolean;
  kubeconfigPath?: string;
}): Promise<{
  cluster: Cluster;
  client: KubeClient;
  close(): Promise<void>;
}> {
  const c = await startCluster({ port: 0, ...opts });
  const client = new KubeClient({ server: c.url });
  return {
    cluster: c,
    client,
    async close() {
      await client.close();
      await c.close();
    },
  };
}

export const getPod = (client: KubeClient, name: string, ns = 'default') => client.get<Pod>(PODS, name, ns);

export async function gone(client: KubeClient, name: string, ns = 'default'): Promise<boolean> {
  try {
    await getPod(client, name, ns);
    return false;
  } catch (err) {
    if (err instanceof KubeApiError && err.status === 404) return true;
    throw err;
  }
}

export const condition = (p: Pod, type: string) => p.status?.conditions?.find((c) => c.type === type);
