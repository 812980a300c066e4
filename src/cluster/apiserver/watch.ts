// The watch endpoint: newline-delimited JSON events from a resourceVersion (history replay, then
// live fan-out), selector transitions, bookmarks, timeouts and the 410 Expired error event.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { ApiCore } from './core.js';
import type { Representation } from './http.js';
import { type IncludeObject, partialBody, tableBody } from './render.js';
import { type FieldSelector, type LabelSelector, matchFields, matchLabels } from './selectors.js';
import type { StoreEvent, StoreWatcher } from './store.js';
import { groupVersion, type ResourceType } from './types.js';
import type { Obj } from './util.js';

export interface WatchParams {
  t: ResourceType;
  version: string;
  namespace?: string;
  label: LabelSelector;
  field: FieldSelector;
  resourceVersion?: string;
  allowBookmarks: boolean;
  sendInitialEvents: boolean;
  timeoutSeconds?: number;
  repr: Representation;
  include: IncludeObject;
  bookmarkIntervalMs: number;
}

/** Slow consumers beyond this much unsent data are disconnected (they re-watch from their RV). */
const MAX_BUFFERED = 32 * 1024 * 1024;

export function serveWatch(
  core: ApiCore,
  req: IncomingMessage,
  res: ServerResponse,
  p: WatchParams,
  onClose: (fn: () => void) => void,
): void {
  const { t } = p;
  const store = core.store;
  const rk = core.rk(t);
  const getters = t.strategy.fieldGetters;
  const matches = (o: Obj | undefined): boolean =>
    !!o &&
    (p.namespace === undefined || !t.namespaced || o.metadata.namespace === p.namespace) &&
    matchLabels(p.label, o.metadata.labels) &&
    matchFields(p.field, o, getters);

  res.writeHead(200, {
    'Content-Type': 'application/json',
    'Cache-Control': 'no-cache, private',
    'Transfer-Encoding': 'chunked',
  });
  res.flushHeaders();

  let closed = false;
  let headersSent = false;
  const render = (o: Obj): Obj => {
    if (p.repr.as === 'table') {
      const tb = tableBody(
        core,
        t,
        p.version,
        [o],
        {},
        { include: p.include, tableVersion: p.repr.version, noHeaders: headersSent },
      );
      headersSent = true;
      return tb;
    }
    if (p.repr.as === 'partial') return partialBody(t, o, p.repr.version);
    return core.serve(t, p.version, o);
  };
  const write = (type: string, object: Obj) => {
    if (closed) return;
    send(`${JSON.stringify({ type, object })}\n`);
  };
  // Events that arrive in the same tick (a burst of writes, a history replay) leave in one socket write.
  let corked = false;
  const send = (line: string) => {
    if (!corked) {
      corked = true;
      res.cork();
      setImmediate(() => {
        corked = false;
        if (!closed) res.uncork();
      });
    }
    res.write(line);
    if (res.writableLength > MAX_BUFFERED) finish();
  };
  /** Plain JSON events are serialised once per (event, type, version) and shared by all watchers. */
  const emit = (type: string, ev: StoreEvent) => {
    if (closed) return;
    if (p.repr.as !== 'json') {
      write(type, render(ev.obj));
      return;
    }
    const key = `${type}|${p.version}`;
    ev.lines ??= new Map();
    let line = ev.lines.get(key);
    if (line === undefined) {
      line = `${JSON.stringify({ type, object: core.serve(t, p.version, ev.obj) })}\n`;
      ev.lines.set(key, line);
    }
    send(line);
  };
  const bookmark = (annotations?: Record<string, string>) => {
    const metadata: Obj = { resourceVersion: String(Math.max(lastSent, store.deliveredRV)) };
    if (annotations) metadata.annotations = annotations;
    write('BOOKMARK', { kind: t.kind, apiVersion: groupVersion(t.group, p.version), metadata });
  };

  let lastSent = 0;
  let replaying = true;
  const queued: StoreEvent[] = [];
  const handle = (ev: StoreEvent) => {
    if (ev.rv <= lastSent) return;
    lastSent = ev.rv;
    if (ev.type === 'ADDED') {
      if (matches(ev.obj)) emit('ADDED', ev);
    } else if (ev.type === 'DELETED') {
      if (matches(ev.obj)) emit('DELETED', ev);
    } else {
      const now = matches(ev.obj);
      const before = matches(ev.old);
      if (now && before) emit('MODIFIED', ev);
      else if (now) emit('ADDED', ev);
      else if (before) emit('DELETED', ev);
    }
  };
  const watcher: StoreWatcher = {
    onEvent(ev) {
      if (replaying) queued.push(ev);
      else handle(ev);
    },
  };
  const timers: NodeJS.Timeout[] = [];
  const finish = () => {
    if (closed) return;
    closed = true;
    store.removeWatcher(rk, watcher);
    for (const tm of timers) clearTimeout(tm);
    res.end();
  };
  store.addWatcher(rk, watcher);
  req.on('close', finish);
  res.on('close', finish);
  onClose(finish);

  const initial = (): void => {
    for (const o of store.list(rk, t.namespaced ? p.namespace : undefined)) if (matches(o)) write('ADDED', render(o));
    lastSent = store.rv;
  };
  const rv = p.resourceVersion;
  if (p.sendInitialEvents) {
    initial();
    bookmark({ 'k8s.io/initial-events-end': 'true' });
  } else if (rv === undefined || rv === '' || rv === '0') {
    initial();
  } else {
    const n = Number(rv);
    const hist = store.historySince(rk, n);
    if (hist === 'expired') {
      write('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${n} (${store.oldestRV(rk)})`,
        reason: 'Expired',
        code: 410,
      });
      finish();
      return;
    }
    lastSent = n;
    for (const ev of hist) handle(ev);
  }
  replaying = false;
  for (const ev of queued.splice(0)) handle(ev);

  const timeoutMs =
    p.timeoutSeconds !== undefined ? p.timeoutSeconds * 1000 : (1800 + Math.floor(Math.random() * 1800)) * 1000;
  timers.push(
    setTimeout(() => {
      if (p.allowBookmarks) bookmark();
      finish();
    }, timeoutMs),
  );
  if (p.allowBookmarks) {
    const tick = () => {
      bookmark();
      timers.push(setTimeout(tick, p.bookmarkIntervalMs));
    };
    timers.push(setTimeout(tick, p.bookmarkIntervalMs));
  }
}
