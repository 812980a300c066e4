// `kthena cluster` flags: bad input is rejected with a clear message; components start and stop.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { type ClusterContext, startCluster } from '../../src/cluster/index.js';
import { KubeClient } from '../../src/kube/client.js';
import { NAMESPACES } from '../../src/kube/resource.js';
import { call } from './cluster-helpers.js';

function cli(args: string[]) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'cluster', ...args], {
    encoding: 'utf8',
    timeout: 60_000,
  });
}

test('invalid flags fail with a message', () => {
  const port = cli(['--port', 'abc']);
  assert.notEqual(port.status, 0);
  assert.match(port.stderr, /--port must be an integer/);
  const nodes = cli(['--nodes', '-3']);
  assert.notEqual(nodes.status, 0);
  const range = cli(['--port', '70000']);
  assert.match(range.stderr, /between 0 and 65535/);
});

test('startCluster runs components with the context and stops them in reverse order', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-cluster-'));
  const order: string[] = [];
  let seen: ClusterContext | undefined;
  const mk = (name: string) => ({
    name,
    async start(ctx: ClusterContext) {
      seen = ctx;
      // components are ordinary API clients: the server answers before they start
      const r = await call(ctx.url, 'GET', '/api/v1/namespaces/default');
      assert.equal(r.status, 200);
      order.push(`start ${name}`);
      return {
        async stop() {
          order.push(`stop ${name}`);
        },
      };
    },
  });
  const cluster = await startCluster({
    port: 0,
    kubeconfigPath: join(dir, 'kc.yaml'),
    nodes: 3,
    gpusPerNode: 4,
    runEngines: false,
    components: [mk('kubelet'), mk('scheduler')],
  });
  assert.equal(seen?.nodes, 3);
  assert.equal(seen?.gpusPerNode, 4);
  assert.equal(seen?.runEngines, false);
  assert.ok(seen?.logDir);
  await cluster.close();
  assert.deepEqual(order, ['start kubelet', 'start scheduler', 'stop scheduler', 'stop kubelet']);
  await rm(dir, { recursive: true, force: true });
});

test('a component that fails to start stops the others and the server', async () => {
  await assert.rejects(
    startCluster({
      port: 0,
      components: [
        {
          name: 'bad',
          async start() {
            throw new Error('boom');
          },
        },
      ],
    }),
    /boom/,
  );
});

test('the API server of `kthena cluster` requires the kubeconfig token: anonymous and wrong tokens get 401', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-cluster-auth-'));
  const kc = join(dir, 'kc.yaml');
  const data = join(dir, 'data');
  const started = await startCluster({
    port: 0,
    kubeconfigPath: kc,
    dataDir: data,
    runEngines: false,
    components: [],
    requireAuth: true,
  });
  try {
    const text = await readFile(kc, 'utf8');
    const token = /token: (\S+)/.exec(text)?.[1] ?? '';
    assert.ok(token.length >= 16 && token !== 'kthena-local', 'a generated token is in the kubeconfig');
    const path = '/api/v1/namespaces/default/pods';
    const anonymous = await call(started.url, 'GET', path);
    assert.equal(anonymous.status, 401);
    assert.equal(anonymous.body.reason, 'Unauthorized');
    assert.equal(
      (await call(started.url, 'GET', path, undefined, { headers: { authorization: 'Bearer wrong' } })).status,
      401,
    );
    // An anonymous write runs nothing: a pod create without the token is refused before it is stored.
    const create = await call(started.url, 'POST', path, { metadata: { name: 'x' }, spec: { containers: [] } });
    assert.equal(create.status, 401);
    const ok = await call(started.url, 'GET', path, undefined, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(ok.status, 200);
    assert.equal((await call(started.url, 'GET', '/healthz')).status, 200, 'health stays public');
    // The client library reads the token from the kubeconfig; the token survives a restart with the same data dir.
    const client = KubeClient.fromKubeconfig(kc);
    assert.ok(await client.get(NAMESPACES, 'default'));
    await client.close();
    await started.close();
    const again = await startCluster({
      port: 0,
      kubeconfigPath: kc,
      dataDir: data,
      runEngines: false,
      components: [],
      requireAuth: true,
    });
    assert.equal(/token: (\S+)/.exec(await readFile(kc, 'utf8'))?.[1], token);
    await again.close();
  } finally {
    await started.close();
    await rm(dir, { recursive: true, force: true });
  }
});
