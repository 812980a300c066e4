// ExternalModelProvider status in Kubernetes mode, with upstream's conditions: CredentialsResolved (the referenced
// labelled Secret and key exist and hold a usable token) and Ready (that, plus a valid configuration). Written by the
// Lease holder only (the KubeSource's election), and only when it differs from what the API server holds.
import type { Logger } from 'pino';
import { EXTERNAL_MODEL_PROVIDERS, type KubeClient, type KubeObject } from '../../kube/index.js';
import { type Condition, cond, statusFingerprint, withTransitionTimes } from '../sources/kube-status.js';
import type { KubeSource } from '../sources/kubernetes.js';
import type { ExternalModelProvider } from '../store/resources.js';
import type { CredentialStore } from './credentials.js';
import { parseProvider } from './options.js';

export interface ProviderStatus {
  observedGeneration?: number;
  conditions: Condition[];
}

const isObj = (v: unknown): v is Record<string, any> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Pure: the status a provider should have, given validation problems and the credentials known now. */
export function desiredProviderStatus(
  p: ExternalModelProvider,
  invalid: string[] | undefined,
  credentials: CredentialStore,
): ProviderStatus {
  const gen = p.metadata.generation;
  const ns = p.metadata.namespace ?? 'default';
  const ref = isObj(p.spec.auth) && isObj(p.spec.auth.secretRef) ? p.spec.auth.secretRef : undefined;
  let creds: Condition;
  if (!isObj(p.spec.auth))
    creds = cond('CredentialsResolved', true, 'CredentialNotRequired', 'no auth configured', gen);
  else if (!ref || typeof ref.name !== 'string' || typeof ref.key !== 'string')
    creds = cond('CredentialsResolved', false, 'CredentialNotFound', 'spec.auth.secretRef needs name and key', gen);
  else {
    const r = credentials.resolve(ns, ref.name, ref.key);
    creds = r.ok
      ? cond(
          'CredentialsResolved',
          true,
          'CredentialResolved',
          `Secret ${ns}/${ref.name} key "${ref.key}" resolved`,
          gen,
        )
      : cond('CredentialsResolved', false, r.reason, r.message, gen);
  }
  const problems = [...(invalid ?? []), ...parseProvider(p).errors];
  const ready = problems.length
    ? cond('Ready', false, 'ConfigurationInvalid', [...new Set(problems)].join('; '), gen)
    : creds.status === 'True'
      ? cond('Ready', true, 'Ready', 'External provider configuration is ready', gen)
      : cond('Ready', false, creds.reason, creds.message, gen);
  return { observedGeneration: gen, conditions: [creds, ready] };
}

export interface ProviderStatusWriterOptions {
  client: KubeClient;
  kube: KubeSource;
  credentials: CredentialStore;
  /** Credential informer synced (no verdict on a Secret before its LIST has loaded). */
  credentialsSynced: () => boolean;
  /** Periodic re-check (leadership gained, missed events); default 5 s. */
  resyncMs?: number;
  delayMs?: number;
  log?: Logger;
}

export class ProviderStatusWriter {
  private timer: NodeJS.Timeout | undefined;
  private resync: NodeJS.Timeout | undefined;
  private pass: Promise<void> | undefined;
  private again = false;
  private stopped = false;
  private readonly written = new Map<string, { fromRv: string; fp: string }>();
  writes = 0;
  passes = 0;

  constructor(private readonly o: ProviderStatusWriterOptions) {
    o.credentials.on('change', () => this.schedule());
    o.kube.providers.on('add', () => this.schedule());
    o.kube.providers.on('update', () => this.schedule());
    o.kube.providers.on('delete', (obj) => {
      this.written.delete(`${obj.metadata?.namespace ?? 'default'}/${obj.metadata?.name}`);
    });
  }

  start(): void {
    this.resync = setInterval(() => this.schedule(), this.o.resyncMs ?? 5000).unref();
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.resync);
    clearTimeout(this.timer);
    await this.pass;
  }

  /** Runs a pass now (tests) and resolves when it ends. */
  async flush(): Promise<void> {
    await this.pass;
    await this.run();
  }

  private schedule(): void {
    if (this.stopped || !this.o.kube.isLeader()) return;
    if (this.pass) {
      this.again = true;
      return;
    }
    this.timer ??= setTimeout(() => {
      this.timer = undefined;
      void this.run();
    }, this.o.delayMs ?? 100);
  }

  private run(): Promise<void> {
    this.pass ??= this.writeAll()
      .catch((e: unknown) => this.o.log?.warn({ err: (e as Error).message }, 'provider status pass failed'))
      .finally(() => {
        this.pass = undefined;
        this.passes++;
        if (this.again) {
          this.again = false;
          this.schedule();
        }
      });
    return this.pass;
  }

  private async writeAll(): Promise<void> {
    const { kube, client } = this.o;
    if (!kube.isLeader() || !kube.providers.hasSynced() || !this.o.credentialsSynced()) return;
    const now = new Date().toISOString();
    for (const obj of kube.providers.list() as (KubeObject & { spec?: unknown; status?: unknown })[]) {
      if (this.stopped || !kube.isLeader()) return;
      const md = obj.metadata ?? {};
      const key = `${md.namespace ?? 'default'}/${md.name}`;
      const p: ExternalModelProvider = {
        kind: 'ExternalModelProvider',
        metadata: { ...(md as ExternalModelProvider['metadata']) },
        spec: isObj(obj.spec) ? obj.spec : {},
      };
      const desired = desiredProviderStatus(p, kube.invalid.get(`ExternalModelProvider/${key}`), this.o.credentials);
      const fp = statusFingerprint(desired);
      if (statusFingerprint(obj.status) === fp) {
        this.written.delete(key);
        continue;
      }
      const w = this.written.get(key);
      if (w && w.fp === fp && w.fromRv === md.resourceVersion) continue;
      try {
        await client.patch(
          EXTERNAL_MODEL_PROVIDERS,
          md.name ?? '',
          md.namespace,
          { status: withTransitionTimes(desired, obj.status, now) },
          'merge',
          { subresource: 'status' },
        );
        this.writes++;
        this.written.set(key, { fromRv: md.resourceVersion ?? '', fp });
      } catch (e) {
        this.o.log?.warn({ provider: key, err: (e as Error).message }, 'provider status write failed');
        this.again = true;
      }
    }
  }
}
