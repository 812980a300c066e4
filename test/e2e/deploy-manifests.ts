// Shared checks for the manifests under deploy/<component>/: load the YAML, compare RBAC rules, and apply with the real
// kubectl to an in-process local API server (the kinds it serves; the rest are checked statically by the caller).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { startApiServer } from '../../src/cluster/apiserver/index.js';
import { KubeClient } from '../../src/kube/client.js';
import { kubectl } from '../helpers/run.js';

export { kubectl };

export type Obj = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string };
  [k: string]: any;
};

export function loadManifests(dir: string): { file: string; obj: Obj }[] {
  const out: { file: string; obj: Obj }[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.yaml') || file === 'kustomization.yaml') continue;
    for (const doc of parseAllDocuments(readFileSync(join(dir, file), 'utf8'))) {
      assert.deepEqual(doc.errors, [], file);
      const obj = doc.toJS() as Obj;
      if (obj) out.push({ file, obj });
    }
  }
  return out;
}

/** Order-insensitive form of RBAC rules, for equality. */
export const normRules = (rules: readonly { apiGroups: string[]; resources: string[]; verbs: string[] }[]) =>
  rules
    .map((r) => `${r.apiGroups.join(',')}|${[...r.resources].sort().join(',')}|${[...r.verbs].sort().join(',')}`)
    .sort();

/**
 * Applies every manifest of `dir` whose kind the local API server serves, in one `kubectl apply`, and returns the
 * kubeconfig-bound kubectl runner for follow-up checks inside `check`. Skips the test when kubectl is missing.
 */
export async function applyToLocalControlPlane(
  t: TestContext,
  dir: string,
  check: (run: (args: string[]) => ReturnType<typeof kubectl>, applied: Obj[]) => Promise<void>,
): Promise<void> {
  const which = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' });
  if (which.status !== 0) {
    t.skip('kubectl not installed');
    return;
  }
  const tmp = mkdtempSync(join(tmpdir(), 'kthena-deploy-'));
  const kubeconfig = join(tmp, 'kubeconfig');
  const api = await startApiServer({ port: 0, kubeconfigPath: kubeconfig, installVolcanoCrds: false });
  const client = new KubeClient({ server: api.url });
  try {
    // Which of our kinds does the server serve (discovery)?
    const served = new Set<string>();
    for (const { obj } of loadManifests(dir)) {
      const [group, version] = obj.apiVersion.includes('/') ? obj.apiVersion.split('/') : ['', obj.apiVersion];
      const path = group ? `/apis/${group}/${version}` : `/api/${version}`;
      try {
        const list = await client.request<{ resources: { kind: string }[] }>({ method: 'GET', path });
        if (list.resources.some((r) => r.kind === obj.kind)) served.add(`${obj.apiVersion}/${obj.kind}`);
      } catch {
        // group not served
      }
    }
    const toApply: Obj[] = [];
    for (const { file, obj } of loadManifests(dir)) {
      if (served.has(`${obj.apiVersion}/${obj.kind}`)) toApply.push(obj);
      else
        t.diagnostic(
          `${file}: ${obj.kind} ${obj.metadata.name} not served by the local control plane; checked statically`,
        );
    }
    toApply.sort((a, b) => Number(b.kind === 'Namespace') - Number(a.kind === 'Namespace'));
    // One kubectl run; client-side OpenAPI validation is off because the API server validates the objects itself.
    const r = await kubectl(
      ['--kubeconfig', kubeconfig, 'apply', '--validate=false', '-f', '-'],
      JSON.stringify({ apiVersion: 'v1', kind: 'List', items: toApply }),
    );
    assert.equal(r.status, 0, r.stderr);
    const applied = r.stdout.split('\n').filter((l) => /(created|configured|unchanged)$/.test(l)).length;
    assert.equal(applied, toApply.length, r.stdout);
    await check((args) => kubectl(['--kubeconfig', kubeconfig, ...args]), toApply);
  } finally {
    await client.close();
    await api.close();
    rmSync(tmp, { recursive: true, force: true });
  }
}
