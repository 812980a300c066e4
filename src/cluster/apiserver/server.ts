// The HTTP front of the local API server: URL routing (§2), discovery, OpenAPI, and the verbs of
// every served resource, mapped onto ApiCore. Errors are always Kubernetes Status objects.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiCore, type DeleteOpts, type WriteOpts } from './core.js';
import {
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  openApiGroupVersion,
  openApiIndex,
} from './discovery.js';
import { Evictions } from './disruption.js';
import { errors } from './errors.js';
import {
  decodeBody,
  managerFromUserAgent,
  negotiate,
  type Representation,
  readBody,
  readBodyBuffer,
  sendError,
  sendJson,
  sendText,
} from './http.js';
import { serveLogs } from './logs.js';
import type { Registry } from './registry.js';
import { type IncludeObject, listBody, partialBody, partialListBody, tableBody } from './render.js';
import { parseFieldSelector, parseLabelSelector } from './selectors.js';
import { groupVersion, type ResourceType } from './types.js';
import { isObject, type Obj } from './util.js';
import { serveWatch } from './watch.js';

export interface HandlerOptions {
  logDir: string;
  bookmarkIntervalMs: number;
  serverAddress: () => string;
  logPollMs?: number;
}

export const VERSION_INFO = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.0-localcp',
  gitCommit: '0000000000000000000000000000000000000000',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'go1.23.0',
  compiler: 'gc',
  platform: 'linux/amd64',
};

interface Target {
  t: ResourceType;
  version: string;
  namespace?: string;
  name?: string;
  sub?: string;
}

