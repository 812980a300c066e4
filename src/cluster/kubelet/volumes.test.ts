import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError } from './env.js';
import { materializeVolumes, rewriteMountPaths } from './volumes.js';

const sources = {
  getConfigMap: async (_ns: string, name: string) =>
    name === 'cfg' ? { data: { routerConfiguration: 'a: 1' } } : undefined,
  getSecret: async (_ns: string, name: string) =>
    name === 'tls' ? { data: { 'tls.crt': Buffer.from('CERT').toString('base64') } } : undefined,
};

function pod(volumes: any[], mounts: any[]): Pod {
  return {
    metadata: { name: 'p', namespace: 'ns' },
    spec: { volumes, containers: [{ name: 'c', image: 'x', volumeMounts: mounts }] },
  } as Pod;
}

test('ConfigMap items and Secret keys become files; mount paths in args point at them', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vol-'));
  try {
    const p = pod(
      [
        { name: 'cfg', configMap: { name: 'cfg', items: [{ key: 'routerConfiguration', path: 'router.yaml' }] } },
        { name: 'certs', secret: { secretName: 'tls' } },
        { name: 'opt', secret: { secretName: 'missing', optional: true } },
      ],
      [
        { name: 'cfg', mountPath: '/etc/config' },
        { name: 'certs', mountPath: '/etc/tls' },
        { name: 'opt', mountPath: '/etc/opt' },
      ],
    );
    const mounts = await materializeVolumes(p, p.spec!.containers[0], dir, sources);
    assert.equal(mounts.length, 3);
    assert.equal(readFileSync(join(dir, 'volumes/cfg/router.yaml'), 'utf8'), 'a: 1');
    assert.equal(readFileSync(join(dir, 'volumes/certs/tls.crt'), 'utf8'), 'CERT');
    assert.deepEqual(rewriteMountPaths(['--router-config=/etc/config/router.yaml', '/etc/tls', '/etc/tlsx'], mounts), [
      `--router-config=${dir}/volumes/cfg/router.yaml`,
      `${dir}/volumes/certs`,
      '/etc/tlsx',
    ]);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing ConfigMap, a missing key or an escaping path is a container config error', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'vol-'));
  try {
    const run = (v: any) =>
      materializeVolumes(
        pod([v], [{ name: v.name, mountPath: '/m' }]),
        pod([v], [{ name: v.name, mountPath: '/m' }]).spec!.containers[0],
        dir,
        sources,
      );
    await assert.rejects(run({ name: 'a', configMap: { name: 'nope' } }), ContainerConfigError);
    await assert.rejects(run({ name: 'b', configMap: { name: 'cfg', items: [{ key: 'x', path: 'y' }] } }), /key "x"/);
    await assert.rejects(
      run({ name: 'c', configMap: { name: 'cfg', items: [{ key: 'routerConfiguration', path: '../../evil' }] } }),
      /escapes/,
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
