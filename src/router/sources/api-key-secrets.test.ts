// API keys from labelled Kubernetes Secrets, against the scripted fake API server: load, rotation on update, a bad
// update that keeps the previous keys, deletion; and the router end to end with the Kubernetes source.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { request } from 'undici';
import { KubeClient } from '../../kube/client.js';
import { MODEL_ROUTES, MODEL_SERVERS, PODS, SECRETS } from '../../kube/resource.js';
import { FakeApiServer } from '../../kube/testing/fake-apiserver.js';
import { hashApiKey } from '../policy/api-keys.js';
import { AuthStage } from '../policy/auth.js';
import { GovernanceMetrics } from '../policy/metrics.js';
import { startRouter } from '../router.js';
import { RouterMetrics } from '../telemetry/metrics.js';
import { startFakeEngine } from '../testing/fake-engine.js';
import { ctxFor } from '../testing/fixtures.js';
import { ApiKeySecretSource, startApiKeySecrets } from './api-key-secrets.js';

let server: FakeApiServer;
let client: KubeClient;
const log = pino({ level: 'silent' });

before(async () => {
  server = await FakeApiServer.start();
  client = new KubeClient({ server: server.url });
});
after(async () => {
  await client.destroy();
  await server.close();
});

const LABEL = { 'kthena.io/api-keys': 'true' };

function keysSecret(
  ns: string,
  name: string,
  entries: { key: string; user: string; tier?: number }[],
  labels: Record<string, string> = LABEL,
  asData = true,
) {
  const doc = `keys:\n${entries.map((e) => `- {sha256: ${hashApiKey(e.key)}, user: ${e.user}, tier: ${e.tier ?? 0}}`).join('\n')}\n`;
  return {
    metadata: { name, namespace: ns, labels },
    type: 'Opaque',
    ...(asData ? { data: { 'keys.yaml': Buffer.from(doc).toString('base64') } } : { stringData: { 'keys.yaml': doc } }),
  };
}

