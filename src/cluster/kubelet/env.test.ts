import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, type EnvSources, expandVars, resolveEnv } from './env.js';

const sources: EnvSources = {
  getConfigMap: async (ns, name) =>
    ns === 'ml' && name === 'cfg' ? { metadata: { name }, data: { A: '1', B: 'two' } } : undefined,
  getSecret: async (ns, name) =>
    ns === 'ml' && name === 'sec'
      ? { metadata: { name }, data: { TOKEN: Buffer.from('s3cret').toString('base64') } }
      : undefined,
};
const addr = { podIP: '127.30.0.7', hostIP: '127.0.0.1' };
const pod = (env: any[], envFrom: any[] = []): Pod => ({
  metadata: { name: 'p-1', namespace: 'ml', uid: 'u-1', labels: { app: 'x' }, annotations: { 'a/b': 'c' } },
  spec: {
    nodeName: 'node-0',
    containers: [{ name: 'c', image: 'i', env, envFrom, resources: { limits: { cpu: '2', memory: '1Gi' } } }],
  },
});

test('downward API, values with $(VAR) expansion, resource fields', async () => {
  const p = pod([
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
    { name: 'NAMESPACE', valueFrom: { fieldRef: { fieldPath: 'metadata.namespace' } } },
    { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
    { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    { name: 'NODE', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } },
    { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
    { name: 'ANN', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['a/b']" } } },
    { name: 'ADDR', value: '$(POD_NAME).$(NAMESPACE):$(MISSING) $$(POD_NAME)' },
    { name: 'MEM_MI', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
    { name: 'CPUS', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
  ]);
  const env = await resolveEnv(p, p.spec!.containers[0], addr, sources);
  assert.deepEqual(env, {
    POD_NAME: 'p-1',
    NAMESPACE: 'ml',
    POD_IP: '127.30.0.7',
    HOST_IP: '127.0.0.1',
    NODE: 'node-0',
    APP: 'x',
    ANN: 'c',
    ADDR: 'p-1.ml:$(MISSING) $(POD_NAME)',
    MEM_MI: '1024',
    CPUS: '2',
  });
});

test('ConfigMap and Secret refs, envFrom with prefix, env overriding envFrom', async () => {
  const p = pod(
    [
      { name: 'B', value: 'override' },
      { name: 'T', valueFrom: { secretKeyRef: { name: 'sec', key: 'TOKEN' } } },
      { name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'A' } } },
      { name: 'OPT', valueFrom: { configMapKeyRef: { name: 'none', key: 'A', optional: true } } },
    ],
    [
      { configMapRef: { name: 'cfg' } },
      { secretRef: { name: 'sec' }, prefix: 'S_' },
      { configMapRef: { name: 'gone', optional: true } },
    ],
  );
  const env = await resolveEnv(p, p.spec!.containers[0], addr, sources);
  assert.deepEqual(env, { A: '1', B: 'override', S_TOKEN: 's3cret', T: 's3cret', X: '1' });
});

test('missing required refs are CreateContainerConfigError with a clear message', async () => {
  const cases: [any[], any[], RegExp][] = [
    [[{ name: 'X', valueFrom: { configMapKeyRef: { name: 'nope', key: 'A' } } }], [], /configmap "nope" not found/],
    [
      [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cfg', key: 'Z' } } }],
      [],
      /couldn't find key Z in ConfigMap ml\/cfg/,
    ],
    [[{ name: 'X', valueFrom: { secretKeyRef: { name: 'nope', key: 'A' } } }], [], /secret "nope" not found/],
    [[], [{ secretRef: { name: 'nope' } }], /secret "nope" not found/],
    [[{ name: 'X', valueFrom: { fieldRef: { fieldPath: 'spec.bogus' } } }], [], /unsupported fieldRef/],
  ];
  for (const [env, envFrom, re] of cases) {
    const p = pod(env, envFrom);
    await assert.rejects(resolveEnv(p, p.spec!.containers[0], addr, sources), (e: unknown) => {
      assert.ok(e instanceof ContainerConfigError);
      assert.match(e.message, re);
      return true;
    });
  }
});

test('expandVars leaves unknown references and handles $$', () => {
  assert.equal(expandVars('$(A)-$(B)-$$-$', { A: 'a' }), 'a-$(B)-$-$');
});
