// Where a backend's weights live: the cache volume, its mount path and the model path (§3.3). Pure.
import { createHash } from 'node:crypto';
import type { Volume } from 'kubernetes-types/core/v1.js';
import type { Backend } from './types.js';

/**
 * Mount path of a backend without cacheURI. Upstream mounts its emptyDir at "" there (a known flaw, which an API
 * server rejects); we mount it here instead.
 */
export const DEFAULT_CACHE_PATH = '/models';

const afterScheme = (uri: string) => uri.slice(uri.indexOf('://') + 3);
const trimSlashes = (s: string) => s.replace(/^\/+|\/+$/g, '');

export function cacheVolumeName(backend: Pick<Backend, 'name'>): string {
  return `${backend.name}-weights`;
}

/** pvc://C → the claim C; hostpath://P → hostPath /P (DirectoryOrCreate); none → emptyDir. */
export function cacheVolume(backend: Pick<Backend, 'name' | 'cacheURI'>): Volume {
  const name = cacheVolumeName(backend);
  const uri = backend.cacheURI ?? '';
  if (uri.startsWith('pvc://')) return { name, persistentVolumeClaim: { claimName: trimSlashes(afterScheme(uri)) } };
  if (uri.startsWith('hostpath://'))
    return { name, hostPath: { path: `/${trimSlashes(afterScheme(uri))}`, type: 'DirectoryOrCreate' } };
  return { name, emptyDir: {} };
}

/** The part of cacheURI after `://`, slashes trimmed, with one leading `/`. */
export function cachePath(cacheURI: string | undefined): string {
  if (!cacheURI) return DEFAULT_CACHE_PATH;
  return `/${trimSlashes(afterScheme(cacheURI))}`;
}

/** `<cachePath>/<md5 hex of modelURI>`: one directory per model source inside the cache. */
export function modelPath(backend: Pick<Backend, 'modelURI' | 'cacheURI'>): string {
  const base = cachePath(backend.cacheURI);
  const hash = createHash('md5').update(backend.modelURI).digest('hex');
  return base === '/' ? `/${hash}` : `${base}/${hash}`;
}
