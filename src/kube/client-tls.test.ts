// TLS: server CA verification, client certificates and insecure-skip-tls-verify, directly and from a kubeconfig.
// Certificates are generated with openssl into a temporary directory for this run.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { KubeClient } from './client.js';
import { NODES } from './resource.js';

let dir: string;
let server: Server;
let url: string;
const pem = { ca: '', serverCert: '', serverKey: '', clientCert: '', clientKey: '' };
const seenClients: (string | undefined)[] = [];

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

function issue(name: string, cn: string, ext: string): void {
  openssl(
    'req',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.csr`,
    '-subj',
    `/CN=${cn}`,
  );
  writeFileSync(join(dir, `${name}.ext`), ext);
  openssl(
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    'ca.crt',
    '-CAkey',
    'ca.key',
    '-CAcreateserial',
    '-out',
    `${name}.crt`,
    '-days',
    '1',
    '-extfile',
    `${name}.ext`,
  );
}

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'kube-tls-'));
  openssl(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:prime256v1',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=kthena-test-ca',
  );
  issue('server', '127.0.0.1', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  issue('client', 'kthena-user', 'extendedKeyUsage=clientAuth\n');
  const read = (f: string) => readFileSync(join(dir, f), 'utf8');
  Object.assign(pem, {
    ca: read('ca.crt'),
    serverCert: read('server.crt'),
    serverKey: read('server.key'),
    clientCert: read('client.crt'),
    clientKey: read('client.key'),
  });
  // Client certificates are requested but not required, so the test can also see anonymous clients.
  server = createServer(
    { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca, requestCert: true, rejectUnauthorized: false },
    (req, res) => {
      const sock = req.socket as TLSSocket;
      seenClients.push(sock.authorized ? (sock.getPeerCertificate().subject?.CN as string) : undefined);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ kind: 'NodeList', apiVersion: 'v1', metadata: { resourceVersion: '5' }, items: [] }));
    },
  );
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

after(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

test('verifies the server against the CA and presents the client certificate', async () => {
  const c = new KubeClient({ server: url, ca: pem.ca, cert: pem.clientCert, key: pem.clientKey });
  const list = await c.list(NODES);
  assert.equal(list.metadata.resourceVersion, '5');
  assert.equal(seenClients.at(-1), 'kthena-user');
  await c.destroy();
});

test('an unknown server CA is refused unless insecureSkipTLSVerify', async () => {
  const strict = new KubeClient({ server: url });
  await assert.rejects(strict.list(NODES), (e: Error & { code?: string }) => {
    assert.match(String(e.code ?? e.message), /SELF_SIGNED|UNABLE_TO_VERIFY|unable to get local issuer/i);
    return true;
  });
  await strict.destroy();
  const insecure = new KubeClient({ server: url, insecureSkipTLSVerify: true });
  await insecure.list(NODES);
  assert.equal(seenClients.at(-1), undefined, 'no client certificate was presented');
  await insecure.destroy();
});

test('fromKubeconfig takes CA and client certificate from embedded data', async () => {
  const b64 = (s: string) => Buffer.from(s).toString('base64');
  const kc = join(dir, 'kubeconfig');
  writeFileSync(
    kc,
    [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      `- name: c`,
      `  cluster: { server: "${url}", certificate-authority-data: ${b64(pem.ca)} }`,
      'users:',
      `- name: u`,
      `  user: { client-certificate-data: ${b64(pem.clientCert)}, client-key-data: ${b64(pem.clientKey)} }`,
      'contexts:',
      '- name: x',
      '  context: { cluster: c, user: u }',
      'current-context: x',
      '',
    ].join('\n'),
  );
  const c = KubeClient.fromKubeconfig(kc);
  await c.list(NODES);
  assert.equal(seenClients.at(-1), 'kthena-user');
  await c.destroy();
});
