// Self-managed webhook certificates (upstream's certManagementMode=auto): a self-signed CA and a serving certificate
// for <service>.<namespace>.svc kept in a kubernetes.io/tls Secret (tls.crt, tls.key, ca.crt, and ca.key so the
// serving certificate can be renewed under the same CA), and the CA bundle patched into every webhook of the two
// webhook configurations. Every replica reads the same Secret; the first to find it missing creates it, and a
// replica that loses that race re-reads it. Renewal before expiry lives in rotation.ts. Keys come from node:crypto,
// certificates are written with node-forge (pure JavaScript, no native build; decision 0012).
import forge from 'node-forge';
import { KubeApiError, type KubeClient, type KubeObject, type ResourceRef, SECRETS } from '../../kube/index.js';
import { certificate, rsaKeys } from '../../kube/tls.js';

export const VALIDATING_WEBHOOK_CONFIGURATIONS: ResourceRef = Object.freeze({
  group: 'admissionregistration.k8s.io',
  version: 'v1',
  plural: 'validatingwebhookconfigurations',
  kind: 'ValidatingWebhookConfiguration',
  namespaced: false,
});
export const MUTATING_WEBHOOK_CONFIGURATIONS: ResourceRef = Object.freeze({
  ...VALIDATING_WEBHOOK_CONFIGURATIONS,
  plural: 'mutatingwebhookconfigurations',
  kind: 'MutatingWebhookConfiguration',
});

/** Upstream's names (reference §7, §8). */
export const DEFAULT_CERT_SECRET = 'kthena-controller-manager-webhook-certs';
export const DEFAULT_WEBHOOK_SERVICE = 'kthena-controller-manager-webhook';
export const WEBHOOK_CONFIGURATION_NAMES = {
  validating: 'kthena-controller-manager-validating-webhook',
  mutating: 'kthena-controller-manager-mutating-webhook',
};

export interface WebhookCerts {
  /** serving certificate (PEM) */
  cert: string;
  /** its private key (PEM) */
  key: string;
  /** CA bundle (PEM): the issuing CA first, then a previous CA while it is still valid (rotation.ts) */
  ca: string;
  /** the issuing CA's private key (PEM); absent in Secrets written before rotation existed */
  caKey?: string;
}

const DAY_MS = 86_400_000;
/** Lifetimes when none are given: upstream's 10-year CA, a one-year serving certificate renewed under it. */
export const CA_VALIDITY_MS = 10 * 365 * DAY_MS;
export const SERVING_VALIDITY_MS = 365 * DAY_MS;

/** The DNS names the API server uses to reach the webhook Service. */
export function webhookDnsNames(service: string, namespace: string): string[] {
  return [`${service}.${namespace}.svc`, `${service}.${namespace}.svc.cluster.local`];
}

export interface Validity {
  caValidityMs?: number;
  servingValidityMs?: number;
}

/**
 * A serving certificate for the webhook Service's DNS names, signed by the given CA. It never outlives its CA, so
 * the renewal check of the CA also covers it.
 */
export function issueServingCert(
  caPem: string,
  caKeyPem: string,
  service: string,
  namespace: string,
  nowMs: number,
  validityMs = SERVING_VALIDITY_MS,
): { cert: string; key: string } {
  const ca = forge.pki.certificateFromPem(caPem);
  const caKey = forge.pki.privateKeyFromPem(caKeyPem);
  const keys = rsaKeys();
  const names = webhookDnsNames(service, namespace);
  const cert = certificate(names[0]!, keys, nowMs, Math.min(nowMs + validityMs, ca.validity.notAfter.getTime()));
  cert.setIssuer(ca.subject.attributes);
  cert.setExtensions([
    { name: 'basicConstraints', cA: false },
    { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, critical: true },
    { name: 'extKeyUsage', serverAuth: true },
    { name: 'subjectAltName', altNames: names.map((value) => ({ type: 2, value })) },
  ]);
  cert.sign(caKey, forge.md.sha256.create());
  return { cert: forge.pki.certificateToPem(cert), key: forge.pki.privateKeyToPem(keys.privateKey) };
}

