import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { FakeApiServer } from '../kube/testing/fake-apiserver.js';
import { formatDuration, type RouterCliOptions, runRouter } from './router.js';

process.env.LOG_LEVEL ??= 'silent'; // expected list failures would be logged

let dir: string;
before(() => {
  dir = mkdtempSync(join(tmpdir(), 'kthena-router-cli-'));
});
after(() => rmSync(dir, { recursive: true, force: true }));

const base: RouterCliOptions = {
  host: '127.0.0.1',
  port: 0,
  metricsPort: 0,
  debugPort: -1,
  maxBodyBytes: 1 << 20,
  headersTimeout: 60_000,
  bodyTimeout: 60_000,
  scrapeInterval: 200,
  drainTimeout: 1_000,
  accessLog: false,
};

const kubeconfigFor = (server: string) => `apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "${server}"}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: x, context: {cluster: c, user: u}}]
current-context: x
`;

test('--kubeconfig: missing, malformed or empty files and --config-dir together are clear errors', async () => {
  await assert.rejects(runRouter({ ...base, kubeconfig: join(dir, 'nope') }), /--kubeconfig .*nope: no such file/);
  const bad = join(dir, 'bad.yaml');
  writeFileSync(bad, 'not: [a kubeconfig\n');
  await assert.rejects(runRouter({ ...base, kubeconfig: bad }), /--kubeconfig .*bad\.yaml: /);
  const empty = join(dir, 'empty.yaml');
  writeFileSync(empty, '{}\n');
  await assert.rejects(runRouter({ ...base, kubeconfig: empty }), /no current cluster/);
  await assert.rejects(
    runRouter({ ...base, kubeconfig: empty, configDir: dir }),
    /either --config-dir or --kubeconfig/,
  );
});

test('--kubeconfig: /readyz is 503 until the informers have synced, then 200', async () => {
  const api = await FakeApiServer.start();
  // Every pod LIST fails until the injection is cleared, so the router cannot have synced yet.
  api.inject({ method: 'GET', path: '/api/v1/pods', watch: false }, { status: 500 }, 1_000_000);
  const kc = join(dir, 'kc.yaml');
  writeFileSync(kc, kubeconfigFor(api.url));
  const r = await runRouter({ ...base, kubeconfig: kc, writeStatus: false });
  try {
    const first = await fetch(`${r.url}/readyz`);
    assert.equal(first.status, 503);
    assert.equal(r.kube?.hasSynced(), false);
    await api.waitForRequest((q) => !q.watch && q.path === '/api/v1/pods');
    assert.equal((await fetch(`${r.url}/readyz`)).status, 503);
    api.clearInjections();
    await r.kube?.waitForSync();
    for (;;) {
      if ((await fetch(`${r.url}/readyz`)).status === 200) break;
      await new Promise((res) => setTimeout(res, 20));
    }
    assert.ok(api.requestsWhere((q) => !q.watch && q.path === '/api/v1/pods').length >= 2, 'pods were relisted');
  } finally {
    await r.close();
    await api.close();
  }
});

test('--router-config: a missing file and a bad configuration name the flag and the file', async () => {
  await assert.rejects(
    runRouter({ ...base, configDir: dir, routerConfig: join(dir, 'nope.yaml') }),
    /--router-config .*nope\.yaml: no such file/,
  );
  const bad = join(dir, 'bad-router-config.yaml');
  writeFileSync(bad, 'scheduler: {plugins: {Score: {enabled: [{name: no-such-plugin}]}}}\n');
  await assert.rejects(
    runRouter({ ...base, configDir: dir, routerConfig: bad }),
    /--router-config .*bad-router-config\.yaml: invalid router configuration:[\s\S]*no-such-plugin/,
  );
});

test('duration defaults read as durations in --help', () => {
  assert.equal(formatDuration(60_000), '1m');
  assert.equal(formatDuration(300_000), '5m');
  assert.equal(formatDuration(1000), '1s');
  assert.equal(formatDuration(1500), '1500ms');
  assert.equal(formatDuration(7_200_000), '2h');
});

test('--endpoint-picker-*: TLS flags need the port, cert and key go together, files must exist', async () => {
  const cd = mkdtempSync(join(tmpdir(), 'kthena-router-cli-epp-'));
  try {
    await assert.rejects(
      runRouter({ ...base, configDir: cd, endpointPickerSecure: true }),
      /need --endpoint-picker-port/,
    );
    await assert.rejects(
      runRouter({ ...base, configDir: cd, endpointPickerPort: 0, endpointPickerCert: join(cd, 'c.pem') }),
      /--endpoint-picker-cert and --endpoint-picker-key go together/,
    );
    await assert.rejects(
      runRouter({
        ...base,
        configDir: cd,
        endpointPickerPort: 0,
        endpointPickerCert: join(cd, 'c.pem'),
        endpointPickerKey: join(cd, 'k.pem'),
      }),
      /c\.pem: no such file/,
    );
    const r = await runRouter({ ...base, configDir: cd, endpointPickerPort: 0, endpointPickerSecure: true });
    try {
      assert.ok((r.endpointPickerPort ?? 0) > 0, 'the picker listens on an ephemeral port');
    } finally {
      await r.close();
    }
  } finally {
    rmSync(cd, { recursive: true, force: true });
  }
});
