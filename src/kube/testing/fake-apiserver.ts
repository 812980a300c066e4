// A scripted fake Kubernetes API server on loopback, for tests of anything that lists, watches or writes objects.
//
// It is deliberately small but speaks the real wire protocol: JSON lists with resourceVersion and limit/continue
// pagination, chunked newline-delimited watch streams with bookmarks and 410 handling, Status errors, and CRUD with
// a global resourceVersion counter and 409 on stale writes (enough for Lease-based leader election).
// Tests drive it: change objects (watchers get events), send bookmarks, drop or end watch connections, compact the
// history so old resourceVersions get 410, script the next watch to misbehave (410, silence, malformed line, drop
// after N events), inject arbitrary error answers, and wait for / assert on the requests it received.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { apiVersionOf, type KubeObject, type ResourceRef } from '../resource.js';

export interface RecordedRequest {
  seq: number;
  method: string;
  /** Path without query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  body: any;
  watch: boolean;
}

/** One-shot behaviours for the next watch request on a collection. */
export type WatchScript =
  /** HTTP 410 with an Expired Status (what a proxy or an old server may do). */
  | { kind: 'gone-status' }
  /** HTTP 200, one ERROR event with code 410, then the stream ends (what the real watch cache does). */
  | { kind: 'gone-event' }
  /** Any other HTTP error status. */
  | { kind: 'error-status'; status: number; reason?: string }
  /** HTTP 200 and then nothing, ever: not even live events (a half-dead connection). */
  | { kind: 'silent' }
  /** HTTP 200, then this line (default: truncated JSON), then normal behaviour. */
  | { kind: 'malformed'; line?: string }
  /** Normal, but the socket is destroyed after this many events have been written. */
  | { kind: 'drop-after'; events: number };

export type ListScript = { kind: 'error-status'; status: number; reason?: string };

export interface InjectedResponse {
  status: number;
  reason?: string;
  message?: string;
  /** Raw body to send instead of a Status. */
  body?: unknown;
}

export interface RequestMatcher {
  method?: string;
  /** Substring or regular expression matched against the path. */
  path?: string | RegExp;
  watch?: boolean;
}

export interface FakeApiServerOptions {
  /** Write every watch line in several pieces (splitting JSON and multi-byte characters across TCP chunks). */
  splitWrites?: boolean;
  /** Serve lists in pages of at most this many items even when the client asks for more (or no limit). */
  pageSize?: number;
}

interface HistoryEntry {
  rv: number;
  coll: string;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  old?: KubeObject;
}

interface Watcher {
  coll: string;
  namespace?: string;
  labelSelector?: string;
  fieldSelector?: string;
  bookmarks: boolean;
  res: ServerResponse;
  silent: boolean;
  dropAfter?: number;
  sent: number;
  chain: Promise<void>;
  /** No new events are accepted (set when we decide to end or drop it). */
  closed: boolean;
  /** The response is gone; queued split writes are skipped. */
  dead: boolean;
}

interface ParsedPath {
  coll: string;
  group: string;
  version: string;
  plural: string;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const collOf = (r: ResourceRef) => `${r.group}|${r.plural}`;
const clone = <T>(v: T): T => structuredClone(v);

export class FakeApiServer {
  readonly requests: RecordedRequest[] = [];
  splitWrites: boolean;
  pageSize: number | undefined;
  private server!: Server;
  private sockets = new Set<Socket>();
  private _url = '';
  private rv = 1;
  private compactedRv = 0;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly kinds = new Map<string, { kind: string; apiVersion: string }>();
  private readonly history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly watchScripts = new Map<string, WatchScript[]>();
  private readonly listScripts = new Map<string, ListScript[]>();
  private readonly injections: { m: RequestMatcher; r: InjectedResponse; times: number }[] = [];
  private readonly snapshots = new Map<string, { rv: number; items: KubeObject[] }>();
  private readonly requestWaiters = new Set<() => void>();

  private constructor(opts: FakeApiServerOptions) {
    this.splitWrites = opts.splitWrites ?? false;
    this.pageSize = opts.pageSize;
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const s = new FakeApiServer(opts);
    s.server = createServer((req, res) => s.onRequest(req, res));
    s.server.on('connection', (sock) => {
      sock.setNoDelay(true);
      s.sockets.add(sock);
      sock.on('close', () => s.sockets.delete(sock));
    });
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    s._url = `http://127.0.0.1:${(s.server.address() as AddressInfo).port}`;
    return s;
  }

