// Renewal of the self-managed webhook certificates before they expire, by every controller-manager replica:
// read the Secret, decide (a pure plan over the stored certificates and the time), write the Secret if the plan
// says so (optimistic concurrency: one replica wins, the others re-read), patch the CA bundle into the webhook
// configurations, then hand the serving certificate to the HTTPS server without a restart.
//
// A new CA is introduced without a window of failed admission calls: the bundle keeps the previous CA beside the new
// one until it expires, so a replica still serving the old certificate stays trusted until it picks up the new one
// at its next check; and each replica patches the bundle before it switches its own certificate.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import {
  type Clock,
  isAlreadyExists,
  isConflict,
  type KubeClient,
  type KubeLogger,
  SECRETS,
} from '../../kube/index.js';
import {
  CA_VALIDITY_MS,
  fromSecret,
  generateWebhookCerts,
  issueServingCert,
  patchCaBundles,
  readSecret,
  SERVING_VALIDITY_MS,
  secretObject,
  WEBHOOK_CONFIGURATION_NAMES,
  type WebhookCerts,
  webhookDnsNames,
} from './certs.js';

const DAY_MS = 86_400_000;

export interface RotationPolicy {
  caValidityMs: number;
  servingValidityMs: number;
  /** renew a certificate once less than this remains of its validity */
  renewBeforeMs: number;
  /** how often each replica re-reads the Secret and re-checks */
  checkEveryMs: number;
  /** after a failed check (API server away), try again this soon */
  retryAfterMs: number;
}

export const DEFAULT_ROTATION: RotationPolicy = {
  caValidityMs: CA_VALIDITY_MS,
  servingValidityMs: SERVING_VALIDITY_MS,
  renewBeforeMs: 30 * DAY_MS,
  checkEveryMs: 3_600_000,
  retryAfterMs: 30_000,
};

export type RotationPlan =
  | { action: 'keep' }
  /** drop CAs that have expired from the bundle; the certificates stay */
  | { action: 'prune'; reason: string }
  /** a new serving certificate under the same CA */
  | { action: 'renew-serving'; reason: string }
  /** a new CA and serving certificate; the previous CA stays in the bundle while valid */
  | { action: 'renew-ca'; reason: string };

/** The certificates of a PEM bundle, in order. */
export function splitPem(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----(?:\r?\n)?/g) ?? [];
}

const expiresAt = (c: X509Certificate) => Date.parse(c.validTo);

function parse(pem: string): X509Certificate | undefined {
  try {
    return new X509Certificate(pem);
  } catch {
    return undefined;
  }
}

/** What to do with the stored certificates at `nowMs` (pure: no I/O, no clock of its own). */
export function planRotation(
  stored: WebhookCerts | undefined,
  dnsNames: readonly string[],
  nowMs: number,
  policy: Pick<RotationPolicy, 'renewBeforeMs'>,
): RotationPlan {
  if (!stored) return { action: 'renew-ca', reason: 'no certificates yet' };
  const cas = splitPem(stored.ca).map(parse);
  const ca = cas[0];
  const leaf = parse(stored.cert);
  if (!ca || !leaf || cas.some((c) => !c)) return { action: 'renew-ca', reason: 'stored certificates do not parse' };
  if (expiresAt(ca) - nowMs < policy.renewBeforeMs) return { action: 'renew-ca', reason: `CA expires ${ca.validTo}` };
  const serving = servingProblem(stored, leaf, ca, dnsNames, nowMs, policy.renewBeforeMs);
  if (serving) {
    // Secrets written before rotation existed have no CA key: the serving certificate can only come with a new CA.
    return stored.caKey ? { action: 'renew-serving', reason: serving } : { action: 'renew-ca', reason: serving };
  }
  if (cas.some((c) => expiresAt(c!) <= nowMs)) return { action: 'prune', reason: 'an expired CA is in the bundle' };
  return { action: 'keep' };
}

function servingProblem(
  stored: WebhookCerts,
  leaf: X509Certificate,
  ca: X509Certificate,
  dnsNames: readonly string[],
  nowMs: number,
  renewBeforeMs: number,
): string | undefined {
  if (expiresAt(leaf) - nowMs < renewBeforeMs) return `serving certificate expires ${leaf.validTo}`;
  if (!leaf.checkIssued(ca) || !leaf.verify(ca.publicKey)) return 'serving certificate not issued by the CA';
  const sans = (leaf.subjectAltName ?? '').split(', ').map((s) => s.replace(/^DNS:/, ''));
  if (dnsNames.some((n) => !sans.includes(n))) return `serving certificate is not for ${dnsNames.join(', ')}`;
  try {
    if (!leaf.checkPrivateKey(createPrivateKey(stored.key))) return 'serving key does not match its certificate';
  } catch {
    return 'serving key does not parse';
  }
  return undefined;
}

