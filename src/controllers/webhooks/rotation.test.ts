import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { request } from 'node:https';
import { test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { startApiServer } from '../../cluster/apiserver/index.js';
import { KubeClient, ManualClock, NAMESPACES, SECRETS, silentLogger } from '../../kube/index.js';
import {
  generateWebhookCerts,
  MUTATING_WEBHOOK_CONFIGURATIONS,
  VALIDATING_WEBHOOK_CONFIGURATIONS,
  WEBHOOK_CONFIGURATION_NAMES,
  type WebhookCerts,
  webhookDnsNames,
} from './certs.js';
import { applyPlan, planRotation, type RotationPolicy, splitPem, startCertRotation } from './rotation.js';
import { startWebhookServer } from './server.js';

const DAY = 86_400_000;
const T0 = Date.parse('2026-12-07T00:00:00Z');
const NAMES = webhookDnsNames('hook', 'kthena-system');
const policy: RotationPolicy = {
  caValidityMs: 100 * DAY,
  servingValidityMs: 10 * DAY,
  renewBeforeMs: 3 * DAY,
  checkEveryMs: DAY,
  retryAfterMs: 60_000,
};
const fresh = generateWebhookCerts('hook', 'kthena-system', T0, policy);
const expiry = (pem: string) => Date.parse(new X509Certificate(pem).validTo);

test('plan: fresh certificates are kept until the renewal window of the serving certificate', () => {
  assert.deepEqual(planRotation(fresh, NAMES, T0, policy), { action: 'keep' });
  assert.deepEqual(planRotation(fresh, NAMES, T0 + 6 * DAY, policy), { action: 'keep' });
  const due = planRotation(fresh, NAMES, T0 + 8 * DAY, policy);
  assert.equal(due.action, 'renew-serving');
  assert.match((due as { reason: string }).reason, /serving certificate expires/);
});

test('plan: a CA near its end, no certificates, or unreadable ones mean a new CA', () => {
  assert.equal(planRotation(fresh, NAMES, T0 + 98 * DAY, policy).action, 'renew-ca');
  assert.equal(planRotation(undefined, NAMES, T0, policy).action, 'renew-ca');
  assert.equal(planRotation({ ...fresh, cert: 'garbage' }, NAMES, T0, policy).action, 'renew-ca');
});

test('plan: a serving certificate for another Service, or from another CA, is renewed', () => {
  const other = generateWebhookCerts('other', 'kthena-system', T0, policy);
  assert.match(
    JSON.stringify(planRotation({ ...fresh, cert: other.cert, key: other.key }, NAMES, T0, policy)),
    /renew-serving.*not issued by the CA/,
  );
  const wrongName = { ...other, ca: other.ca };
  assert.match(
    JSON.stringify(planRotation(wrongName, NAMES, T0, policy)),
    /renew-serving.*not for hook\.kthena-system\.svc/,
  );
  assert.match(JSON.stringify(planRotation({ ...fresh, key: other.key }, NAMES, T0, policy)), /key does not match/);
});

test('plan: a Secret from before rotation (no CA key) renews the serving certificate with a new CA', () => {
  const { caKey: _dropped, ...old } = fresh;
  assert.equal(planRotation(old, NAMES, T0 + 8 * DAY, policy).action, 'renew-ca');
});

test('apply: renew-serving keeps the CA; renew-ca keeps the old CA in the bundle; prune drops it once expired', () => {
  const serving = applyPlan(
    { action: 'renew-serving', reason: '' },
    fresh,
    'hook',
    'kthena-system',
    T0 + 8 * DAY,
    policy,
  );
  assert.equal(serving.ca, fresh.ca);
  assert.notEqual(serving.cert, fresh.cert);
  assert.equal(expiry(serving.cert), T0 + 18 * DAY);
  assert.ok(new X509Certificate(serving.cert).checkIssued(new X509Certificate(fresh.ca)));

  const now = T0 + 98 * DAY;
  const rolled = applyPlan({ action: 'renew-ca', reason: '' }, fresh, 'hook', 'kthena-system', now, policy);
  const bundle = splitPem(rolled.ca);
  assert.equal(bundle.length, 2);
  assert.equal(bundle[1], fresh.ca, 'the previous CA stays trusted while replicas still serve its certificate');
  assert.ok(new X509Certificate(rolled.cert).checkIssued(new X509Certificate(bundle[0]!)));
  assert.deepEqual(planRotation(rolled, NAMES, now, policy), { action: 'keep' });

  const later = T0 + 101 * DAY; // the old CA has expired
  assert.equal(planRotation(rolled, NAMES, later, policy).action, 'prune');
  const pruned = applyPlan({ action: 'prune', reason: '' }, rolled, 'hook', 'kthena-system', later, policy);
  assert.deepEqual(splitPem(pruned.ca), [bundle[0]]);
  assert.equal(pruned.cert, rolled.cert);
});

test('the rotation loop renews the Secret, re-patches caBundle and hands the new certificate over, on an injected clock', async () => {
  const api = await startApiServer({ port: 0, installVolcanoCrds: false });
  const client = new KubeClient({ server: api.url });
  const clock = new ManualClock(T0);
  try {
    await client.create(NAMESPACES, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'kthena-system' } });
    const hook = { name: 'a.example.com', admissionReviewVersions: ['v1'], sideEffects: 'None', clientConfig: {} };
    for (const [ref, name] of [
      [VALIDATING_WEBHOOK_CONFIGURATIONS, WEBHOOK_CONFIGURATION_NAMES.validating],
      [MUTATING_WEBHOOK_CONFIGURATIONS, WEBHOOK_CONFIGURATION_NAMES.mutating],
    ] as const)
      await client.create(ref, {
        apiVersion: 'admissionregistration.k8s.io/v1',
        kind: ref.kind,
        metadata: { name },
        webhooks: [hook],
      });
    const bundleOf = async () =>
      Buffer.from(
        (
          await client.get<{ webhooks: { clientConfig: { caBundle: string } }[] }>(
            VALIDATING_WEBHOOK_CONFIGURATIONS,
            WEBHOOK_CONFIGURATION_NAMES.validating,
          )
        ).webhooks[0]!.clientConfig.caBundle,
        'base64',
      ).toString();
    const secretCert = async () =>
      Buffer.from(
        (await client.get<{ data: Record<string, string> }>(SECRETS, 's', 'kthena-system')).data['tls.crt']!,
        'base64',
      ).toString();

    const renewed: WebhookCerts[] = [];
    const bundleAt: Promise<string>[] = []; // the caBundle as the API server has it when each certificate is handed over
    const target = { namespace: 'kthena-system', secretName: 's', service: 'hook' };
    const onRenewed = (c: WebhookCerts) => {
      renewed.push(c);
      bundleAt.push(bundleOf());
    };
    const rotation = await startCertRotation({ client, target, clock, log: silentLogger, policy, onRenewed });
    const first = rotation.current();
    assert.equal(await secretCert(), first.cert, 'the first check creates the Secret');
    assert.equal(await bundleOf(), first.ca, 'and patches the CA bundle');
    // A second replica starting now reads the same certificates.
    const twin = await startCertRotation({ client, target, clock, log: silentLogger, policy, onRenewed: () => {} });
    assert.equal(twin.current().cert, first.cert);
    twin.stop();

    // Daily checks: nothing to do until the serving certificate is within 3 days of its 10.
    for (let day = 1; day <= 7; day++) {
      await clock.fireNext('cert-rotation');
      await clock.waitForTimer('cert-rotation'); // the check finished and the next one is scheduled
    }
    assert.equal(renewed.length, 0);
    await clock.fireNext('cert-rotation');
    await clock.waitForTimer('cert-rotation');
    assert.equal(renewed.length, 1, 'renewed on day 8');
    assert.equal(await secretCert(), renewed[0]!.cert);
    assert.equal(expiry(renewed[0]!.cert), T0 + 18 * DAY);
    assert.equal(await bundleOf(), first.ca, 'same CA: the bundle did not change');

    // Near the CA's end, a new CA: the bundle carries both, and is patched before the certificate is handed over.
    rotation.stop();
    assert.equal(clock.pending('cert-rotation').length, 0, 'stop() leaves no timer behind');
    clock.advanceTo(T0 + 98 * DAY);
    await rotation.check();
    assert.equal(renewed.length, 2);
    const bundle = splitPem(await bundleAt[1]!);
    assert.equal(bundle.length, 2, 'new CA and the previous one');
    assert.equal(bundle[1], first.ca);
    assert.ok(new X509Certificate(renewed[1]!.cert).checkIssued(new X509Certificate(bundle[0]!)));
  } finally {
    await client.close();
    await api.close();
  }
});

test('the HTTPS webhook server serves a renewed certificate from the next handshake, without a restart', async () => {
  const now = Date.now();
  const a = generateWebhookCerts('hook', 'kthena-system', now);
  const b = generateWebhookCerts('hook', 'kthena-system', now);
  const server = await startWebhookServer({ port: 0, host: '127.0.0.1', cert: a.cert, key: a.key });
  const port = Number(new URL(server.url).port);
  const peerSerial = (ca: string) =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, servername: NAMES[0], ca, path: '/healthz', agent: false },
        (res) => {
          const serial = (res.socket as TLSSocket).getPeerCertificate().serialNumber;
          res.resume().on('end', () => resolve(serial));
        },
      );
      req.on('error', reject).end();
    });
  try {
    assert.equal(await peerSerial(a.ca), new X509Certificate(a.cert).serialNumber);
    server.setCertificate(b.cert, b.key);
    assert.equal(await peerSerial(b.ca), new X509Certificate(b.cert).serialNumber);
    await assert.rejects(peerSerial(a.ca), /self[- ]signed|unable to verify|certificate/i);
  } finally {
    await server.close();
  }
});