  get url(): string {
    return this._url;
  }

  /** The current (latest) resourceVersion as a string. */
  get resourceVersion(): string {
    return String(this.rv);
  }

  async close(): Promise<void> {
    for (const w of this.watchers) this.closeWatcher(w, 'destroy');
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  // ---------------------------------------------------------------- data

  /** Creates or updates an object (watchers get ADDED or MODIFIED). Returns the stored copy. */
  put<T extends KubeObject>(ref: ResourceRef, obj: T): T {
    const coll = collOf(ref);
    this.kinds.set(coll, { kind: ref.kind, apiVersion: apiVersionOf(ref) });
    const md = obj.metadata ?? {};
    const key = keyFor(ref.namespaced ? md.namespace : undefined, md.name ?? '');
    const old = this.collection(coll).get(key);
    const stored = this.stamp(coll, { ...clone(obj), kind: ref.kind, apiVersion: apiVersionOf(ref) }, old);
    this.commit(coll, key, old ? 'MODIFIED' : 'ADDED', stored, old);
    return clone(stored) as T;
  }

  /** Deletes an object (watchers get DELETED). Returns false if it did not exist. */
  remove(ref: ResourceRef, namespace: string | undefined, name: string): boolean {
    const coll = collOf(ref);
    const key = keyFor(ref.namespaced ? namespace : undefined, name);
    const old = this.collection(coll).get(key);
    if (!old) return false;
    this.deleteStored(coll, key, old);
    return true;
  }

  get<T extends KubeObject>(ref: ResourceRef, namespace: string | undefined, name: string): T | undefined {
    const o = this.collection(collOf(ref)).get(keyFor(ref.namespaced ? namespace : undefined, name));
    return o ? (clone(o) as T) : undefined;
  }

  list<T extends KubeObject>(ref: ResourceRef, namespace?: string): T[] {
    return this.sortedItems(collOf(ref), namespace).map((o) => clone(o) as T);
  }

  // ---------------------------------------------------------------- watch control

  /** Sends a BOOKMARK with the current resourceVersion to every watcher (of `ref`) that asked for bookmarks. */
  bookmark(ref?: ResourceRef): number {
    let n = 0;
    for (const w of this.watchers) {
      if (w.closed || w.silent || !w.bookmarks || (ref && w.coll !== collOf(ref))) continue;
      const kind = this.kinds.get(w.coll);
      this.send(w, {
        type: 'BOOKMARK',
        object: { kind: kind?.kind, apiVersion: kind?.apiVersion, metadata: { resourceVersion: String(this.rv) } },
      });
      n++;
    }
    return n;
  }

  /** Destroys the sockets of open watches (a connection lost mid-stream). Returns how many. */
  dropWatches(ref?: ResourceRef): number {
    return this.closeMatching(ref, 'destroy');
  }

  /** Ends open watches cleanly (what a server does when timeoutSeconds elapse). Returns how many. */
  endWatches(ref?: ResourceRef): number {
    return this.closeMatching(ref, 'end');
  }

  /**
   * Forgets the event history: a watch from any resourceVersion handed out so far now gets a 410 ERROR event.
   * (The global resourceVersion moves on by one so that even a watcher that is fully up to date is too old.)
   */
  compact(): void {
    this.compactedRv = ++this.rv;
    this.history.length = 0;
  }

  /** Makes continue tokens handed out so far invalid (410 Expired on use). */
  expireContinueTokens(): void {
    this.snapshots.clear();
  }

  /** The next watch requests on `ref` (any namespace) behave as scripted, one script per request, in order. */
  scriptWatch(ref: ResourceRef, ...scripts: WatchScript[]): void {
    const q = this.watchScripts.get(collOf(ref)) ?? [];
    q.push(...scripts);
    this.watchScripts.set(collOf(ref), q);
  }

  /** Like scriptWatch, but only for watches of `ref` in `namespace` (these scripts take precedence). */
  scriptWatchIn(ref: ResourceRef, namespace: string, ...scripts: WatchScript[]): void {
    const key = `${collOf(ref)}|${namespace}`;
    const q = this.watchScripts.get(key) ?? [];
    q.push(...scripts);
    this.watchScripts.set(key, q);
  }

  scriptList(ref: ResourceRef, ...scripts: ListScript[]): void {
    const q = this.listScripts.get(collOf(ref)) ?? [];
    q.push(...scripts);
    this.listScripts.set(collOf(ref), q);
  }

  /** The next `times` requests matching `m` get this answer instead of being served. */
  inject(m: RequestMatcher, r: InjectedResponse, times = 1): void {
    this.injections.push({ m, r, times });
  }

  /** Drops every pending injection. */
  clearInjections(): void {
    this.injections.length = 0;
  }

  /** Open watch connections (of `ref`, in `namespace` when given). */
  openWatches(ref?: ResourceRef, namespace?: string): number {
    let n = 0;
    for (const w of this.watchers) {
      if (!w.closed && (!ref || w.coll === collOf(ref)) && (namespace === undefined || w.namespace === namespace)) n++;
    }
    return n;
  }

  /** Requests matching `pred`, in arrival order. */
  requestsWhere(pred: (r: RecordedRequest) => boolean): RecordedRequest[] {
    return this.requests.filter(pred);
  }

  /**
   * Resolves with the first request with seq ≥ `fromSeq` that matches `pred` (at once if one already arrived).
   * For watches it resolves once the watch is registered, so events put afterwards reach it.
   */
  waitForRequest(pred: (r: RecordedRequest) => boolean, fromSeq = 0): Promise<RecordedRequest> {
    return new Promise((resolve) => {
      const check = () => {
        const r = this.requests.find((x) => x.seq >= fromSeq && pred(x));
        if (r) {
          this.requestWaiters.delete(check);
          resolve(r);
          return true;
        }
        return false;
      };
      if (!check()) this.requestWaiters.add(check);
    });
  }

  /** Resolves when a watch request on `ref` with seq ≥ fromSeq has been registered. */
  waitForWatch(ref: ResourceRef, fromSeq = 0): Promise<RecordedRequest> {
    return this.waitForRequest((r) => r.watch && r.path.endsWith(`/${ref.plural}`), fromSeq);
  }

  /** Sequence number the next request will get (use as `fromSeq`). */
  get nextSeq(): number {
    return this.requests.length;
  }

  // ---------------------------------------------------------------- HTTP

  private onRequest(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        this.handle(req, res, Buffer.concat(chunks).toString('utf8'));
      } catch (e) {
        sendStatus(res, 500, 'InternalError', `fake apiserver: ${(e as Error).message}`);
      }
    });
  }

