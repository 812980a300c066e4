import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { modelServing, role } from '../modelserving/testkit.js';
import { MUTATE_PATH, VALIDATE_PATH } from './modelserving.js';
import { startWebhookServer, type WebhookServer } from './server.js';

let srv: WebhookServer;
before(async () => {
  srv = await startWebhookServer({ port: 0 });
});
after(async () => {
  await srv.close();
});

const post = (path: string, body: string, type = 'application/json') =>
  fetch(`${srv.url}${path}`, { method: 'POST', headers: { 'content-type': type }, body });
const reviewOf = (object: unknown, operation = 'CREATE') =>
  JSON.stringify({
    apiVersion: 'admission.k8s.io/v1',
    kind: 'AdmissionReview',
    request: { uid: 'u1', operation, object },
  });

test('a valid ModelServing is allowed', async () => {
  const ms = modelServing('llm', 2, [role('prefill', 1, 1), role('decode', 1, 0)]);
  const r = await post(VALIDATE_PATH, reviewOf(ms));
  assert.equal(r.status, 200);
  const body = (await r.json()) as any;
  assert.equal(body.kind, 'AdmissionReview');
  assert.deepEqual({ uid: body.response.uid, allowed: body.response.allowed }, { uid: 'u1', allowed: true });
});

test('negative replicas and ServingGroupRecreate with RoleRollingUpdate are denied with every reason', async () => {
  const ms = modelServing('llm', -1, [role('decode', 1, 0)]);
  ms.spec.recoveryPolicy = 'ServingGroupRecreate';
  ms.spec.rolloutStrategy = { type: 'RoleRollingUpdate' };
  const body = (await (await post(VALIDATE_PATH, reviewOf(ms))).json()) as any;
  assert.equal(body.response.allowed, false);
  assert.match(body.response.status.message, /^validation failed:\n {2}- /);
  assert.match(body.response.status.message, /replicas/);
  assert.match(body.response.status.message, /ServingGroupRecreate/);
});

test('defaulting returns a JSON patch with the CRD defaults', async () => {
  const ms = modelServing('llm', 1, [role('decode', 1, 0)]);
  delete ms.spec.schedulerName;
  delete ms.spec.replicas;
  const body = (await (await post(MUTATE_PATH, reviewOf(ms))).json()) as any;
  assert.equal(body.response.patchType, 'JSONPatch');
  const patch = JSON.parse(Buffer.from(body.response.patch, 'base64').toString());
  assert.equal(patch[0].path, '/spec');
  assert.equal(patch[0].value.schedulerName, 'volcano');
  assert.equal(patch[0].value.replicas, 1);
  assert.equal(patch[0].value.recoveryPolicy, 'RoleRecreate');
});

test('hostile input gets Kubernetes Status errors and the server keeps serving', async () => {
  const cases: [string, string, string, number][] = [
    [VALIDATE_PATH, '{not json', 'application/json', 400],
    [VALIDATE_PATH, '[]', 'application/json', 400],
    [VALIDATE_PATH, '{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}', 'application/json', 400],
    [VALIDATE_PATH, reviewOf({}), 'text/plain', 415],
    ['/nope', reviewOf({}), 'application/json', 404],
    [VALIDATE_PATH, 'x'.repeat(4 * 1024 * 1024), 'application/json', 413],
  ];
  for (const [path, body, type, code] of cases) {
    const r = await post(path, body, type);
    assert.equal(r.status, code, `${path} ${body.slice(0, 30)}`);
    const st = (await r.json()) as any;
    assert.equal(st.kind, 'Status');
    assert.equal(st.code, code);
  }
  assert.equal((await fetch(`${srv.url}${VALIDATE_PATH}`)).status, 405);
  // still serving, and an object that is not a ModelServing at all is denied, not a crash
  const body = (await (await post(VALIDATE_PATH, reviewOf('a string'))).json()) as any;
  assert.equal(body.response.allowed, false);
  assert.equal((await fetch(`${srv.url}/healthz`)).status, 200);
});

test('HTTPS with a given certificate (what a real cluster calls)', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync, rmSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const https = await import('node:https');
  const dir = mkdtempSync(join(tmpdir(), 'kthena-wh-'));
  try {
    const gen = spawnSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1',
        '-keyout',
        join(dir, 'tls.key'),
        '-out',
        join(dir, 'tls.crt'),
      ],
      { encoding: 'utf8' },
    );
    if (gen.status !== 0) {
      t.skip(`openssl unavailable: ${gen.stderr}`);
      return;
    }
    const cert = readFileSync(join(dir, 'tls.crt'), 'utf8');
    const tls = await startWebhookServer({ port: 0, cert, key: readFileSync(join(dir, 'tls.key'), 'utf8') });
    try {
      assert.match(tls.url, /^https:/);
      const body = reviewOf(modelServing('llm', 1, [role('decode', 1, 0)]));
      const answer = await new Promise<any>((resolve, reject) => {
        const req = https.request(
          `${tls.url}${VALIDATE_PATH}`,
          { method: 'POST', ca: cert, headers: { 'content-type': 'application/json' } },
          (res) => {
            let text = '';
            res.on('data', (d: Buffer) => (text += d.toString()));
            res.on('end', () => resolve(JSON.parse(text)));
          },
        );
        req.on('error', reject);
        req.end(body);
      });
      assert.equal(answer.response.allowed, true);
    } finally {
      await tls.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
