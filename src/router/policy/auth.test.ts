// Authentication end to end: JWKS served over loopback, tokens signed with jose, API keys from a file and a Secret.
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, type JWTPayload, SignJWT } from 'jose';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from '../testing/harness.js';
import { hashApiKey, parseApiKeys } from './api-keys.js';
import { parseAuthConfig } from './auth.js';

const ISSUER = 'https://issuer.test';
type Key = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

async function sign(key: Key, claims: JWTPayload, kid = 'k1'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid }).sign(key);
}

describe('authentication (JWT + API keys)', () => {
  let eng: FakeEngine;
  let h: Harness;
  let jwks: Server;
  let dir: string;
  let good: Key;
  let forged: Key;
  let jwksHits = 0;
  const now = () => Math.floor(Date.now() / 1000);

  before(async () => {
    const pair = await generateKeyPair('RS256');
    good = pair.privateKey;
    forged = (await generateKeyPair('RS256')).privateKey;
    const pub = { ...(await exportJWK(pair.publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' };
    jwks = createServer((_req, res) => {
      jwksHits++;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: [pub] }));
    });
    await new Promise<void>((r) => jwks.listen(0, '127.0.0.1', () => r()));
    dir = await mkdtemp(join(tmpdir(), 'kthena-auth-'));
    const secret = {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: 'api-keys' },
      data: {
        'keys.yaml': Buffer.from(`keys:\n- {sha256: ${hashApiKey('sk-team-a')}, user: team-a, tier: 2}\n`).toString(
          'base64',
        ),
      },
    };
    await writeFile(join(dir, 'secret.yaml'), JSON.stringify(secret));
    eng = await startFakeEngine('e');
    h = await startHarness(
      {
        'server.yaml': serverYaml(
          's1',
          '  model: real\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
        ),
        'eps.yaml': endpointYaml('e', eng, { app: 's1' }),
        'route.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
      },
      {
        routerConfigText: `auth:
  jwksUri: http://127.0.0.1:${(jwks.address() as AddressInfo).port}/jwks.json
  issuer: ${ISSUER}
  audiences: [kthena]
  apiKeys: {file: ${join(dir, 'secret.yaml')}}
`,
        accessLog: { enabled: true, format: 'json', output: join(dir, 'access.log') },
      },
    );
  });
  after(async () => {
    await h.close();
    await eng.close();
    await new Promise((r) => jwks.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  const body = { model: 'm', prompt: 'hi' };
  const call = (authorization?: string) => h.post('/v1/completions', body, authorization ? { authorization } : {});
  const expect401 = async (authorization: string | undefined, message: RegExp) => {
    const r = await call(authorization);
    assert.equal(r.status, 401, r.text);
    assert.equal(r.json.error.type, 'authentication_error');
    assert.equal(r.json.error.code, 'unauthorized');
    assert.match(r.json.error.message, message);
    assert.match(String(r.headers['www-authenticate']), /^Bearer/);
    return r;
  };

  test('a valid JWT passes; sub becomes the user; the key set is fetched once and cached', async () => {
    const t = await sign(good, { iss: ISSUER, aud: 'kthena', sub: 'alice', exp: now() + 3600 });
    assert.equal((await call(`Bearer ${t}`)).status, 200);
    assert.equal((await call(`bearer ${t}`)).status, 200, 'scheme is case-insensitive');
    assert.equal(jwksHits, 1);
  });

  test('forged, expired, not-yet-valid and wrong-claim tokens get 401', async () => {
    const base = { iss: ISSUER, aud: 'kthena', sub: 'alice', exp: now() + 3600 };
    await expect401(`Bearer ${await sign(forged, base)}`, /invalid token/);
    await expect401(`Bearer ${await sign(good, { ...base, exp: now() - 10 })}`, /expired/);
    await expect401(`Bearer ${await sign(good, { ...base, nbf: now() + 3600 })}`, /not valid yet/);
    await expect401(`Bearer ${await sign(good, { ...base, iat: now() + 3600 })}`, /not valid yet/);
    await expect401(`Bearer ${await sign(good, { ...base, iss: 'https://evil' })}`, /claims rejected/);
    await expect401(`Bearer ${await sign(good, { ...base, aud: 'other' })}`, /claims rejected/);
    const { sub: _s, ...noSub } = base;
    await expect401(`Bearer ${await sign(good, noSub)}`, /claims rejected/);
    const { exp: _e, ...noExp } = base;
    await expect401(`Bearer ${await sign(good, noExp)}`, /claims rejected/);
    await expect401('Bearer aaa.bbb.ccc', /invalid token/);
  });

  test('API keys from a Secret manifest; unknown keys, missing and malformed headers get 401', async () => {
    assert.equal((await call('Bearer sk-team-a')).status, 200);
    assert.equal((await h.post('/v1/completions', body, { 'x-api-key': 'sk-team-a' })).status, 200);
    await expect401('Bearer sk-unknown', /invalid API key/);
    await expect401(undefined, /authentication required/);
    await expect401('Basic dXNlcjpwYXNz', /malformed Authorization/);
    await expect401('Bearer a b', /malformed Authorization/);
  });

  test('credentials never appear in responses, logs, metrics or debug dumps', async () => {
    const secretToken = await sign(good, { iss: ISSUER, aud: 'kthena', sub: 'bob', exp: now() - 5 });
    const r1 = await call(`Bearer ${secretToken}`);
    const r2 = await call('Bearer sk-very-secret-unknown');
    await call('Bearer sk-team-a');
    const metrics = await h.router.metrics.registry.metrics();
    const dumps: string[] = [];
    for (const p of ['/debug/config_dump/modelroutes', '/debug/config_dump/modelservers', '/debug/config_dump/pods']) {
      const r = await request(`http://127.0.0.1:${h.router.debugPort}${p}`);
      dumps.push(await r.body.text());
    }
    await h.router.close(); // flushes the access log; after() closes again (idempotent)
    const log = await readFile(join(dir, 'access.log'), 'utf8').catch(() => '');
    for (const [what, text] of [
      ['401 bodies', r1.text + r2.text],
      ['metrics', metrics],
      ['debug dumps', dumps.join('\n')],
      ['access log', log],
    ] as const) {
      for (const secret of [secretToken, 'sk-very-secret-unknown', 'sk-team-a', hashApiKey('sk-team-a')])
        assert.ok(!text.includes(secret), `${what} must not contain a credential`);
    }
    assert.match(metrics, /kthena_router_auth_failures_total\{reason="unknown_api_key"\} [1-9]/);
  });
});

test('auth config: clear errors, and off when neither JWKS nor API keys are set', () => {
  assert.equal(parseAuthConfig(undefined), undefined);
  assert.equal(parseAuthConfig({}), undefined);
  assert.throws(() => parseAuthConfig({ jwksUri: 'not a url', issuer: 'x' }), /auth.jwksUri: not a URL/);
  assert.throws(() => parseAuthConfig({ jwksUri: 'https://x/jwks' }), /auth.issuer: required/);
  assert.throws(() => parseAuthConfig({ audiences: 'a', apiKeys: { file: 'f' } }), /auth.audiences/);
  assert.throws(() => parseAuthConfig({ apiKeys: 'f' }), /auth.apiKeys: must be a mapping/);
});

test('API key files: bad entries are named by path, never by hash', () => {
  const h = hashApiKey('k');
  assert.equal(parseApiKeys(`keys: [{sha256: ${h}, user: u, tier: 3}]`, 'f').get(h)?.tier, 3);
  assert.throws(() => parseApiKeys('keys: [{sha256: abc, user: u}]', 'f'), /f: keys\[0\].sha256: must be 64 hex/);
  assert.throws(() => parseApiKeys(`keys: [{sha256: ${h}}]`, 'f'), /keys\[0\].user/);
  assert.throws(
    () => parseApiKeys(`keys: [{sha256: ${h}, user: u}, {sha256: ${h}, user: v}]`, 'f'),
    /keys\[1\]: duplicate/,
  );
  assert.throws(() => parseApiKeys('{kind: Secret, data: {}}', 'f'), /no data\/stringData key "keys.yaml"/);
  assert.throws(() => parseApiKeys(': : :', 'f'), /not valid YAML|expected a mapping/);
  try {
    parseApiKeys(`keys: [{sha256: ${h}, user: u, tier: x}]`, 'f');
    assert.fail('should throw');
  } catch (e) {
    assert.ok(!(e as Error).message.includes(h));
  }
});

test('an unreachable JWKS answers 401 "key set unavailable", API keys keep working', async () => {
  const { AuthStage } = await import('./auth.js');
  const { GovernanceMetrics } = await import('./metrics.js');
  const { Registry } = await import('prom-client');
  const { pino } = await import('pino');
  const dir = await mkdtemp(join(tmpdir(), 'kthena-auth-down-'));
  try {
    await writeFile(join(dir, 'k.yaml'), `keys: [{sha256: ${hashApiKey('sk-x')}, user: x}]`);
    const stage = new AuthStage(
      { jwksUri: 'http://127.0.0.1:1/jwks.json', issuer: ISSUER, apiKeysFile: join(dir, 'k.yaml') },
      { metrics: new GovernanceMetrics(new Registry()), log: pino({ level: 'silent' }) },
    );
    const key = (await generateKeyPair('RS256')).privateKey;
    const token = await sign(key, { iss: ISSUER, sub: 'a', exp: Math.floor(Date.now() / 1000) + 60 });
    const ctx = (authorization: string) => ({ headers: { authorization }, tier: 0 }) as never;
    await assert.rejects(stage.admit(ctx(`Bearer ${token}`)), (e: Error & { status?: number }) => {
      assert.equal(e.status, 401);
      assert.match(e.message, /signing key set is unavailable/);
      return true;
    });
    const ok = { headers: { authorization: 'Bearer sk-x' }, tier: 0 } as unknown as { user?: string };
    await stage.admit(ok as never);
    assert.equal(ok.user, 'x');
    stage.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