async function until(cond: () => boolean, what: string): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > 60_000) throw new Error(`gave up waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function auth() {
  return new AuthStage(
    { apiKeysSecretSelector: 'kthena.io/api-keys=true' },
    { metrics: new GovernanceMetrics(new RouterMetrics().registry), log },
  );
}

async function who(stage: AuthStage, key: string): Promise<string> {
  const ctx = ctxFor('m', '', { headers: { authorization: `Bearer ${key}` } });
  try {
    await stage.admit(ctx);
    return ctx.user ?? '?';
  } catch (e) {
    return `${(e as { status?: number }).status}`;
  }
}

test('labelled Secrets feed the API-key store; rotation, a bad update and deletion behave', async () => {
  const ns = 'keys-a';
  server.put(SECRETS, keysSecret(ns, 'team-a', [{ key: 'sk-alice-1', user: 'alice', tier: 2 }]));
  server.put(SECRETS, keysSecret(ns, 'team-b', [{ key: 'sk-bob', user: 'bob' }], LABEL, false));
  server.put(SECRETS, keysSecret(ns, 'unlabelled', [{ key: 'sk-mallory', user: 'mallory' }], { other: 'x' }));
  const stage = auth();
  let publishes = 0;
  const src = new ApiKeySecretSource({
    client,
    labelSelector: 'kthena.io/api-keys=true',
    namespace: ns,
    log,
    onKeys: (k) => {
      publishes++;
      stage.setSecretKeys(k);
    },
  });
  src.start();
  try {
    await until(() => src.hasSynced() && stage.apiKeyCount === 2, 'both labelled Secrets');
    assert.equal(await who(stage, 'sk-alice-1'), 'alice');
    assert.equal(await who(stage, 'sk-bob'), 'bob');
    assert.equal(await who(stage, 'sk-mallory'), '401', 'a Secret without the label is not read');

    // Rotation: alice's Secret now holds a new key; the old one stops working at once.
    const n = publishes;
    server.put(SECRETS, keysSecret(ns, 'team-a', [{ key: 'sk-alice-2', user: 'alice', tier: 2 }]));
    await until(() => publishes > n, 'rotation');
    assert.equal(await who(stage, 'sk-alice-2'), 'alice');
    assert.equal(await who(stage, 'sk-alice-1'), '401');

    // A broken update keeps the Secret's last good keys and names the problem without the hash.
    server.put(SECRETS, {
      ...keysSecret(ns, 'team-a', []),
      data: { 'keys.yaml': Buffer.from('keys: [{sha256: nothex, user: a}]').toString('base64') },
    });
    await until(() => src.rejected.has(`${ns}/team-a`), 'the rejection');
    assert.match(src.rejected.get(`${ns}/team-a`)!, /Secret keys-a\/team-a.*keys\[0\]\.sha256/);
    assert.equal(await who(stage, 'sk-alice-2'), 'alice');

    // Removing the label (or the Secret) removes its keys.
    server.remove(SECRETS, ns, 'team-b');
    await until(() => stage.apiKeyCount === 1, 'deletion');
    assert.equal(await who(stage, 'sk-bob'), '401');
  } finally {
    await src.stop();
  }
});

test('a secretSelector without a Kubernetes source is a start-up error, not a silent 401 for everyone', () => {
  assert.throws(() => startApiKeySecrets([auth()], undefined, log), /needs the Kubernetes source/);
  assert.equal(startApiKeySecrets([], undefined, log), undefined);
});

test('router end to end: keys from a Secret admit, rotate, and unknown keys get 401 with an OpenAI-style body', async () => {
  const ns = 'keys-e2e';
  const eng = await startFakeEngine('e', { models: ['m'] });
  const API = 'networking.serving.volcano.sh/v1alpha1';
  const meta = (name: string) => ({ name, namespace: ns, generation: 1, creationTimestamp: '2026-01-01T00:00:00Z' });
  server.put(MODEL_SERVERS, {
    apiVersion: API,
    kind: 'ModelServer',
    metadata: meta('ms'),
    spec: {
      model: 'm',
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { app: 'm' } },
      workloadPort: { port: eng.port },
    },
  });
  server.put(MODEL_ROUTES, {
    apiVersion: API,
    kind: 'ModelRoute',
    metadata: meta('r'),
    spec: { modelName: 'm', rules: [{ targetModels: [{ modelServerName: 'ms' }] }] },
  });
  server.put(PODS, {
    metadata: { name: 'p', namespace: ns, labels: { app: 'm' } },
    status: { phase: 'Running', podIP: '127.0.0.1', conditions: [{ type: 'Ready', status: 'True' }] },
  });
  server.put(SECRETS, keysSecret(ns, 'keys', [{ key: 'sk-carol-1', user: 'carol' }]));
  const router = await startRouter({
    host: '127.0.0.1',
    port: 0,
    metricsPort: 0,
    debugPort: -1,
    logger: log,
    accessLog: { enabled: false, format: 'json', output: 'stdout' },
    kube: { client, namespace: ns, writeStatus: false },
    routerConfigText: 'auth:\n  apiKeys: {secretSelector: "kthena.io/api-keys=true"}\n',
    env: {},
  });
  const call = async (key: string) => {
    const r = await request(`${router.url}/v1/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${key}` },
      body: JSON.stringify({ model: 'm', prompt: 'hi', max_tokens: 2 }),
    });
    return { status: r.statusCode, body: (await r.body.json()) as any };
  };
  try {
    await until(
      () => router.isReady() && router.store.view.endpointsByServer.get(`${ns}/ms`)?.length === 1,
      'router ready',
    );
    assert.equal((await call('sk-carol-1')).status, 200);
    const bad = await call('sk-unknown');
    assert.equal(bad.status, 401);
    assert.deepEqual(bad.body, {
      error: { message: 'invalid API key', type: 'authentication_error', param: null, code: 'unauthorized' },
    });
    assert.ok(!JSON.stringify(bad.body).includes(hashApiKey('sk-unknown')));
    server.put(SECRETS, keysSecret(ns, 'keys', [{ key: 'sk-carol-2', user: 'carol' }]));
    const start = Date.now();
    while ((await call('sk-carol-2')).status !== 200 && Date.now() - start < 60_000)
      await new Promise((r) => setTimeout(r, 10));
    assert.equal((await call('sk-carol-2')).status, 200);
    assert.equal((await call('sk-carol-1')).status, 401, 'the rotated-out key is refused');
  } finally {
    await router.close();
    await eng.close();
  }
});
