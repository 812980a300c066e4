// ExternalModelProvider status in Kubernetes mode against a scripted API server: the Lease holder writes
// CredentialsResolved / Ready, a bad Secret reference is False with its reason, and fixing it flips both to True.
// Also the pure desiredProviderStatus cases and that status never quotes a credential.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { KubeClient } from '../../kube/client.js';
import { EXTERNAL_MODEL_PROVIDERS, SECRETS } from '../../kube/resource.js';
import { FakeApiServer } from '../../kube/testing/fake-apiserver.js';
import { startRouter } from '../router.js';
import type { ExternalModelProvider } from '../store/resources.js';
import { CredentialStore } from './credentials.js';
import { desiredProviderStatus } from './status.js';

const LABEL = 'networking.serving.volcano.sh/external-model-provider-credential';
const TOKEN = 'sk-status-test-0123456789';

const prov = (spec: Record<string, unknown>, annotations?: Record<string, string>): ExternalModelProvider => ({
  kind: 'ExternalModelProvider',
  metadata: { name: 'p', namespace: 'ns', generation: 3, annotations },
  spec: { baseURL: 'https://api.example.com', ...spec },
});
const kinds = (s: { conditions: { type: string; status: string; reason: string }[] }) =>
  s.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`);

test('desiredProviderStatus: upstream reasons for each credential problem; config errors make Ready False', () => {
  const creds = new CredentialStore();
  creds.replaceAll([
    { namespace: 'ns', name: 'good', labels: { [LABEL]: 'true' }, data: new Map([['k', ` ${TOKEN} `]]) },
    { namespace: 'ns', name: 'plain', labels: {}, data: new Map([['k', TOKEN]]) },
    { namespace: 'ns', name: 'blank', labels: { [LABEL]: 'true' }, data: new Map([['k', '   ']]) },
    { namespace: 'ns', name: 'ctl', labels: { [LABEL]: 'true' }, data: new Map([['k', 'a\nb']]) },
  ]);
  const auth = (name: string, key = 'k') => ({ auth: { secretRef: { name, key } } });
  assert.deepEqual(kinds(desiredProviderStatus(prov({}), undefined, creds)), [
    'CredentialsResolved=True/CredentialNotRequired',
    'Ready=True/Ready',
  ]);
  assert.deepEqual(kinds(desiredProviderStatus(prov(auth('good')), undefined, creds)), [
    'CredentialsResolved=True/CredentialResolved',
    'Ready=True/Ready',
  ]);
  assert.deepEqual(kinds(desiredProviderStatus(prov(auth('missing')), undefined, creds)), [
    'CredentialsResolved=False/CredentialNotFound',
    'Ready=False/CredentialNotFound',
  ]);
  assert.deepEqual(
    kinds(desiredProviderStatus(prov(auth('plain')), undefined, creds)).at(0),
    'CredentialsResolved=False/CredentialNotFound',
  );
  assert.deepEqual(
    kinds(desiredProviderStatus(prov(auth('good', 'other')), undefined, creds)).at(0),
    'CredentialsResolved=False/CredentialKeyNotFound',
  );
  assert.deepEqual(
    kinds(desiredProviderStatus(prov(auth('blank')), undefined, creds)).at(0),
    'CredentialsResolved=False/CredentialInvalid',
  );
  assert.deepEqual(
    kinds(desiredProviderStatus(prov(auth('ctl')), undefined, creds)).at(0),
    'CredentialsResolved=False/CredentialInvalid',
  );
  const bad = desiredProviderStatus(prov({}, { 'provider.kthena.io/timeout': 'soon' }), undefined, creds);
  assert.deepEqual(kinds(bad).at(1), 'Ready=False/ConfigurationInvalid');
  assert.match(bad.conditions[1].message, /provider.kthena.io\/timeout/);
  assert.equal(bad.observedGeneration, 3);
  assert.ok(!JSON.stringify(desiredProviderStatus(prov(auth('good')), undefined, creds)).includes(TOKEN));
});

let server: FakeApiServer;
let client: KubeClient;
before(async () => {
  server = await FakeApiServer.start();
  client = new KubeClient({ server: server.url });
});
after(async () => {
  await client.destroy();
  await server.close();
});

async function until(cond: () => boolean | Promise<boolean>, what: string): Promise<void> {
  const start = Date.now();
  while (!(await cond())) {
    if (Date.now() - start > 60_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('Kubernetes mode: the Lease holder writes provider conditions; a bad Secret reference is False with its reason', async () => {
  const ns = 'prov-status';
  const provider = {
    apiVersion: 'networking.serving.volcano.sh/v1alpha1',
    kind: 'ExternalModelProvider',
    metadata: { name: 'cloud', namespace: ns, generation: 1 },
    spec: {
      providerType: 'OpenAI',
      baseURL: 'https://api.example.com',
      auth: { secretRef: { name: 'key', key: 'token' } },
    },
  };
  server.put(EXTERNAL_MODEL_PROVIDERS, provider);
  const router = await startRouter({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    debugPort: -1,
    scrapeIntervalMs: 60_000,
    drainTimeoutMs: 1000,
    accessLog: { enabled: false, format: 'json', output: 'stdout' },
    logger: pino({ level: 'silent' }),
    kube: {
      client,
      namespace: ns,
      leaseNamespace: ns,
      identity: 'router-a',
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 200,
      statusDelayMs: 5,
    },
  });
  const status = async () => {
    const o = await client.request<any>({
      method: 'GET',
      path: `/apis/networking.serving.volcano.sh/v1alpha1/namespaces/${ns}/externalmodelproviders/cloud`,
    });
    return (o.status?.conditions ?? []) as { type: string; status: string; reason: string; message: string }[];
  };
  try {
    await until(async () => (await status()).length === 2, 'provider conditions to be written');
    let c = await status();
    assert.deepEqual(
      c.map((x) => `${x.type}=${x.status}/${x.reason}`),
      ['CredentialsResolved=False/CredentialNotFound', 'Ready=False/CredentialNotFound'],
    );
    assert.match(c[0].message, /Secret prov-status\/key not found/);
    // Only labelled Secrets are watched (upstream's rule); this one resolves the reference.
    server.put(SECRETS, {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'key', namespace: ns, labels: { [LABEL]: 'true' } },
      data: { token: Buffer.from(TOKEN).toString('base64') },
    });
    await until(async () => (await status()).every((x) => x.status === 'True'), 'conditions to turn True');
    c = await status();
    assert.deepEqual(
      c.map((x) => `${x.type}=${x.status}/${x.reason}`),
      ['CredentialsResolved=True/CredentialResolved', 'Ready=True/Ready'],
    );
    assert.ok(!JSON.stringify(c).includes(TOKEN), 'status never quotes the credential');
    // The router serves the provider with the resolved credential.
    assert.equal(router.providers.credentials.resolve(ns, 'key', 'token').ok, true);
  } finally {
    await router.close();
  }
});