  private record(req: IncomingMessage, raw: string): RecordedRequest {
    const u = new URL(req.url ?? '/', 'http://x');
    let body: any;
    if (raw) {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const watch =
      req.method === 'GET' && (u.searchParams.get('watch') === 'true' || u.searchParams.get('watch') === '1');
    const r: RecordedRequest = {
      seq: this.requests.length,
      method: req.method ?? 'GET',
      path: u.pathname,
      query: u.searchParams,
      headers: req.headers,
      body,
      watch,
    };
    this.requests.push(r);
    return r;
  }

  private notifyRequestWaiters(): void {
    for (const check of [...this.requestWaiters]) check();
  }

  private handle(req: IncomingMessage, res: ServerResponse, raw: string): void {
    const r = this.record(req, raw);
    try {
      this.dispatch(r, res);
    } finally {
      this.notifyRequestWaiters();
    }
  }

  private dispatch(r: RecordedRequest, res: ServerResponse): void {
    const inj = this.injections.find((i) => i.times > 0 && matches(i.m, r));
    if (inj) {
      inj.times--;
      if (inj.r.body !== undefined) {
        res.writeHead(inj.r.status, { 'content-type': 'application/json' });
        res.end(typeof inj.r.body === 'string' ? inj.r.body : JSON.stringify(inj.r.body));
      } else {
        sendStatus(res, inj.r.status, inj.r.reason ?? 'InternalError', inj.r.message ?? 'injected failure');
      }
      return;
    }
    const p = parsePath(r.path);
    if (!p) {
      sendStatus(res, 404, 'NotFound', 'the server could not find the requested resource');
      return;
    }
    if (typeof r.body === 'string') {
      sendStatus(res, 400, 'BadRequest', 'request body is not valid JSON');
      return;
    }
    switch (r.method) {
      case 'GET':
        if (p.name === undefined) {
          if (r.watch) this.serveWatch(p, r, res);
          else this.serveList(p, r, res);
        } else this.serveGet(p, res);
        return;
      case 'POST':
        this.serveCreate(p, r, res);
        return;
      case 'PUT':
        this.serveReplace(p, r, res);
        return;
      case 'PATCH':
        this.servePatch(p, r, res);
        return;
      case 'DELETE':
        this.serveDelete(p, r, res);
        return;
      default:
        sendStatus(res, 405, 'MethodNotAllowed', `method ${r.method} not allowed`);
    }
  }

