// `kthena download`: fetches a model into --output-dir once, however many pods share the cache.
// - idempotent: a finished download leaves a marker (.kthena-download.json) naming its source; a later run with the
//   same source does nothing;
// - atomic: files land in a sibling temp dir that is renamed to the output dir only when every file is complete, so
//   a crash never leaves a half model where the engine looks;
// - locked: a lock directory beside the output dir (proper-lockfile: mkdir + heartbeat, stale after a minute) makes a
//   second pod wait for the first one, then find the marker and skip.
import { randomBytes } from 'node:crypto';
import { mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { lock } from 'proper-lockfile';
import type { Env, RemoteFile, SourceDriver } from './driver.js';
import { DownloadError } from './errors.js';
import { type Fetcher, plainFetch } from './http.js';
import { parseSource } from './source.js';
import { hfDriver } from './sources/hf.js';
import { msDriver } from './sources/ms.js';
import { pvcDriver } from './sources/pvc.js';
import { s3Driver } from './sources/s3.js';

export const MARKER = '.kthena-download.json';

export interface DownloadOptions {
  source: string;
  outputDir: string;
  env?: Env;
  /** Where pvc:// claims are mounted (default `/`). */
  pvcRoot?: string;
  /** Files fetched at once (default 4). */
  maxWorkers?: number;
  fetcher?: Fetcher;
  /** Progress lines (default: none). */
  log?: (line: string) => void;
  /** A lock older than this is taken over (its holder died). Default 60 s; the holder refreshes it every 10 s. */
  staleLockMs?: number;
}

export interface DownloadResult {
  status: 'downloaded' | 'already-complete';
  files: number;
  bytes: number;
}

interface Marker {
  source: string;
  files: { path: string; size: number }[];
  completedAt: string;
}

export function driverFor(uri: string, env: Env, fetcher: Fetcher, pvcRoot: string): SourceDriver {
  const s = parseSource(uri);
  switch (s.scheme) {
    case 'hf':
      return hfDriver(s.repo, env, fetcher);
    case 'ms':
      return msDriver(s.owner, s.name, env, fetcher);
    case 's3':
    case 'obs':
      return s3Driver(uri, s.bucket, s.prefix, env, fetcher);
    case 'pvc':
      return pvcDriver(uri, s.path, pvcRoot);
  }
}

/** A listed path as a safe relative path, or an error: a hostile listing must not write outside the output dir. */
export function safeRelative(p: string, uri: string): string {
  const n = normalize(p).replace(/^(\.\/)+/, '');
  if (p === '' || isAbsolute(p) || n === '..' || n.startsWith(`..${sep}`) || n === '.' || p.includes('\0'))
    throw new DownloadError('UnsafePath', `${uri}: the listing names an unsafe path ${JSON.stringify(p)}`);
  return n;
}

async function readMarker(dir: string): Promise<Marker | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, MARKER), 'utf8')) as Marker;
  } catch {
    return undefined;
  }
}

/** `already-complete` when dir holds a finished download of `source`; an error when it holds something else. */
async function existing(dir: string, source: string): Promise<Marker | undefined> {
  const marker = await readMarker(dir);
  if (marker?.source === source) return marker;
  let entries: string[];
  try {
    entries = await readdir(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DownloadError('BadOutputDir', `--output-dir ${dir}: ${(err as Error).message}`);
  }
  if (entries.length === 0) return undefined;
  throw new DownloadError(
    'BadOutputDir',
    marker
      ? `--output-dir ${dir} holds a download of ${marker.source}, not ${source}`
      : `--output-dir ${dir} is not empty and holds no finished download; remove it to download ${source}`,
  );
}

async function fetchAll(
  driver: SourceDriver,
  files: RemoteFile[],
  into: string,
  o: DownloadOptions,
): Promise<Marker['files']> {
  // Every listed path is checked before the first byte is fetched: a hostile listing writes nothing at all.
  const planned = files.map((f) => ({ file: f, rel: safeRelative(f.path, o.source) }));
  const done: Marker['files'] = [];
  let next = 0;
  let failed = false;
  const worker = async () => {
    while (next < planned.length && !failed) {
      const { file, rel } = planned[next++];
      try {
        done.push({ path: rel, size: await driver.save(file, join(into, rel)) });
      } catch (err) {
        failed = true;
        throw err;
      }
      o.log?.(`fetched ${rel} [${done.length}/${planned.length}]`);
    }
  };
  // allSettled, not all: the temp dir is removed only after every worker has stopped writing into it.
  const results = await Promise.allSettled(
    Array.from({ length: Math.max(1, Math.min(o.maxWorkers ?? 4, planned.length)) }, worker),
  );
  const firstError = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (firstError) throw firstError.reason;
  return done.sort((a, b) => a.path.localeCompare(b.path));
}

export async function download(o: DownloadOptions): Promise<DownloadResult> {
  const env = o.env ?? process.env;
  const out = resolve(o.outputDir);
  const driver = driverFor(o.source, env, o.fetcher ?? plainFetch, o.pvcRoot ?? '/');
  const summary = (m: Marker, status: DownloadResult['status']): DownloadResult => ({
    status,
    files: m.files.length,
    bytes: m.files.reduce((s, f) => s + f.size, 0),
  });
  const before = await existing(out, o.source);
  if (before) return summary(before, 'already-complete');

  await mkdir(dirname(out), { recursive: true });
  const stale = Math.max(o.staleLockMs ?? 60_000, 2_000);
  const release = await lock(out, {
    lockfilePath: `${out}.lock`,
    realpath: false,
    stale,
    update: Math.floor(stale / 6),
    retries: { forever: true, minTimeout: 100, maxTimeout: 2_000, factor: 1.5 },
  });
  const tmp = join(dirname(out), `.${basename(out)}.partial-${process.pid}-${randomBytes(4).toString('hex')}`);
  try {
    // Another pod may have finished while this one waited for the lock.
    const waited = await existing(out, o.source);
    if (waited) return summary(waited, 'already-complete');
    const files = await driver.list();
    o.log?.(`${o.source}: ${files.length} file${files.length === 1 ? '' : 's'} to fetch`);
    await mkdir(tmp, { recursive: true });
    const marker: Marker = {
      source: o.source,
      files: await fetchAll(driver, files, tmp, o),
      completedAt: new Date().toISOString(),
    };
    await writeFile(join(tmp, MARKER), `${JSON.stringify(marker, null, 2)}\n`);
    // rename(2) replaces an empty directory; `existing` has made sure the output dir is absent or empty.
    if ((await stat(out).catch(() => undefined))?.isDirectory()) await rm(out, { recursive: true });
    await rename(tmp, out);
    return summary(marker, 'downloaded');
  } finally {
    await rm(tmp, { recursive: true, force: true });
    await release();
  }
}
