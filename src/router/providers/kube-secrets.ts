// Kubernetes mode: watches only Secrets labelled as provider credentials (as upstream's informer does) into the
// CredentialStore. Values are decoded into memory and never logged; a malformed Secret is logged by name only.
import type { Logger } from 'pino';
import { type Clock, Informer, type KubeClient, type KubeObject, SECRETS } from '../../kube/index.js';
import { type CredentialStore, secretFromObject } from './credentials.js';
import { PROVIDER_CREDENTIAL_LABEL } from './options.js';

export class KubeSecretSource {
  readonly informer: Informer<KubeObject>;

  constructor(
    client: KubeClient,
    private readonly store: CredentialStore,
    opts: { namespace?: string; clock?: Clock; log?: Logger },
  ) {
    this.informer = new Informer<KubeObject>(client, SECRETS, {
      namespace: opts.namespace,
      labelSelector: `${PROVIDER_CREDENTIAL_LABEL}=true`,
      clock: opts.clock,
      log: opts.log,
    });
    const apply = (o: KubeObject) => {
      const r = secretFromObject(o);
      if (r.secret) this.store.upsert(r.secret);
      else
        opts.log?.warn(
          { secret: `${o.metadata?.namespace}/${o.metadata?.name}`, problem: r.error },
          'provider credential Secret is malformed; ignored',
        );
    };
    this.informer.on('add', apply);
    this.informer.on('update', (_old, o) => apply(o));
    this.informer.on('delete', (o) => this.store.remove(o.metadata?.namespace ?? 'default', o.metadata?.name ?? ''));
  }

  start(): void {
    this.informer.start();
  }

  hasSynced(): boolean {
    return this.informer.hasSynced();
  }

  stop(): Promise<void> {
    return this.informer.stop();
  }
}
