// --config-dir: YAML manifests of ModelRoute, ModelServer, ExternalModelProvider and EngineEndpoint, hot-reloaded.
// Each reload parses and validates every file; only a fully valid set replaces the store (in one step), otherwise the
// last good configuration stays in force and the errors are reported.
import { createHash } from 'node:crypto';
import { type FSWatcher, watch } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import type { Logger } from 'pino';
import type { RouterStore } from '../store/store.js';
import type { RouterMetrics } from '../telemetry/metrics.js';
import { type ExternalValidator, loadManifests, type ManifestSource } from './manifests.js';
import type { SecretDoc } from './secrets.js';

export interface FileSourceOptions {
  dir: string;
  /** Re-read even without a change notification (editors that swap files can escape fs.watch). */
  pollIntervalMs: number;
  debounceMs: number;
  log?: Logger;
  metrics?: RouterMetrics;
  validate?: ExternalValidator;
  /** Provider credentials (`kind: Secret` documents), applied together with each accepted reload. */
  onSecrets?: (secrets: SecretDoc[]) => void;
}

export interface ReloadResult {
  ok: boolean;
  changed: boolean;
  errors: string[];
}

/**
 * Manifest files of a config dir: `*.yaml`, `*.yml`, `*.json`, and `*.yaml.local` for router-only kinds
 * (EngineEndpoint) that `kubectl apply -R` must skip when the same folder is applied to a cluster.
 */
export const ROUTER_FILE = /\.(ya?ml|json)(\.local)?$/i;

async function listManifestFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walk = async (d: string) => {
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name.startsWith('.')) continue; // editor swap files, ..data symlinks of ConfigMap mounts
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (ROUTER_FILE.test(e.name)) out.push(p);
    }
  };
  await walk(dir);
  return out;
}

export class FileSource {
  private watcher: FSWatcher | undefined;
  private poll: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private lastHash = '';
  private reloading: Promise<ReloadResult> | undefined;
  private queued: Promise<ReloadResult> | undefined;
  /** First-seen times stand in for creationTimestamp, so "oldest route wins" is stable across reloads. */
  private readonly firstSeen = new Map<string, { ts: string; seq: number }>();
  private seq = 0;
  lastErrors: string[] = [];

  constructor(
    private readonly store: RouterStore,
    private readonly opts: FileSourceOptions,
  ) {}

  /** Initial load: throws when the directory cannot be read or holds invalid manifests. */
  async start(): Promise<void> {
    const r = await this.reload();
    if (!r.ok) throw new Error(`--config-dir ${this.opts.dir} is invalid:\n  ${r.errors.join('\n  ')}`);
    try {
      this.watcher = watch(this.opts.dir, { recursive: true }, () => this.schedule());
      this.watcher.on('error', (e) => this.opts.log?.warn({ err: e }, 'config-dir watch failed; polling continues'));
    } catch (e) {
      this.opts.log?.warn({ err: e }, 'config-dir cannot be watched; relying on polling');
    }
    if (this.opts.pollIntervalMs > 0) {
      this.poll = setInterval(() => this.schedule(), this.opts.pollIntervalMs).unref();
    }
  }

  stop(): void {
    this.watcher?.close();
    if (this.poll) clearInterval(this.poll);
    if (this.debounce) clearTimeout(this.debounce);
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => void this.reload(), this.opts.debounceMs).unref();
  }

  /**
   * Reads the directory and applies it if valid and different. A call made while a reload runs waits for a fresh
   * reload that starts after the running one, so its result always reflects the files as they were at call time.
   */
  reload(): Promise<ReloadResult> {
    if (!this.reloading) {
      this.reloading = this.doReload().finally(() => {
        this.reloading = undefined;
      });
      return this.reloading;
    }
    this.queued ??= this.reloading.then(() => {
      this.queued = undefined;
      return this.reload();
    });
    return this.queued;
  }

  private async readAll(): Promise<ManifestSource[]> {
    const files = await listManifestFiles(this.opts.dir);
    return Promise.all(files.map(async (f) => ({ file: relative(this.opts.dir, f), text: await readFile(f, 'utf8') })));
  }

  private async doReload(): Promise<ReloadResult> {
    let sources: ManifestSource[];
    try {
      // A file caught half-written (editors and `cp` write in place) must not become the configuration:
      // read until two reads a settle interval apart agree.
      sources = await this.readAll();
      for (let i = 0; i < 20; i++) {
        await new Promise((r) => setTimeout(r, this.opts.debounceMs));
        const again = await this.readAll();
        if (same(sources, again)) break;
        sources = again;
      }
    } catch (e) {
      return this.reject([`cannot read ${this.opts.dir}: ${(e as Error).message}`]);
    }
    const hash = createHash('sha256');
    for (const s of sources) hash.update(s.file).update('\0').update(s.text).update('\0');
    const digest = hash.digest('hex');
    if (digest === this.lastHash) return { ok: true, changed: false, errors: [] };
    const { snapshot, errors, secrets } = loadManifests(sources, this.opts.validate);
    if (errors.length) {
      this.lastHash = ''; // re-check on the next event even if the bad content stays
      return this.reject(errors);
    }
    const live = new Set<string>();
    for (const o of [...snapshot.routes, ...snapshot.servers, ...snapshot.providers]) {
      const id = `${o.kind}/${o.metadata.namespace}/${o.metadata.name}`;
      live.add(id);
      let fs = this.firstSeen.get(id);
      if (!fs) {
        fs = { ts: new Date().toISOString(), seq: ++this.seq };
        this.firstSeen.set(id, fs);
      }
      o.metadata = {
        ...o.metadata,
        creationTimestamp: o.metadata.creationTimestamp ?? fs.ts,
        resourceVersion: o.metadata.resourceVersion ?? String(fs.seq).padStart(12, '0'),
        generation: o.metadata.generation ?? 1,
      };
    }
    // A deleted object that comes back later is a new object (newer than routes that stayed).
    for (const id of this.firstSeen.keys()) if (!live.has(id)) this.firstSeen.delete(id);
    this.opts.onSecrets?.(secrets);
    this.store.replaceAll(snapshot);
    this.lastHash = digest;
    this.lastErrors = [];
    this.opts.metrics?.configReloads.inc({ result: 'success' });
    this.opts.log?.info(
      {
        routes: snapshot.routes.length,
        servers: snapshot.servers.length,
        endpoints: snapshot.endpoints.length,
      },
      'configuration loaded from config-dir',
    );
    return { ok: true, changed: true, errors: [] };
  }

  private reject(errors: string[]): ReloadResult {
    this.lastErrors = errors;
    this.opts.metrics?.configReloads.inc({ result: 'rejected' });
    this.opts.log?.error({ errors }, 'config-dir rejected; the last good configuration stays in force');
    return { ok: false, changed: false, errors };
  }
}

function same(a: ManifestSource[], b: ManifestSource[]): boolean {
  return a.length === b.length && a.every((x, i) => x.file === b[i].file && x.text === b[i].text);
}
