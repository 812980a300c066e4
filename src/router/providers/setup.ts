// Builds the provider machinery for one router: credentials, gateway, fallback hook, and in Kubernetes mode the
// labelled-Secret watch and the status writer. router.ts calls this once and wires four small hooks.
import type { Logger } from 'pino';
import type { KubeClient } from '../../kube/index.js';
import type { KubeSource } from '../sources/kubernetes.js';
import type { RouterStore } from '../store/store.js';
import type { RouterMetrics } from '../telemetry/metrics.js';
import { CredentialStore } from './credentials.js';
import { ProviderGateway } from './gateway.js';
import { ProviderHook } from './hook.js';
import { KubeSecretSource } from './kube-secrets.js';
import { ProviderMetrics } from './metrics.js';
import { ProviderStatusWriter } from './status.js';

export interface Providers {
  credentials: CredentialStore;
  gateway: ProviderGateway;
  hook: ProviderHook;
  secrets?: KubeSecretSource;
  status?: ProviderStatusWriter;
  /** Kubernetes mode: watch labelled Secrets and (as Lease holder) write provider status. */
  attachKube(client: KubeClient, kube: KubeSource, opts: { namespace?: string; writeStatus?: boolean }): void;
  /**
   * The credential watch has loaded its first LIST. Deliberately not part of /readyz: a router without RBAC for
   * Secrets must still route to ModelServers; provider routes answer 503 provider_not_ready until credentials load.
   */
  synced(): boolean;
  close(): Promise<void>;
}

export function createProviders(o: { store: RouterStore; metrics: RouterMetrics; log?: Logger }): Providers {
  const credentials = new CredentialStore();
  const metrics = new ProviderMetrics(o.metrics);
  const gateway = new ProviderGateway({ store: o.store, credentials, metrics, log: o.log });
  const hook = new ProviderHook(gateway, metrics);
  const p: Providers = {
    credentials,
    gateway,
    hook,
    attachKube(client, kube, opts) {
      const secrets = new KubeSecretSource(client, credentials, { namespace: opts.namespace, log: o.log });
      p.secrets = secrets;
      secrets.start();
      if (opts.writeStatus ?? true) {
        p.status = new ProviderStatusWriter({
          client,
          kube,
          credentials,
          credentialsSynced: () => secrets.hasSynced(),
          log: o.log,
        });
        p.status.start();
      }
    },
    synced: () => p.secrets?.hasSynced() ?? true,
    async close() {
      await p.status?.stop();
      await p.secrets?.stop();
      await gateway.close();
    },
  };
  return p;
}
