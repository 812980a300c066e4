// Volumes of a pod as this machine can offer them: ConfigMap, Secret and emptyDir volumes are written to a
// directory under the pod's working directory, and container arguments that name a mountPath are rewritten to
// that directory (a process cannot see /etc/config the way a container would). Other volume kinds and env
// variables holding paths are not translated.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError, type EnvSources } from './env.js';

export interface LocalMount {
  mountPath: string;
  localPath: string;
}

interface KeyToPath {
  key: string;
  path: string;
}

function files(data: Record<string, string>, items: KeyToPath[] | undefined, what: string): Record<string, string> {
  if (!items?.length) return data;
  const out: Record<string, string> = {};
  for (const it of items) {
    if (!(it.key in data)) throw new ContainerConfigError(`${what}: key "${it.key}" not found`);
    out[it.path] = data[it.key];
  }
  return out;
}

function writeFiles(dir: string, content: Record<string, string | Buffer>): void {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const [path, value] of Object.entries(content)) {
    const rel = normalize(path);
    if (rel.startsWith('..') || rel.startsWith('/'))
      throw new ContainerConfigError(`volume path "${path}" escapes the volume`);
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), value);
  }
}

/** Writes the volumes `c` mounts under `podDir/volumes/` and returns where each mountPath lives locally. */
export async function materializeVolumes(
  pod: Pod,
  c: Container,
  podDir: string,
  sources: EnvSources,
): Promise<LocalMount[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const mounts: LocalMount[] = [];
  for (const m of c.volumeMounts ?? []) {
    const vol = (pod.spec?.volumes ?? []).find((v) => v.name === m.name);
    if (!vol) continue;
    const dir = join(podDir, 'volumes', m.name);
    if (vol.configMap) {
      const name = vol.configMap.name ?? '';
      const cm = await sources.getConfigMap(ns, name);
      if (!cm && !vol.configMap.optional) throw new ContainerConfigError(`configmap "${name}" not found`);
      writeFiles(dir, files({ ...(cm?.data ?? {}) }, vol.configMap.items as KeyToPath[], `configmap "${name}"`));
    } else if (vol.secret) {
      const name = vol.secret.secretName ?? '';
      const s = await sources.getSecret(ns, name);
      if (!s && !vol.secret.optional) throw new ContainerConfigError(`secret "${name}" not found`);
      const data: Record<string, string> = {};
      for (const [k, v] of Object.entries(s?.data ?? {})) data[k] = Buffer.from(v, 'base64').toString('utf8');
      writeFiles(dir, files(data, vol.secret.items as KeyToPath[], `secret "${name}"`));
    } else if (vol.emptyDir) mkdirSync(dir, { recursive: true });
    else continue;
    mounts.push({ mountPath: m.mountPath, localPath: m.subPath ? join(dir, m.subPath) : dir });
  }
  return mounts;
}

/** Rewrites `/mount/path[/…]` in each word (alone or after `=`) to the local directory, longest mountPath first. */
export function rewriteMountPaths(words: string[] | undefined, mounts: LocalMount[]): string[] | undefined {
  if (!words || mounts.length === 0) return words;
  const sorted = [...mounts].sort((a, b) => b.mountPath.length - a.mountPath.length);
  return words.map((w) => {
    for (const m of sorted) {
      const base = m.mountPath.replace(/\/+$/, '');
      const re = new RegExp(`(^|=)${base.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(?=/|$)`);
      if (re.test(w)) return w.replace(re, (_all, pre: string) => `${pre}${m.localPath}`);
    }
    return w;
  });
}