  private serveGet(p: ParsedPath, res: ServerResponse): void {
    const o = this.collection(p.coll).get(keyFor(p.namespace, p.name!));
    if (!o) {
      notFound(res, p);
      return;
    }
    sendJson(res, 200, o);
  }

  private serveList(p: ParsedPath, r: RecordedRequest, res: ServerResponse): void {
    const script = this.listScripts.get(p.coll)?.shift();
    if (script) {
      sendStatus(res, script.status, script.reason ?? 'InternalError', 'scripted list failure');
      return;
    }
    const cont = r.query.get('continue');
    let snap: { rv: number; items: KubeObject[] } | undefined;
    let offset = 0;
    let id: string;
    if (cont) {
      const [sid, off] = cont.split(':');
      snap = this.snapshots.get(sid);
      if (!snap) {
        sendStatus(
          res,
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result.',
        );
        return;
      }
      id = sid;
      offset = Number(off);
    } else {
      const lsel = r.query.get('labelSelector') ?? undefined;
      const fsel = r.query.get('fieldSelector') ?? undefined;
      let items: KubeObject[];
      try {
        items = this.sortedItems(p.coll, p.namespace).filter((o) => matchSelectors(o, lsel, fsel));
      } catch (e) {
        sendStatus(res, 400, 'BadRequest', (e as Error).message);
        return;
      }
      snap = { rv: this.rv, items: items.map(clone) };
      id = randomUUID();
    }
    const askLimit = Number(r.query.get('limit') ?? 0);
    const limit = Math.min(askLimit > 0 ? askLimit : Infinity, this.pageSize ?? Infinity);
    const page = snap.items.slice(offset, offset + limit);
    const next = offset + page.length;
    const metadata: Record<string, unknown> = { resourceVersion: String(snap.rv) };
    if (next < snap.items.length) {
      this.snapshots.set(id, snap);
      metadata.continue = `${id}:${next}`;
      metadata.remainingItemCount = snap.items.length - next;
    }
    const kind = this.kinds.get(p.coll);
    sendJson(res, 200, {
      kind: `${kind?.kind ?? 'Object'}List`,
      apiVersion: kind?.apiVersion ?? (p.group ? `${p.group}/${p.version}` : p.version),
      metadata,
      items: page,
    });
  }

