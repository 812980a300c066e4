// Builds docs/api.md with links to the example files that show each kind.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { renderApiDoc } from './apidoc.js';
import { KINDS, type KthenaKind } from './kinds.js';
import { parseManifests } from './manifests.js';

export function apiDocFor(examplesDir: string): string {
  const byKind: Partial<Record<KthenaKind, string[]>> = {};
  const walk = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .flatMap((name) => {
        const p = join(dir, name);
        return statSync(p).isDirectory() ? walk(p) : /\.(ya?ml|json)$/.test(name) ? [p] : [];
      });
  for (const file of walk(examplesDir)) {
    const rel = relative(examplesDir, file).split('\\').join('/');
    for (const doc of parseManifests(readFileSync(file, 'utf8'), rel).docs) {
      const kind = (doc.obj as { kind?: unknown })?.kind;
      if (typeof kind === 'string' && Object.hasOwn(KINDS, kind)) {
        const list = byKind[kind as KthenaKind] ?? [];
        if (!list.includes(rel)) list.push(rel);
        byKind[kind as KthenaKind] = list;
      }
    }
  }
  return renderApiDoc(byKind);
}
