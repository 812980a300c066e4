import assert from 'node:assert/strict';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { startApiServer } from '../../cluster/apiserver/index.js';
import { KubeClient, NAMESPACES, SECRETS } from '../../kube/index.js';
import {
  generateWebhookCerts,
  patchCaBundles,
  VALIDATING_WEBHOOK_CONFIGURATIONS,
  WEBHOOK_CONFIGURATION_NAMES,
} from './certs.js';
import { reconcileCertSecret } from './rotation.js';

const certs = generateWebhookCerts('hook', 'kthena-system', Date.parse('2026-12-07T00:00:00Z'));

test('the serving certificate is issued by the CA for the Service DNS names: CA valid 10 years, certificate 1', () => {
  const ca = new X509Certificate(certs.ca);
  const leaf = new X509Certificate(certs.cert);
  assert.ok(ca.ca);
  assert.ok(!leaf.ca);
  assert.ok(leaf.checkIssued(ca));
  assert.ok(leaf.verify(ca.publicKey));
  assert.equal(leaf.subjectAltName, 'DNS:hook.kthena-system.svc, DNS:hook.kthena-system.svc.cluster.local');
  assert.ok(leaf.checkPrivateKey(createPrivateKey(certs.key)));
  assert.equal(new Date(ca.validTo).getUTCFullYear(), 2036);
  assert.equal(new Date(leaf.validTo).getUTCFullYear(), 2027);
});

test('a TLS client that trusts only the CA reaches the webhook by its Service name', async () => {
  const server = createServer({ cert: certs.cert, key: certs.key }, (_req, res) => res.end('ok'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const port = (server.address() as AddressInfo).port;
    const body = await new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, servername: 'hook.kthena-system.svc', ca: certs.ca, path: '/healthz' },
        (res) => {
          let s = '';
          res.on('data', (d) => (s += d)).on('end', () => resolve(s));
        },
      );
      req.on('error', reject).end();
    });
    assert.equal(body, 'ok');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, servername: 'other.svc', ca: certs.ca }, resolve);
        req.on('error', reject).end();
      }),
      /altnames|Hostname/i,
    );
  } finally {
    server.close();
  }
});

test('the Secret is created once and reused; caBundle is patched into every webhook', async () => {
  const api = await startApiServer({ port: 0, installVolcanoCrds: false });
  const client = new KubeClient({ server: api.url });
  try {
    await client.create(NAMESPACES, {
      apiVersion: 'v1',
      kind: 'Namespace',
      metadata: { name: 'kthena-system' },
    });
    const o = { namespace: 'kthena-system', secretName: 's', service: 'hook' };
    const first = await reconcileCertSecret(client, o, Date.now());
    const second = await reconcileCertSecret(client, o, Date.now());
    assert.deepEqual(second, first, 'a second replica uses the stored certificates');
    const secret = await client.get<{ type: string; data: Record<string, string> }>(SECRETS, 's', 'kthena-system');
    assert.equal(secret.type, 'kubernetes.io/tls');
    assert.deepEqual(Object.keys(secret.data).sort(), ['ca.crt', 'ca.key', 'tls.crt', 'tls.key']);
    const hook = (name: string) => ({
      name,
      admissionReviewVersions: ['v1'],
      sideEffects: 'None',
      clientConfig: { service: { name: 'hook', namespace: 'kthena-system', path: '/x' } },
    });
    await client.create(VALIDATING_WEBHOOK_CONFIGURATIONS, {
      apiVersion: 'admissionregistration.k8s.io/v1',
      kind: 'ValidatingWebhookConfiguration',
      metadata: { name: WEBHOOK_CONFIGURATION_NAMES.validating },
      webhooks: [hook('a.example.com'), hook('b.example.com')],
    });
    // The mutating configuration is absent: skipped, not an error.
    assert.equal(await patchCaBundles(client, first.ca), 1);
    const cfg = await client.get<{ webhooks: { clientConfig: { caBundle: string } }[] }>(
      VALIDATING_WEBHOOK_CONFIGURATIONS,
      WEBHOOK_CONFIGURATION_NAMES.validating,
    );
    for (const w of cfg.webhooks) assert.equal(Buffer.from(w.clientConfig.caBundle, 'base64').toString(), first.ca);
    assert.equal(await patchCaBundles(client, first.ca), 0, 'nothing to do the second time');
  } finally {
    await client.close();
    await api.close();
  }
});
