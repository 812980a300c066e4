// Provider configuration: URL joining rules of both adapters, annotations, header allowlist and the credential store.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ExternalModelProvider } from '../store/resources.js';
import { CredentialStore, secretFromObject } from './credentials.js';
import { decodeCaBundle, parseProvider, providerUrl } from './options.js';

const prov = (spec: Record<string, unknown>, annotations?: Record<string, string>): ExternalModelProvider => ({
  kind: 'ExternalModelProvider',
  metadata: { name: 'p', namespace: 'ns', annotations },
  spec: { baseURL: 'https://api.example.com', ...spec },
});

test('providerUrl: OpenAI drops /v1 under a base path; Anthropic only when the base ends in /v1', () => {
  const url = (spec: Record<string, unknown>, path: string, q = '') =>
    providerUrl(parseProvider(prov(spec)).config!, path, q).href;
  assert.equal(url({}, '/v1/chat/completions'), 'https://api.example.com/v1/chat/completions');
  assert.equal(
    url({ baseURL: 'https://x.test/api/v3' }, '/v1/chat/completions'),
    'https://x.test/api/v3/chat/completions',
  );
  assert.equal(
    url({ baseURL: 'https://x.test/api/v3/' }, '/v1/responses', '?a=1'),
    'https://x.test/api/v3/responses?a=1',
  );
  assert.equal(url({ providerType: 'Anthropic' }, '/v1/messages'), 'https://api.example.com/v1/messages');
  assert.equal(
    url({ providerType: 'Anthropic', baseURL: 'https://a.test/v1' }, '/v1/messages'),
    'https://a.test/v1/messages',
  );
  assert.equal(
    url({ providerType: 'Anthropic', baseURL: 'https://a.test/proxy' }, '/v1/messages'),
    'https://a.test/proxy/v1/messages',
  );
});

test('parseProvider: defaults, auth scheme per type, annotations, forward allowlist never includes credentials', () => {
  const c = parseProvider(prov({ auth: { secretRef: { name: 's', key: 'k' } } })).config!;
  assert.equal(c.type, 'OpenAI');
  assert.equal(c.auth?.scheme, 'Bearer');
  assert.equal(c.timeoutMs, 60_000);
  assert.ok(c.forward.has('traceparent') && !c.forward.has('authorization') && !c.forward.has('anthropic-version'));
  const a = parseProvider(
    prov(
      { providerType: 'Anthropic', auth: { secretRef: { name: 's', key: 'k' } }, headers: { 'X-Team': 'a' } },
      { 'provider.kthena.io/timeout': '1.5s', 'provider.kthena.io/forward-headers': 'X-Tenant, OpenAI-Beta' },
    ),
  ).config!;
  assert.equal(a.auth?.scheme, 'APIKey');
  assert.equal(a.timeoutMs, 1500);
  assert.ok(a.forward.has('anthropic-version') && a.forward.has('x-tenant') && a.forward.has('openai-beta'));
  assert.deepEqual(a.headers, { 'x-team': 'a' });
  const bad = parseProvider(
    prov(
      { baseURL: 'http://plain.test', headers: { Authorization: 'x' } },
      {
        'provider.kthena.io/timeout': '0s',
        'provider.kthena.io/forward-headers': 'Authorization,bad header',
        'provider.kthena.io/ca-bundle': 'not a cert',
      },
    ),
  );
  assert.equal(bad.config, undefined);
  const text = bad.errors.join('\n');
  for (const re of [
    /baseURL: must use https/,
    /spec.headers.Authorization/,
    /timeout: must be a positive/,
    /authorization is reserved/,
    /invalid name "bad header"/,
    /ca-bundle: is neither PEM/,
  ])
    assert.match(text, re);
});

test('decodeCaBundle: PEM as is, base64 of PEM decoded', () => {
  const pem = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----';
  assert.equal(decodeCaBundle(pem), pem);
  assert.equal(decodeCaBundle(Buffer.from(pem).toString('base64')), pem);
});

test('CredentialStore: labelled Secrets only, trimmed values, reasons; secretFromObject rejects malformed data without quoting it', () => {
  const s = new CredentialStore();
  let changes = 0;
  s.on('change', () => changes++);
  const doc = secretFromObject({
    metadata: {
      name: 'k',
      namespace: 'ns',
      labels: { 'networking.serving.volcano.sh/external-model-provider-credential': 'true' },
    },
    data: { a: Buffer.from(' tok-123 \n').toString('base64') },
    stringData: { b: 'plain-456' },
  }).secret!;
  s.upsert(doc);
  assert.deepEqual(s.resolve('ns', 'k', 'a'), { ok: true, value: 'tok-123', reason: 'CredentialResolved' });
  assert.equal(s.resolve('ns', 'k', 'b').ok, true);
  assert.equal(s.resolve('other', 'k', 'a').ok, false);
  assert.equal(s.redact('key tok-123 leaked'), 'key [redacted] leaked');
  s.remove('ns', 'k');
  assert.equal(s.resolve('ns', 'k', 'a').ok, false);
  assert.equal(changes, 2);
  const bad = secretFromObject({ metadata: { name: 'x' }, data: { a: 'not base64!!' } });
  assert.match(bad.error!, /data.a: must be base64/);
  assert.ok(!bad.error!.includes('not base64!!'));
  assert.match(secretFromObject({ metadata: {} }).error!, /metadata.name/);
});