/** A new CA and a serving certificate signed by it for the webhook Service's DNS names. */
export function generateWebhookCerts(
  service: string,
  namespace: string,
  nowMs = Date.now(),
  validity: Validity = {},
): WebhookCerts {
  const caKeys = rsaKeys();
  const ca = certificate('kthena-webhook-ca', caKeys, nowMs, nowMs + (validity.caValidityMs ?? CA_VALIDITY_MS));
  ca.setIssuer(ca.subject.attributes);
  ca.setExtensions([
    { name: 'basicConstraints', cA: true, critical: true },
    { name: 'keyUsage', keyCertSign: true, cRLSign: true, digitalSignature: true, critical: true },
  ]);
  ca.sign(caKeys.privateKey, forge.md.sha256.create());
  const caPem = forge.pki.certificateToPem(ca);
  const caKey = forge.pki.privateKeyToPem(caKeys.privateKey);
  const serving = issueServingCert(caPem, caKey, service, namespace, nowMs, validity.servingValidityMs);
  return { ...serving, ca: caPem, caKey };
}

export interface SecretObj {
  metadata?: { resourceVersion?: string };
  data?: Record<string, string>;
}

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined) => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

export function fromSecret(s: SecretObj, name: string): WebhookCerts {
  const out: WebhookCerts = {
    cert: unb64(s.data?.['tls.crt']),
    key: unb64(s.data?.['tls.key']),
    ca: unb64(s.data?.['ca.crt']),
  };
  if (!out.cert || !out.key || !out.ca) throw new Error(`Secret ${name} lacks tls.crt, tls.key or ca.crt`);
  const caKey = unb64(s.data?.['ca.key']);
  if (caKey) out.caKey = caKey;
  return out;
}

export function secretData(c: WebhookCerts): Record<string, string> {
  return {
    'tls.crt': b64(c.cert),
    'tls.key': b64(c.key),
    'ca.crt': b64(c.ca),
    ...(c.caKey ? { 'ca.key': b64(c.caKey) } : {}),
  };
}

export function secretObject(namespace: string, name: string, c: WebhookCerts, resourceVersion?: string): KubeObject {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: {
      name,
      namespace,
      labels: { 'app.kubernetes.io/name': 'kthena' },
      ...(resourceVersion ? { resourceVersion } : {}),
    },
    type: 'kubernetes.io/tls',
    data: secretData(c),
  } as KubeObject;
}

export async function readSecret(client: KubeClient, namespace: string, name: string): Promise<SecretObj | undefined> {
  try {
    return await client.get<SecretObj>(SECRETS, name, namespace);
  } catch (e) {
    if (e instanceof KubeApiError && e.status === 404) return undefined;
    throw e;
  }
}

/**
 * Writes `ca` as caBundle into every webhook of both configurations where it differs. Returns how many
 * configurations were patched; a configuration that does not exist is skipped (webhooks not installed).
 */
export async function patchCaBundles(
  client: KubeClient,
  ca: string,
  names: { validating: string; mutating: string } = WEBHOOK_CONFIGURATION_NAMES,
): Promise<number> {
  const bundle = b64(ca);
  let patched = 0;
  for (const [ref, name] of [
    [VALIDATING_WEBHOOK_CONFIGURATIONS, names.validating],
    [MUTATING_WEBHOOK_CONFIGURATIONS, names.mutating],
  ] as const) {
    let cfg: { webhooks?: { clientConfig?: { caBundle?: string } }[] };
    try {
      cfg = await client.get(ref, name);
    } catch (e) {
      if (e instanceof KubeApiError && e.status === 404) continue;
      throw e;
    }
    const hooks = cfg.webhooks ?? [];
    if (hooks.every((h) => h.clientConfig?.caBundle === bundle)) continue;
    const ops = hooks.map((h, i) =>
      h.clientConfig
        ? { op: 'add', path: `/webhooks/${i}/clientConfig/caBundle`, value: bundle }
        : { op: 'add', path: `/webhooks/${i}/clientConfig`, value: { caBundle: bundle } },
    );
    await client.patch(ref, name, undefined, ops, 'json');
    patched++;
  }
  return patched;
}