  private serveWatch(p: ParsedPath, r: RecordedRequest, res: ServerResponse): void {
    const script =
      (p.namespace ? this.watchScripts.get(`${p.coll}|${p.namespace}`)?.shift() : undefined) ??
      this.watchScripts.get(p.coll)?.shift();
    if (script?.kind === 'gone-status') {
      sendStatus(res, 410, 'Expired', 'too old resource version (scripted)');
      return;
    }
    if (script?.kind === 'error-status') {
      sendStatus(res, script.status, script.reason ?? 'InternalError', 'scripted watch failure');
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = {
      coll: p.coll,
      namespace: p.namespace,
      labelSelector: r.query.get('labelSelector') ?? undefined,
      fieldSelector: r.query.get('fieldSelector') ?? undefined,
      bookmarks: r.query.get('allowWatchBookmarks') === 'true',
      res,
      silent: script?.kind === 'silent',
      dropAfter: script?.kind === 'drop-after' ? script.events : undefined,
      sent: 0,
      chain: Promise.resolve(),
      closed: false,
      dead: false,
    };
    this.watchers.add(w);
    res.on('close', () => {
      w.closed = true;
      w.dead = true;
      this.watchers.delete(w);
    });
    if (w.silent) return;
    if (script?.kind === 'malformed') this.sendRaw(w, `${script.line ?? '{"type":"ADDED","object":{"metadata":'}\n`);
    const rvParam = r.query.get('resourceVersion');
    if (script?.kind === 'gone-event') {
      this.sendGone(w, rvParam ?? '');
      return;
    }
    if (!rvParam || rvParam === '0') {
      for (const o of this.sortedItems(p.coll, p.namespace)) {
        if (this.matchesWatcher(w, o)) this.send(w, { type: 'ADDED', object: o });
      }
      return;
    }
    const from = Number(rvParam);
    if (!Number.isFinite(from) || from < this.compactedRv) {
      this.sendGone(w, rvParam);
      return;
    }
    for (const h of this.history) if (h.coll === p.coll && h.rv > from) this.deliver(w, h);
  }

  /** What the real watch cache does for a resourceVersion it no longer has: one ERROR event, then the end. */
  private sendGone(w: Watcher, rvParam: string): void {
    this.send(w, {
      type: 'ERROR',
      object: {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rvParam} (${this.compactedRv})`,
        reason: 'Expired',
        code: 410,
      },
    });
    this.closeWatcher(w, 'end');
  }

  private serveCreate(p: ParsedPath, r: RecordedRequest, res: ServerResponse): void {
    const body = r.body as KubeObject | undefined;
    if (!body || typeof body !== 'object') {
      sendStatus(res, 400, 'BadRequest', 'missing body');
      return;
    }
    if (p.name !== undefined) {
      // POST to a subresource (binding, eviction): accept and record; the object itself is not changed.
      if (!this.collection(p.coll).has(keyFor(p.namespace, p.name))) {
        notFound(res, p);
        return;
      }
      sendJson(res, 201, body);
      return;
    }
    const md = { ...(body.metadata ?? {}) };
    if (!md.name && md.generateName) md.name = md.generateName + randomUUID().slice(0, 5);
    if (!md.name) {
      sendStatus(res, 422, 'Invalid', 'metadata.name: Required value: name or generateName is required');
      return;
    }
    if (p.namespace) md.namespace = p.namespace;
    const key = keyFor(p.namespace, md.name);
    if (this.collection(p.coll).has(key)) {
      sendStatus(res, 409, 'AlreadyExists', `${resourceName(p)} "${md.name}" already exists`);
      return;
    }
    const stored = this.stamp(p.coll, { ...body, metadata: md }, undefined);
    this.commit(p.coll, key, 'ADDED', stored, undefined);
    sendJson(res, 201, stored);
  }

  private serveReplace(p: ParsedPath, r: RecordedRequest, res: ServerResponse): void {
    const body = r.body as KubeObject | undefined;
    if (!body || typeof body !== 'object' || p.name === undefined) {
      sendStatus(res, 400, 'BadRequest', 'PUT needs an object name and a body');
      return;
    }
    if (body.metadata?.name !== p.name) {
      sendStatus(res, 400, 'BadRequest', 'name in body does not match URL');
      return;
    }
    const key = keyFor(p.namespace, p.name);
    const old = this.collection(p.coll).get(key);
    if (!old) {
      notFound(res, p);
      return;
    }
    const wantRv = body.metadata?.resourceVersion;
    if (wantRv && wantRv !== old.metadata?.resourceVersion) {
      conflict(res, p);
      return;
    }
    let next: KubeObject = { ...body, metadata: { ...body.metadata, namespace: old.metadata?.namespace } };
    if (p.subresource === 'status') next = { ...old, status: (body as { status?: unknown }).status } as KubeObject;
    this.writeUpdate(p, key, old, next, res);
  }

  private servePatch(p: ParsedPath, r: RecordedRequest, res: ServerResponse): void {
    if (p.name === undefined) {
      sendStatus(res, 405, 'MethodNotAllowed', 'PATCH needs an object name');
      return;
    }
    const ct = String(r.headers['content-type'] ?? '')
      .split(';')[0]
      .trim();
    const key = keyFor(p.namespace, p.name);
    const old = this.collection(p.coll).get(key);
    if (ct === 'application/apply-patch+yaml') {
      if (!r.query.get('fieldManager')) {
        sendStatus(res, 400, 'BadRequest', 'fieldManager is required for apply');
        return;
      }
      if (!old) {
        const md = { ...(r.body?.metadata ?? {}), name: p.name, namespace: p.namespace };
        const stored = this.stamp(p.coll, { ...r.body, metadata: md }, undefined);
        this.commit(p.coll, key, 'ADDED', stored, undefined);
        sendJson(res, 201, stored);
        return;
      }
    }
    if (!old) {
      notFound(res, p);
      return;
    }
    let next: KubeObject;
    try {
      if (ct === 'application/json-patch+json') next = applyJsonPatch(clone(old), r.body);
      else if (
        ct === 'application/merge-patch+json' ||
        ct === 'application/strategic-merge-patch+json' ||
        ct === 'application/apply-patch+yaml'
      ) {
        const patchRv = r.body?.metadata?.resourceVersion;
        if (patchRv && patchRv !== old.metadata?.resourceVersion) {
          conflict(res, p);
          return;
        }
        next = mergePatch(clone(old), r.body) as KubeObject;
      } else {
        sendStatus(res, 415, 'UnsupportedMediaType', `the body of the request was in an unknown format: ${ct}`);
        return;
      }
    } catch (e) {
      sendStatus(res, 422, 'Invalid', (e as Error).message);
      return;
    }
    if (p.subresource === 'status') next = { ...old, status: (next as { status?: unknown }).status } as KubeObject;
    this.writeUpdate(p, key, old, next, res);
  }

  private serveDelete(p: ParsedPath, r: RecordedRequest, res: ServerResponse): void {
    if (p.name === undefined) {
      sendStatus(res, 405, 'MethodNotAllowed', 'collection delete is not supported');
      return;
    }
    const key = keyFor(p.namespace, p.name);
    const old = this.collection(p.coll).get(key);
    if (!old) {
      notFound(res, p);
      return;
    }
    const pre = r.body?.preconditions;
    if (
      (pre?.resourceVersion && pre.resourceVersion !== old.metadata?.resourceVersion) ||
      (pre?.uid && pre.uid !== old.metadata?.uid)
    ) {
      conflict(res, p);
      return;
    }
    const gone = this.deleteStored(p.coll, key, old);
    sendJson(res, 200, gone);
  }

  // ---------------------------------------------------------------- internals

  private writeUpdate(p: ParsedPath, key: string, old: KubeObject, next: KubeObject, res: ServerResponse): void {
    const candidate = this.stamp(p.coll, next, old, false);
    if (sameIgnoringRv(candidate, old)) {
      sendJson(res, 200, old); // no-op writes do not bump the RV
      return;
    }
    const stored = this.stamp(p.coll, next, old);
    this.commit(p.coll, key, 'MODIFIED', stored, old);
    sendJson(res, 200, stored);
  }

  /** Fills server-owned metadata; with bump=false it does not consume a resourceVersion (used for no-op checks). */
  private stamp(coll: string, obj: KubeObject, old: KubeObject | undefined, bump = true): KubeObject {
    const kind = this.kinds.get(coll);
    const md = { ...(obj.metadata ?? {}) };
    md.uid = old?.metadata?.uid ?? md.uid ?? randomUUID();
    md.creationTimestamp = old?.metadata?.creationTimestamp ?? md.creationTimestamp ?? new Date().toISOString();
    md.resourceVersion = bump ? String(++this.rv) : old?.metadata?.resourceVersion;
    return {
      ...obj,
      kind: obj.kind ?? kind?.kind,
      apiVersion: obj.apiVersion ?? kind?.apiVersion,
      metadata: md,
    };
  }

  private commit(coll: string, key: string, type: 'ADDED' | 'MODIFIED', obj: KubeObject, old?: KubeObject): void {
    if (obj.kind && obj.apiVersion && !this.kinds.has(coll)) {
      this.kinds.set(coll, { kind: obj.kind, apiVersion: obj.apiVersion });
    }
    this.collection(coll).set(key, obj);
    this.publish({ rv: this.rv, coll, type, object: obj, old });
  }

  private deleteStored(coll: string, key: string, old: KubeObject): KubeObject {
    this.collection(coll).delete(key);
    const gone = { ...old, metadata: { ...old.metadata, resourceVersion: String(++this.rv) } };
    this.publish({ rv: this.rv, coll, type: 'DELETED', object: gone });
    return gone;
  }

  private publish(h: HistoryEntry): void {
    this.history.push(h);
    for (const w of this.watchers) if (w.coll === h.coll && !w.silent) this.deliver(w, h);
  }

  /** Sends one history entry to one watcher, applying the selector-transition rules of the watch cache. */
  private deliver(w: Watcher, h: HistoryEntry): void {
    const now = this.matchesWatcher(w, h.object);
    if (h.type === 'MODIFIED' && h.old) {
      const before = this.matchesWatcher(w, h.old);
      if (before && now) this.send(w, { type: 'MODIFIED', object: h.object });
      else if (now) this.send(w, { type: 'ADDED', object: h.object });
      else if (before) this.send(w, { type: 'DELETED', object: h.object });
      return;
    }
    if (now) this.send(w, { type: h.type, object: h.object });
  }

  private matchesWatcher(w: Watcher, o: KubeObject): boolean {
    if (w.namespace && o.metadata?.namespace !== w.namespace) return false;
    try {
      return matchSelectors(o, w.labelSelector, w.fieldSelector);
    } catch {
      return false;
    }
  }

  private send(w: Watcher, ev: { type: string; object: unknown }): void {
    if (w.closed) return;
    this.sendRaw(w, `${JSON.stringify(ev)}\n`);
    w.sent++;
    if (w.dropAfter !== undefined && w.sent >= w.dropAfter) this.closeWatcher(w, 'destroy');
  }

  private sendRaw(w: Watcher, line: string): void {
    if (w.closed) return;
    if (!this.splitWrites) {
      w.res.write(line);
      return;
    }
    // Split into three pieces at byte offsets that may fall inside a JSON token or a UTF-8 character, and let the
    // event loop turn between writes so they leave in separate TCP segments.
    const buf = Buffer.from(line, 'utf8');
    const cuts = [Math.floor(buf.length / 3), Math.floor((2 * buf.length) / 3) + 1].filter(
      (c) => c > 0 && c < buf.length,
    );
    const pieces: Buffer[] = [];
    let at = 0;
    for (const c of cuts) {
      pieces.push(buf.subarray(at, c));
      at = c;
    }
    pieces.push(buf.subarray(at));
    for (const piece of pieces) {
      w.chain = w.chain.then(
        () =>
          new Promise<void>((resolve) => {
            if (w.dead) return resolve();
            w.res.write(piece, () => setImmediate(resolve));
          }),
      );
    }
  }

  private closeMatching(ref: ResourceRef | undefined, how: 'end' | 'destroy'): number {
    let n = 0;
    for (const w of [...this.watchers]) {
      if (w.closed || (ref && w.coll !== collOf(ref))) continue;
      this.closeWatcher(w, how);
      n++;
    }
    return n;
  }

  private closeWatcher(w: Watcher, how: 'end' | 'destroy'): void {
    if (w.closed) return;
    w.closed = true;
    this.watchers.delete(w);
    // Wait for split writes already queued so an "end" really ends after them.
    void w.chain.then(() => {
      if (how === 'end') w.res.end();
      else w.res.socket?.destroy();
    });
  }

  private collection(coll: string): Map<string, KubeObject> {
    let m = this.objects.get(coll);
    if (!m) {
      m = new Map();
      this.objects.set(coll, m);
    }
    return m;
  }

  private sortedItems(coll: string, namespace?: string): KubeObject[] {
    return [...this.collection(coll).entries()]
      .filter(([, o]) => !namespace || o.metadata?.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, o]) => o);
  }
}

// ------------------------------------------------------------------ helpers

function keyFor(namespace: string | undefined, name: string): string {
  return `${namespace ?? ''}/${name}`;
}

function parsePath(path: string): ParsedPath | undefined {
  const s = path.split('/').filter(Boolean).map(decodeURIComponent);
  let group: string;
  let version: string;
  let rest: string[];
  if (s[0] === 'api' && s.length >= 3) {
    group = '';
    version = s[1];
    rest = s.slice(2);
  } else if (s[0] === 'apis' && s.length >= 4) {
    group = s[1];
    version = s[2];
    rest = s.slice(3);
  } else return undefined;
  let namespace: string | undefined;
  if (rest[0] === 'namespaces' && rest.length >= 3) {
    namespace = rest[1];
    rest = rest.slice(2);
  }
  const [plural, name, subresource] = rest;
  if (!plural || rest.length > 3) return undefined;
  return { coll: `${group}|${plural}`, group, version, plural, namespace, name, subresource };
}

function matches(m: RequestMatcher, r: RecordedRequest): boolean {
  if (m.method && m.method !== r.method) return false;
  if (m.watch !== undefined && m.watch !== r.watch) return false;
  if (typeof m.path === 'string' && !r.path.includes(m.path)) return false;
  if (m.path instanceof RegExp && !m.path.test(r.path)) return false;
  return true;
}

function resourceName(p: ParsedPath): string {
  return p.group ? `${p.plural}.${p.group}` : p.plural;
}

function notFound(res: ServerResponse, p: ParsedPath): void {
  sendStatus(res, 404, 'NotFound', `${resourceName(p)} "${p.name}" not found`, { name: p.name, kind: p.plural });
}

function conflict(res: ServerResponse, p: ParsedPath): void {
  sendStatus(
    res,
    409,
    'Conflict',
    `Operation cannot be fulfilled on ${resourceName(p)} "${p.name}": the object has been modified; please apply your changes to the latest version and try again`,
    { name: p.name, kind: p.plural },
  );
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const s = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(s) });
  res.end(s);
}

function sendStatus(res: ServerResponse, code: number, reason: string, message: string, details?: unknown): void {
  sendJson(res, code, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message,
    reason,
    details,
    code,
  });
}

function sameIgnoringRv(a: KubeObject, b: KubeObject): boolean {
  const strip = (o: KubeObject) => JSON.stringify(sortKeys({ ...o, metadata: { ...o.metadata, resourceVersion: '' } }));
  return strip(a) === strip(b);
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') {
    return Object.fromEntries(
      Object.keys(v)
        .sort()
        .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
    );
  }
  return v;
}

/** RFC 7386 JSON merge patch. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    typeof target === 'object' && target !== null && !Array.isArray(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

/** The RFC 6902 operations tests need: add, remove, replace, test. */
function applyJsonPatch(doc: KubeObject, ops: unknown): KubeObject {
  if (!Array.isArray(ops)) throw new Error('json patch must be an array');
  let root: any = doc;
  for (const op of ops as { op: string; path: string; value?: unknown }[]) {
    const parts = op.path
      .split('/')
      .slice(1)
      .map((x) => x.replace(/~1/g, '/').replace(/~0/g, '~'));
    if (parts.length === 0) {
      if (op.op === 'replace' || op.op === 'add') root = op.value;
      continue;
    }
    let parent: any = root;
    for (const k of parts.slice(0, -1)) {
      parent = parent?.[k];
      if (parent === undefined) throw new Error(`json patch: path ${op.path} does not exist`);
    }
    const last = parts[parts.length - 1];
    switch (op.op) {
      case 'add':
        if (Array.isArray(parent)) parent.splice(last === '-' ? parent.length : Number(last), 0, op.value);
        else parent[last] = op.value;
        break;
      case 'replace':
        if (!(last in parent)) throw new Error(`json patch: path ${op.path} does not exist`);
        parent[last] = op.value;
        break;
      case 'remove':
        if (!(last in parent)) throw new Error(`json patch: path ${op.path} does not exist`);
        if (Array.isArray(parent)) parent.splice(Number(last), 1);
        else delete parent[last];
        break;
      case 'test':
        if (JSON.stringify(parent[last]) !== JSON.stringify(op.value))
          throw new Error(`json patch: test failed at ${op.path}`);
        break;
      default:
        throw new Error(`json patch: unsupported op ${op.op}`);
    }
  }
  return root as KubeObject;
}

/** Equality-based label selectors (k=v, k==v, k!=v, k, !k, k in (a,b), k notin (a,b)) and field selectors (=, !=). */
export function matchSelectors(o: KubeObject, labelSelector?: string, fieldSelector?: string): boolean {
  const labels = o.metadata?.labels ?? {};
  for (const term of splitSelector(labelSelector)) {
    const setTerm = term.match(/^([^\s!=]+)\s+(in|notin)\s+\(([^)]*)\)$/);
    const eqTerm = term.match(/^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/);
    const notTerm = term.match(/^!\s*([^\s!=]+)$/);
    if (setTerm) {
      const m = setTerm;
      const set = m[3].split(',').map((x) => x.trim());
      const has = m[1] in labels && set.includes(labels[m[1]]);
      if (m[2] === 'in' ? !has : has) return false;
    } else if (eqTerm) {
      const m = eqTerm;
      const v = labels[m[1]];
      if (m[2] === '!=' ? v === m[3].trim() : v !== m[3].trim()) return false;
    } else if (notTerm) {
      const m = notTerm;
      if (m[1] in labels) return false;
    } else if (/^[^\s!=(),]+$/.test(term)) {
      if (!(term in labels)) return false;
    } else throw new Error(`unable to parse requirement: ${term}`);
  }
  for (const term of splitSelector(fieldSelector)) {
    const m = term.match(/^([^\s!=]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw new Error(`invalid field selector: ${term}`);
    let v: unknown = o;
    for (const k of m[1].split('.')) v = (v as Record<string, unknown> | undefined)?.[k];
    const s = v === undefined || v === null ? '' : String(v);
    if (m[2] === '!=' ? s === m[3].trim() : s !== m[3].trim()) return false;
  }
  return true;
}

function splitSelector(s: string | undefined): string[] {
  if (!s) return [];
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}
