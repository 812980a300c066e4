// API keys from Kubernetes Secrets: every Secret matching the label selector (e.g. `kthena.io/api-keys=true`) holds
// a `keys.yaml` document in the API-key file format (SHA-256 hashes mapped to user and tier, see policy/api-keys.ts).
// The Secrets are watched; any add, update (key rotation) or delete rebuilds the merged key set and hands it to the
// auth stage at once. A Secret with a bad document is logged (name and the path of the bad entry, never a hash) and
// keeps its last good keys, so a typo in one Secret neither locks its users out nor disturbs the others.
import type { Logger } from 'pino';
import { type Clock, Informer, type KubeClient, type KubeObject, SECRETS } from '../../kube/index.js';
import type { AdmissionStage } from '../admission/chain.js';
import { type ApiKeyEntry, parseApiKeys } from '../policy/api-keys.js';
import { AuthStage } from '../policy/auth.js';

interface Secret extends KubeObject {
  data?: Record<string, string>;
  stringData?: Record<string, string>;
}

export interface ApiKeySecretOptions {
  client: KubeClient;
  labelSelector: string;
  /** Watch one namespace only; default all namespaces. */
  namespace?: string;
  clock?: Clock;
  log?: Logger;
  /** Receives the merged key set after every change. */
  onKeys(keys: Map<string, ApiKeyEntry>): void;
}

export class ApiKeySecretSource {
  readonly informer: Informer<Secret>;
  /** Last good keys per Secret (ns/name). */
  private readonly bySecret = new Map<string, Map<string, ApiKeyEntry>>();
  /** Secrets whose current version was rejected: ns/name → reason. */
  readonly rejected = new Map<string, string>();

  constructor(private readonly o: ApiKeySecretOptions) {
    this.informer = new Informer<Secret>(o.client, SECRETS, {
      namespace: o.namespace,
      labelSelector: o.labelSelector,
      clock: o.clock,
    });
    this.informer.on('add', (s) => this.apply(s));
    this.informer.on('update', (_old, s) => this.apply(s));
    this.informer.on('delete', (s) => {
      const key = keyOf(s);
      this.rejected.delete(key);
      if (this.bySecret.delete(key)) this.publish();
    });
  }

  start(): void {
    this.informer.start();
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  async stop(): Promise<void> {
    await this.informer.stop();
  }

  get keyCount(): number {
    let n = 0;
    for (const m of this.bySecret.values()) n += m.size;
    return n;
  }

  private apply(s: Secret): void {
    const key = keyOf(s);
    try {
      // LIST items carry no kind; the parser recognises the Secret shape by it.
      const keys = parseApiKeys(
        JSON.stringify({ kind: 'Secret', data: s.data, stringData: s.stringData }),
        `Secret ${key}`,
      );
      this.bySecret.set(key, keys);
      this.rejected.delete(key);
      this.o.log?.info({ secret: key, keys: keys.size }, 'API keys loaded from Secret');
    } catch (e) {
      const reason = (e as Error).message;
      this.rejected.set(key, reason);
      this.o.log?.error({ secret: key, err: reason }, 'API-key Secret rejected; keeping its previous keys');
      return;
    }
    this.publish();
  }

  private publish(): void {
    const merged = new Map<string, ApiKeyEntry>();
    for (const [secret, keys] of [...this.bySecret].sort(([a], [b]) => a.localeCompare(b)))
      for (const [hash, entry] of keys) {
        if (merged.has(hash)) {
          this.o.log?.warn({ secret }, 'API key hash appears in several Secrets; the first (by namespace/name) wins');
          continue;
        }
        merged.set(hash, entry);
      }
    this.o.onKeys(merged);
  }
}

function keyOf(s: Secret): string {
  return `${s.metadata?.namespace ?? 'default'}/${s.metadata?.name}`;
}

/**
 * Starts the Secret watch when the auth stage asks for it (auth.apiKeys.secretSelector). Without a Kubernetes
 * client that configuration could never admit a key, so it is a start-up error rather than a silent 401 for all.
 */
export function startApiKeySecrets(
  stages: readonly AdmissionStage[],
  kube: { client: KubeClient; namespace?: string; clock?: Clock } | undefined,
  log: Logger,
): ApiKeySecretSource | undefined {
  const auth = stages.find((s): s is AuthStage => s instanceof AuthStage);
  const selector = auth?.cfg.apiKeysSecretSelector;
  if (!auth || !selector) return undefined;
  if (!kube)
    throw new Error(
      'auth.apiKeys.secretSelector needs the Kubernetes source (--kubeconfig or in-cluster); use auth.apiKeys.file otherwise',
    );
  const src = new ApiKeySecretSource({
    client: kube.client,
    labelSelector: selector,
    namespace: auth.cfg.apiKeysSecretNamespace ?? kube.namespace,
    clock: kube.clock,
    log,
    onKeys: (keys) => auth.setSecretKeys(keys),
  });
  src.start();
  return src;
}
