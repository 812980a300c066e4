import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { resolvePort, runProbe } from './probes.js';

let server: http.Server;
let port = 0;
before(async () => {
  server = http.createServer((req, res) => {
    if (req.url === '/health') res.end('ok');
    else if (req.url === '/redirect') res.writeHead(302, { location: '/health' }).end();
    else if (req.url === '/hdr') res.writeHead(req.headers['x-probe'] === 'yes' ? 200 : 500).end();
    else if (req.url === '/slow') setTimeout(() => res.end('late'), 3000).unref();
    else res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(() => {
  server.closeAllConnections();
  server.close();
});
const ctx = () => ({
  podIP: '127.0.0.1',
  ports: [{ name: 'http', containerPort: port }],
  env: { PATH: process.env.PATH ?? '' },
  cwd: '/tmp',
});

test('httpGet: 2xx/3xx succeed, others fail with the status in the message; named ports and headers', async () => {
  assert.deepEqual(await runProbe({ httpGet: { path: '/health', port } }, ctx()), { ok: true });
  assert.deepEqual(await runProbe({ httpGet: { path: '/redirect', port: 'http' } }, ctx()), { ok: true });
  assert.deepEqual(await runProbe({ httpGet: { path: '/nope', port } }, ctx()), {
    ok: false,
    message: 'HTTP probe failed with statuscode: 503',
  });
  assert.equal(
    (await runProbe({ httpGet: { path: '/hdr', port, httpHeaders: [{ name: 'X-Probe', value: 'yes' }] } }, ctx())).ok,
    true,
  );
  assert.equal((await runProbe({ httpGet: { path: '/x', port: 'missing' } }, ctx())).ok, false);
  const slow = await runProbe({ httpGet: { path: '/slow', port }, timeoutSeconds: 1 }, ctx());
  assert.equal(slow.ok, false);
  assert.match(slow.message ?? '', /deadline exceeded/);
});

test('tcpSocket and grpc (as TCP) probes', async () => {
  assert.equal((await runProbe({ tcpSocket: { port } }, ctx())).ok, true);
  const closed = await runProbe({ tcpSocket: { port: 1 } }, ctx());
  assert.equal(closed.ok, false);
  assert.equal((await runProbe({ grpc: { port } }, ctx())).ok, true);
});

test('exec probes: exit 0 succeeds, output becomes the failure message', async () => {
  assert.equal((await runProbe({ exec: { command: ['sh', '-c', 'exit 0'] } }, ctx())).ok, true);
  assert.deepEqual(await runProbe({ exec: { command: ['sh', '-c', 'echo broken; exit 1'] } }, ctx()), {
    ok: false,
    message: 'broken',
  });
  assert.equal((await runProbe({ exec: { command: ['/no/such/binary'] } }, ctx())).ok, false);
  assert.equal((await runProbe({ exec: { command: [] } }, ctx())).ok, false);
  assert.equal((await runProbe({}, ctx())).ok, false);
});

test('resolvePort handles numbers, numeric strings and names', () => {
  const ports = [{ name: 'web', containerPort: 8080 }];
  assert.equal(resolvePort(80, ports), 80);
  assert.equal(resolvePort('81', ports), 81);
  assert.equal(resolvePort('web', ports), 8080);
  assert.equal(resolvePort('x', ports), undefined);
});