function boolParam(q: URLSearchParams, name: string): boolean {
  const v = q.get(name);
  if (v === null || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw errors.badRequest(`invalid value for ${name}: ${v}`);
}

function intParam(q: URLSearchParams, name: string): number | undefined {
  const v = q.get(name);
  if (v === null || v === '') return undefined;
  if (!/^-?\d+$/.test(v)) throw errors.badRequest(`invalid value for ${name}: ${v}: must be an integer`);
  return Number(v);
}

export class ApiHandler {
  private readonly watchClosers = new Set<() => void>();
  /** pods/eviction against PodDisruptionBudgets (disruption.ts) */
  private readonly evictions: Evictions;

  constructor(
    readonly core: ApiCore,
    readonly registry: Registry,
    readonly opts: HandlerOptions,
  ) {
    this.evictions = new Evictions(core);
  }

  /** Ends every open watch (server shutdown). */
  closeWatches(): void {
    for (const c of [...this.watchClosers]) c();
  }

  handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((e: unknown) => sendError(res, e));
  };

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    const method = req.method ?? 'GET';
    if (path === '/version') return sendJson(res, 200, VERSION_INFO);
    if (path === '/healthz' || path === '/livez' || path === '/readyz') return sendText(res, 200, 'ok');
    if (path === '/openapi/v3') return sendJson(res, 200, openApiIndex(this.registry));
    if (path.startsWith('/openapi/v3/')) {
      const rest = path.slice('/openapi/v3/'.length).split('/');
      const doc =
        rest[0] === 'api' && rest.length === 2
          ? openApiGroupVersion(this.registry, '', rest[1])
          : rest[0] === 'apis' && rest.length === 3
            ? openApiGroupVersion(this.registry, rest[1], rest[2])
            : undefined;
      if (!doc) throw errors.noResource();
      return sendJson(res, 200, doc);
    }
    const segs = path.split('/').filter(Boolean);
    if (segs[0] !== 'api' && segs[0] !== 'apis') throw errors.noResource();
    if (method !== 'GET' && segs.length <= (segs[0] === 'api' ? 2 : 3)) throw errors.methodNotAllowed();
    let group: string;
    let version: string;
    let rest: string[];
    if (segs[0] === 'api') {
      if (segs.length === 1) return sendJson(res, 200, apiVersions(this.opts.serverAddress()));
      group = '';
      version = segs[1];
      rest = segs.slice(2);
    } else {
      if (segs.length === 1) return sendJson(res, 200, apiGroupList(this.registry));
      group = segs[1];
      if (segs.length === 2) {
        const g = apiGroup(this.registry, group);
        if (!g) throw errors.noResource();
        return sendJson(res, 200, g);
      }
      version = segs[2];
      rest = segs.slice(3);
    }
    if (rest.length === 0) {
      const doc = apiResourceList(this.registry, group, version);
      if (!doc) throw errors.noResource();
      return sendJson(res, 200, doc);
    }
    const target = this.resolve(group, version, rest);
    return this.dispatch(req, res, url.searchParams, method, target);
  }

  private resolve(group: string, version: string, rest: string[]): Target {
    let ns: string | undefined;
    let parts = rest;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const inner = this.registry.lookup(group, version, rest[2]);
      if (inner?.namespaced) {
        ns = rest[1];
        parts = rest.slice(2);
      }
    }
    if (parts.length > 3) throw errors.noResource();
    const [plural, name, sub] = parts;
    const t = this.registry.lookup(group, version, plural);
    if (!t) throw errors.noResource();
    if (t.namespaced && ns === undefined && name !== undefined) throw errors.noResource();
    if (!t.namespaced && ns !== undefined) throw errors.noResource();
    return { t, version, namespace: ns, name: name === undefined ? undefined : decodeURIComponent(name), sub };
  }

  private writeOpts(req: IncomingMessage, q: URLSearchParams): WriteOpts {
    const dryRun = q.getAll('dryRun');
    for (const d of dryRun) if (d !== 'All') throw errors.badRequest(`Invalid value: "${d}": supported values: "All"`);
    const fv = q.get('fieldValidation') ?? undefined;
    if (fv !== undefined && !['Strict', 'Warn', 'Ignore'].includes(fv))
      throw errors.badRequest(`fieldValidation must be one of "Ignore", "Warn", or "Strict", got "${fv}"`);
    const fm = q.get('fieldManager') ?? undefined;
    if (fm !== undefined && (fm.length > 128 || /[^\x20-\x7e]/.test(fm)))
      throw errors.badRequest('fieldManager must be at most 128 printable characters');
    return {
      dryRun: dryRun.length > 0,
      fieldManager: fm,
      defaultManager: managerFromUserAgent(req.headers['user-agent']),
      fieldValidation: fv,
      force: boolParam(q, 'force'),
      warnings: [],
    };
  }

  private include(q: URLSearchParams): IncludeObject {
    const v = q.get('includeObject') ?? 'Metadata';
    if (v !== 'None' && v !== 'Metadata' && v !== 'Object')
      throw errors.badRequest(`includeObject: unsupported value ${v}`);
    return v;
  }

  private respondObject(
    res: ServerResponse,
    code: number,
    target: Target,
    obj: Obj,
    repr: Representation,
    q: URLSearchParams,
    warnings?: string[],
  ): void {
    const { t, version } = target;
    if (repr.as === 'table') {
      const tb = tableBody(
        this.core,
        t,
        version,
        [obj],
        { resourceVersion: obj.metadata.resourceVersion },
        {
          include: this.include(q),
          tableVersion: repr.version,
        },
      );
      sendJson(res, code, tb, warnings);
    } else if (repr.as === 'partial') sendJson(res, code, partialBody(t, obj, repr.version), warnings);
    else sendJson(res, code, this.core.serve(t, version, obj), warnings);
  }

  private async waitForRV(q: URLSearchParams): Promise<void> {
    const rv = q.get('resourceVersion');
    if (rv === null || rv === '' || rv === '0') return;
    if (!/^\d+$/.test(rv)) throw errors.badRequest(`invalid resource version: ${rv}`);
    const n = Number(rv);
    if (n <= this.core.store.deliveredRV) return;
    if (!(await this.core.store.waitForRV(n, 3000)))
      throw errors.timeout(`Too large resource version: ${n}, current: ${this.core.store.rv}`);
  }

  private async dispatch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    method: string,
    target: Target,
  ): Promise<void> {
    const { t, version, namespace: ns, name, sub } = target;
    const core = this.core;
    if (t.crd?.deprecated[version]) res.setHeader('Warning', `299 - ${JSON.stringify(t.crd.deprecated[version])}`);
    if (name === undefined) {
      if (method === 'GET') return this.listOrWatch(req, res, q, target);
      if (method === 'POST') {
        if (!t.builtin && this.crdTerminating(t)) throw errors.methodNotAllowed();
        const repr = negotiate(req.headers.accept);
        const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
        const wo = this.writeOpts(req, q);
        const obj = await core.create(t, version, ns, body, wo);
        return this.respondObject(res, 201, target, obj, repr, q, wo.warnings);
      }
      if (method === 'DELETE') {
        const dopts = await this.deleteOpts(req, q);
        const label = parseLabelSelector(q.get('labelSelector'));
        const field = parseFieldSelector(q.get('fieldSelector'), t.strategy.fieldGetters);
        const items = await core.deleteCollection(t, ns, { label, field }, dopts);
        return sendJson(res, 200, listBody(core, t, version, items, { resourceVersion: String(core.store.rv) }));
      }
      throw errors.methodNotAllowed();
    }
    if (sub === undefined) {
      const repr = negotiate(req.headers.accept);
      switch (method) {
        case 'GET': {
          await this.waitForRV(q);
          return this.respondObject(res, 200, target, core.get(t, ns, name), repr, q);
        }
        case 'PUT': {
          const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
          const wo = this.writeOpts(req, q);
          const obj = await core.update(t, version, ns, name, body, wo);
          return this.respondObject(res, 200, target, obj, repr, q, wo.warnings);
        }
        case 'PATCH': {
          const raw = await readBody(req);
          const wo = this.writeOpts(req, q);
          if (!t.builtin && this.crdTerminating(t) && !core.tryGet(t, ns, name)) throw errors.methodNotAllowed();
          const { obj, created } = await core.patch(t, version, ns, name, req.headers['content-type'] ?? '', raw, wo);
          return this.respondObject(res, created ? 201 : 200, target, obj, repr, q, wo.warnings);
        }
        case 'DELETE': {
          const dopts = await this.deleteOpts(req, q);
          const { obj, deleted } = await core.delete(t, ns, name, dopts);
          if (deleted && !t.strategy.returnDeletedObject) {
            const details: Obj = { name: obj.metadata.name };
            if (t.group) details.group = t.group;
            details.kind = t.plural;
            details.uid = obj.metadata.uid;
            return sendJson(res, 200, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details });
          }
          return sendJson(res, 200, core.serve(t, version, obj));
        }
        default:
          throw errors.methodNotAllowed();
      }
    }
    if (sub === 'status' && t.status) {
      const repr = negotiate(req.headers.accept);
      if (method === 'GET') return this.respondObject(res, 200, target, core.get(t, ns, name), repr, q);
      if (method === 'PUT') {
        const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
        const wo = this.writeOpts(req, q);
        const obj = await core.update(t, version, ns, name, body, wo, 'status');
        return this.respondObject(res, 200, target, obj, repr, q, wo.warnings);
      }
      if (method === 'PATCH') {
        const raw = await readBody(req);
        const wo = this.writeOpts(req, q);
        const { obj } = await core.patch(t, version, ns, name, req.headers['content-type'] ?? '', raw, wo, 'status');
        return this.respondObject(res, 200, target, obj, repr, q, wo.warnings);
      }
      throw errors.methodNotAllowed();
    }
    if (sub === 'scale' && t.scale) {
      if (method === 'GET') return sendJson(res, 200, core.scaleOf(t, core.get(t, ns, name)));
      if (method === 'PUT') {
        const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
        return sendJson(res, 200, await core.updateScale(t, version, ns, name, body, this.writeOpts(req, q)));
      }
      if (method === 'PATCH') {
        const raw = await readBody(req);
        return sendJson(
          res,
          200,
          await core.patchScale(t, version, ns, name, req.headers['content-type'] ?? '', raw, this.writeOpts(req, q)),
        );
      }
      throw errors.methodNotAllowed();
    }
    if (t.builtin && t.group === '' && t.plural === 'pods' && sub === 'binding') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
      await core.bind(t, ns!, name, body);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (t.builtin && t.group === '' && t.plural === 'pods' && sub === 'eviction') {
      if (method !== 'POST') throw errors.methodNotAllowed();
      const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
      await this.evictions.evict(t, ns!, name, body);
      return sendJson(res, 201, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', code: 201 });
    }
    if (t.builtin && t.group === '' && t.plural === 'pods' && sub === 'log') {
      if (method !== 'GET') throw errors.methodNotAllowed();
      const tail = intParam(q, 'tailLines');
      const limit = intParam(q, 'limitBytes');
      if (tail !== undefined && tail < 0) throw errors.badRequest('tailLines must be greater than or equal to 0');
      if (limit !== undefined && limit < 1) throw errors.badRequest('limitBytes must be greater than 0');
      return serveLogs(
        core,
        t,
        this.opts.logDir,
        ns!,
        name,
        {
          container: q.get('container') ?? undefined,
          follow: boolParam(q, 'follow'),
          tailLines: tail,
          limitBytes: limit,
          previous: boolParam(q, 'previous'),
          pollMs: this.opts.logPollMs,
        },
        req,
        res,
      );
    }
    if (t.builtin && t.group === '' && t.plural === 'namespaces' && sub === 'finalize') {
      if (method !== 'PUT') throw errors.methodNotAllowed();
      const body = decodeBody(await readBodyBuffer(req), req.headers['content-type']);
      return sendJson(res, 200, core.serve(t, version, await core.finalizeNamespace(t, name, body)));
    }
    throw errors.noResource();
  }

  private crdTerminating(t: ResourceType): boolean {
    const crd = t.crd
      ? this.core.store.get('apiextensions.k8s.io/customresourcedefinitions', `/${t.crd.name}`)
      : undefined;
    return !!crd?.metadata.deletionTimestamp;
  }

  private async deleteOpts(req: IncomingMessage, q: URLSearchParams): Promise<DeleteOpts> {
    const raw = await readBody(req);
    let body: Obj = {};
    if (raw.trim()) {
      const parsed = decodeBody(raw, req.headers['content-type']);
      if (!isObject(parsed)) throw errors.badRequest('DeleteOptions must be an object');
      body = parsed;
    }
    const o: DeleteOpts = {};
    const grace = intParam(q, 'gracePeriodSeconds') ?? body.gracePeriodSeconds;
    if (grace !== undefined && grace !== null) {
      if (!Number.isInteger(grace)) throw errors.badRequest('gracePeriodSeconds must be an integer');
      o.gracePeriodSeconds = grace;
    }
    const pp = q.get('propagationPolicy') ?? body.propagationPolicy;
    if (pp) o.propagationPolicy = String(pp);
    const od = q.get('orphanDependents');
    if (od !== null) o.orphanDependents = od === 'true';
    else if (typeof body.orphanDependents === 'boolean') o.orphanDependents = body.orphanDependents;
    if (isObject(body.preconditions)) o.preconditions = body.preconditions;
    const dry = [...q.getAll('dryRun'), ...(Array.isArray(body.dryRun) ? body.dryRun : [])];
    for (const d of dry)
      if (d !== 'All') throw errors.badRequest(`Invalid value: "${String(d)}": supported values: "All"`);
    o.dryRun = dry.length > 0;
    return o;
  }

  private async listOrWatch(
    req: IncomingMessage,
    res: ServerResponse,
    q: URLSearchParams,
    target: Target,
  ): Promise<void> {
    const { t, version, namespace: ns } = target;
    const repr = negotiate(req.headers.accept);
    const label = parseLabelSelector(q.get('labelSelector'));
    const field = parseFieldSelector(q.get('fieldSelector'), t.strategy.fieldGetters);
    const rv = q.get('resourceVersion') ?? undefined;
    const rvMatch = q.get('resourceVersionMatch') ?? undefined;
    if (rvMatch !== undefined && rvMatch !== '') {
      if (!['NotOlderThan', 'Exact'].includes(rvMatch))
        throw errors.invalid('ListOptions', 'meta.k8s.io', '', [
          {
            reason: 'FieldValueNotSupported',
            field: 'resourceVersionMatch',
            message: `Unsupported value: "${rvMatch}"`,
          },
        ]);
      if (!rv)
        throw errors.invalid('ListOptions', 'meta.k8s.io', '', [
          {
            reason: 'FieldValueForbidden',
            field: 'resourceVersionMatch',
            message: 'Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided',
          },
        ]);
    }
    if (rv !== undefined && rv !== '' && !/^\d+$/.test(rv)) throw errors.badRequest(`invalid resource version: ${rv}`);
    if (boolParam(q, 'watch')) {
      const sendInitialEvents = q.has('sendInitialEvents') ? boolParam(q, 'sendInitialEvents') : false;
      const allowBookmarks = boolParam(q, 'allowWatchBookmarks');
      if (sendInitialEvents && (!allowBookmarks || rvMatch !== 'NotOlderThan'))
        throw errors.invalid('ListOptions', 'meta.k8s.io', '', [
          {
            reason: 'FieldValueForbidden',
            field: 'sendInitialEvents',
            message:
              'Forbidden: sendInitialEvents requires setting allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan',
          },
        ]);
      const timeout = intParam(q, 'timeoutSeconds');
      if (rv && Number(rv) > this.core.store.rv) await this.waitForRV(q);
      return serveWatch(
        this.core,
        req,
        res,
        {
          t,
          version,
          namespace: ns,
          label,
          field,
          resourceVersion: rv,
          allowBookmarks,
          sendInitialEvents,
          timeoutSeconds: timeout !== undefined && timeout > 0 ? timeout : undefined,
          repr,
          include: this.include(q),
          bookmarkIntervalMs: this.opts.bookmarkIntervalMs,
        },
        (fn) => {
          this.watchClosers.add(fn);
          res.on('close', () => this.watchClosers.delete(fn));
        },
      );
    }
    const limit = intParam(q, 'limit');
    const cont = q.get('continue') || undefined;
    if (cont && rv && rv !== '0')
      throw errors.badRequest('specifying resource version is not allowed when using continue');
    await this.waitForRV(q);
    if (rvMatch === 'Exact' && rv && Number(rv) !== this.core.store.rv)
      throw errors.expired(`too old resource version: ${rv} (${this.core.store.rv})`);
    if (
      limit !== undefined &&
      limit > 0 &&
      rv &&
      rv !== '0' &&
      !cont &&
      Number(rv) !== this.core.store.rv &&
      rvMatch !== 'NotOlderThan'
    )
      throw errors.expired(`too old resource version: ${rv} (${this.core.store.rv})`);
    const page = this.core.list(t, ns, {
      label,
      field,
      limit,
      continue: cont ? ApiCore.decodeContinue(cont) : undefined,
    });
    const meta: Obj = { resourceVersion: page.rv };
    if (page.continue) meta.continue = page.continue;
    if (page.remainingItemCount !== undefined) meta.remainingItemCount = page.remainingItemCount;
    if (repr.as === 'table')
      return sendJson(
        res,
        200,
        tableBody(this.core, t, version, page.items, meta, { include: this.include(q), tableVersion: repr.version }),
      );
    if (repr.as === 'partial') return sendJson(res, 200, partialListBody(page.items, meta, repr.version));
    sendJson(res, 200, listBody(this.core, t, version, page.items, meta));
  }
}

export function gvOf(t: ResourceType): string {
  return groupVersion(t.group, t.storageVersion);
}
