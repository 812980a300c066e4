// Provider credentials: the labelled Secrets the router may read, from the Kubernetes API (kube-secrets.ts) or from
// `kind: Secret` manifests in --config-dir. Values live only here, never in the routing store, so the debug dumps,
// logs and metrics that print store objects cannot show them. `resolve` gives upstream's condition reasons.
import { EventEmitter } from 'node:events';
import { type SecretDoc, secretFromObject } from '../sources/secrets.js';
import { PROVIDER_CREDENTIAL_LABEL } from './options.js';

export { type SecretDoc, secretFromObject };

export type Resolution =
  | { ok: true; value: string; reason: 'CredentialResolved' }
  | {
      ok: false;
      reason: 'CredentialNotFound' | 'CredentialKeyNotFound' | 'CredentialInvalid';
      message: string;
    };

const TOKEN_OK = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export class CredentialStore extends EventEmitter<{ change: [] }> {
  private secrets = new Map<string, SecretDoc>();
  /** All values, for redaction of provider messages we relay. */
  private values = new Set<string>();

  /** Replaces every Secret (file source: one consistent set per reload). */
  replaceAll(list: SecretDoc[]): void {
    this.secrets = new Map(list.map((s) => [`${s.namespace}/${s.name}`, s]));
    this.reindex();
  }

  upsert(s: SecretDoc): void {
    this.secrets.set(`${s.namespace}/${s.name}`, s);
    this.reindex();
  }

  remove(namespace: string, name: string): void {
    if (this.secrets.delete(`${namespace}/${name}`)) this.reindex();
  }

  get size(): number {
    return this.secrets.size;
  }

  /** The trimmed credential value, or why there is none (upstream's reasons). */
  resolve(namespace: string, name: string, key: string): Resolution {
    const s = this.secrets.get(`${namespace}/${name}`);
    const where = `Secret ${namespace}/${name}`;
    if (!s)
      return {
        ok: false,
        reason: 'CredentialNotFound',
        message: `${where} not found (it must exist and carry the label ${PROVIDER_CREDENTIAL_LABEL}: "true")`,
      };
    if (s.labels[PROVIDER_CREDENTIAL_LABEL] !== 'true')
      return {
        ok: false,
        reason: 'CredentialNotFound',
        message: `${where} lacks the label ${PROVIDER_CREDENTIAL_LABEL}: "true"`,
      };
    const raw = s.data.get(key);
    if (raw === undefined || raw === '')
      return { ok: false, reason: 'CredentialKeyNotFound', message: `${where} has no key "${key}" (or it is empty)` };
    const value = raw.trim();
    if (value === '' || !TOKEN_OK.test(value))
      return {
        ok: false,
        reason: 'CredentialInvalid',
        message: `${where} key "${key}" is blank or holds characters not allowed in an HTTP header`,
      };
    return { ok: true, value, reason: 'CredentialResolved' };
  }

  /** Replaces every known credential value in `text` (provider error messages may echo a key). */
  redact(text: string): string {
    let out = text;
    for (const v of this.values) if (v.length >= 4 && out.includes(v)) out = out.split(v).join('[redacted]');
    return out;
  }

  private reindex(): void {
    this.values = new Set();
    for (const s of this.secrets.values())
      for (const v of s.data.values()) {
        const t = v.trim();
        if (t) this.values.add(t);
      }
    this.emit('change');
  }
}
