// Objects every cluster starts with: the system namespaces, the Volcano CRDs we ship (deploy/crds/volcano/), the
// Gateway API + InferencePool CRDs (deploy/crds/gateway-api/, beside it) and Volcano's default queues.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import type { ApiCore } from './core.js';
import { deepEqual, type Obj } from './util.js';

const SYSTEM_NAMESPACES = ['default', 'kube-system', 'kube-public', 'kube-node-lease'];

/** Finds `deploy/crds/volcano` above this module (works from src/ under tsx and from dist/). */
export function volcanoCrdDir(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const candidate = join(dir, 'deploy', 'crds', 'volcano');
    if (existsSync(candidate)) return candidate;
    dir = dirname(dir);
  }
  return undefined;
}

export function loadManifests(dir: string): Obj[] {
  const out: Obj[] = [];
  for (const f of readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(f)) continue;
    for (const doc of parseAllDocuments(readFileSync(join(dir, f), 'utf8'))) {
      const v = doc.toJS() as Obj | null;
      if (v && typeof v === 'object') out.push(v);
    }
  }
  return out;
}

export async function seed(core: ApiCore, crdDir = volcanoCrdDir()): Promise<void> {
  const reg = core.registry;
  const ns = reg.builtin('', 'namespaces');
  for (const name of SYSTEM_NAMESPACES)
    if (!core.tryGet(ns, undefined, name))
      await core.create(ns, 'v1', undefined, { metadata: { name } }, { fieldManager: 'kube-apiserver' });
  if (!crdDir) return;
  const crdType = reg.builtin('apiextensions.k8s.io', 'customresourcedefinitions');
  const gatewayDir = join(dirname(crdDir), 'gateway-api');
  const crds = [...loadManifests(crdDir), ...(existsSync(gatewayDir) ? loadManifests(gatewayDir) : [])];
  for (const crd of crds) {
    if (crd.kind !== 'CustomResourceDefinition') continue;
    const cur = core.tryGet(crdType, undefined, crd.metadata.name);
    if (!cur) await core.create(crdType, 'v1', undefined, crd, { fieldManager: 'kube-apiserver' });
    else if (!deepEqual(cur.spec, { ...crd.spec, names: cur.spec.names, conversion: cur.spec.conversion })) {
      await core.update(
        crdType,
        'v1',
        undefined,
        cur.metadata.name,
        { ...crd, metadata: { ...cur.metadata } },
        { fieldManager: 'kube-apiserver' },
        undefined,
        'patch',
      );
    }
  }
  const queues = reg.lookup('scheduling.volcano.sh', 'v1beta1', 'queues');
  if (queues) {
    for (const name of ['default', 'root']) {
      if (core.tryGet(queues, undefined, name)) continue;
      await core.create(
        queues,
        'v1beta1',
        undefined,
        {
          apiVersion: 'scheduling.volcano.sh/v1beta1',
          kind: 'Queue',
          metadata: { name },
          spec: { weight: 1, reclaimable: true },
        },
        { fieldManager: 'kube-apiserver' },
      );
      const q = core.get(queues, undefined, name);
      await core.update(
        queues,
        'v1beta1',
        undefined,
        name,
        { ...structuredClone(q), status: { state: 'Open' } },
        { fieldManager: 'kube-apiserver' },
        'status',
      );
    }
  }
}