/** Applies a plan to the stored certificates: the new material to store (pure apart from key generation). */
export function applyPlan(
  plan: Exclude<RotationPlan, { action: 'keep' }>,
  stored: WebhookCerts | undefined,
  service: string,
  namespace: string,
  nowMs: number,
  policy: Pick<RotationPolicy, 'caValidityMs' | 'servingValidityMs'>,
): WebhookCerts {
  const stillValid = (bundle: string) =>
    splitPem(bundle).filter((pem) => {
      const c = parse(pem);
      return c !== undefined && expiresAt(c) > nowMs;
    });
  if (plan.action === 'prune' && stored) return { ...stored, ca: stillValid(stored.ca).join('') };
  if (plan.action === 'renew-serving' && stored?.caKey) {
    const ca = splitPem(stored.ca)[0]!;
    return { ...stored, ...issueServingCert(ca, stored.caKey, service, namespace, nowMs, policy.servingValidityMs) };
  }
  const fresh = generateWebhookCerts(service, namespace, nowMs, policy);
  const previous = stored ? stillValid(stored.ca) : [];
  return { ...fresh, ca: [fresh.ca, ...previous].join('') };
}

export interface CertTarget {
  namespace: string;
  secretName: string;
  service: string;
}

/**
 * One pass over the Secret: returns the certificates to serve now, after renewing them if due. A replica that loses
 * the write race (409 Conflict or AlreadyExists) uses the winner's certificates.
 */
export async function reconcileCertSecret(
  client: KubeClient,
  t: CertTarget,
  nowMs: number,
  policy: RotationPolicy = DEFAULT_ROTATION,
  log?: KubeLogger,
): Promise<WebhookCerts> {
  const secret = await readSecret(client, t.namespace, t.secretName);
  let stored: WebhookCerts | undefined;
  try {
    stored = secret ? fromSecret(secret, t.secretName) : undefined;
  } catch {
    stored = undefined; // a Secret without the keys is rewritten whole
  }
  const plan = planRotation(stored, webhookDnsNames(t.service, t.namespace), nowMs, policy);
  if (plan.action === 'keep') return stored!;
  const next = applyPlan(plan, stored, t.service, t.namespace, nowMs, policy);
  const obj = secretObject(t.namespace, t.secretName, next, secret?.metadata?.resourceVersion);
  try {
    if (secret) await client.replace(SECRETS, obj);
    else await client.create(SECRETS, obj);
  } catch (e) {
    if (!isConflict(e) && !isAlreadyExists(e)) throw e;
    const theirs = await readSecret(client, t.namespace, t.secretName);
    if (!theirs) throw e;
    log?.info({ secret: `${t.namespace}/${t.secretName}` }, 'webhook certificates renewed by another replica');
    return fromSecret(theirs, t.secretName);
  }
  log?.info(
    { secret: `${t.namespace}/${t.secretName}`, action: plan.action, reason: plan.reason },
    'webhook certificates renewed',
  );
  return next;
}

export interface CertRotation {
  /** the certificates being served */
  current(): WebhookCerts;
  /** runs one check now (tests; also what the timer runs) */
  check(): Promise<WebhookCerts>;
  stop(): void;
}

/**
 * Keeps the Secret, the webhook configurations' caBundle and the serving certificate current. The first check runs
 * before this resolves (its errors reject: without certificates the webhook cannot serve); later ones every
 * `checkEveryMs` on `clock`, retried sooner after a failure.
 */
export async function startCertRotation(o: {
  client: KubeClient;
  target: CertTarget;
  clock: Clock;
  log: KubeLogger;
  /** called with new serving material after the CA bundle is in place */
  onRenewed: (c: WebhookCerts) => void;
  policy?: Partial<RotationPolicy>;
  configurationNames?: { validating: string; mutating: string };
}): Promise<CertRotation> {
  const policy = { ...DEFAULT_ROTATION, ...o.policy };
  let current: WebhookCerts | undefined;
  let timer: ReturnType<Clock['setTimeout']> | undefined;
  let stopped = false;
  const check = async (): Promise<WebhookCerts> => {
    const certs = await reconcileCertSecret(o.client, o.target, o.clock.now(), policy, o.log);
    const patched = await patchCaBundles(o.client, certs.ca, o.configurationNames ?? WEBHOOK_CONFIGURATION_NAMES);
    if (patched > 0) o.log.info({ patched }, 'webhook configurations caBundle updated');
    if (current && (certs.cert !== current.cert || certs.key !== current.key)) {
      o.onRenewed(certs);
      o.log.info({ expires: new X509Certificate(certs.cert).validTo }, 'serving the renewed webhook certificate');
    }
    current = certs;
    return certs;
  };
  const schedule = (ms: number) => {
    if (stopped) return;
    timer = o.clock.setTimeout(
      () => {
        check().then(
          () => schedule(policy.checkEveryMs),
          (e: unknown) => {
            o.log.warn({ err: (e as Error).message }, 'webhook certificate check failed; retrying');
            schedule(policy.retryAfterMs);
          },
        );
      },
      ms,
      'cert-rotation',
    );
  };
  await check();
  schedule(policy.checkEveryMs);
  return {
    current: () => current!,
    check,
    stop() {
      stopped = true;
      o.clock.clearTimeout(timer);
    },
  };
}
