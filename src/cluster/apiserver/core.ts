// The request pipeline shared by the HTTP front and the in-process controllers: create, update,
// patch, apply, delete, list — with the semantics of kube-apiserver's generic registry store.
import { randomBytes, randomUUID } from 'node:crypto';
import { parse as parseYaml } from 'yaml';
import { type AdmissionAttributes, WebhookAdmission } from './admission.js';
import { ApiError, cause, errors, qualified, type StatusCause } from './errors.js';
import { isReset, recordUpdate, serverSideApply } from './managed.js';
import {
  builtinListStrategy,
  jsonPatch,
  type ListStrategy,
  mergePatch,
  PATCH_TYPES,
  schemaListStrategy,
  strategicMerge,
} from './patch.js';
import { bindPod } from './pods.js';
import type { Registry } from './registry.js';
import { applyDefaults, prune, pruneMetadata, validateSchema } from './schema.js';
import { type FieldSelector, type LabelSelector, matchFields, matchLabels } from './selectors.js';
import { objectKey, type Store } from './store.js';
import { groupVersion, type ResourceType, resourceKey, type StrategyContext } from './types.js';
import { checkName, clone, deepEqual, getPath, isObject, type Obj, randomSuffix, rfc3339, setPath } from './util.js';

/** How often a patch without a resourceVersion precondition is re-applied after a conflicting write. */
const PATCH_CONFLICT_ATTEMPTS = 5;

/** Whether a patch carries its own resourceVersion precondition (then a conflict is the client's to resolve). */
export function pinsResourceVersion(type: string, patch: unknown): boolean {
  if (type === PATCH_TYPES.json)
    return Array.isArray(patch) && patch.some((op) => isObject(op) && op.path === '/metadata/resourceVersion');
  const rv = isObject(patch) && isObject(patch.metadata) ? patch.metadata.resourceVersion : undefined;
  return rv !== undefined && rv !== null && rv !== '';
}

export interface WriteOpts {
  dryRun?: boolean;
  /** ?fieldManager= */
  fieldManager?: string;
  /** manager name derived from the User-Agent when no fieldManager is given */
  defaultManager?: string;
  fieldValidation?: string;
  force?: boolean;
  /** warnings for the `Warning` response header */
  warnings?: string[];
  /** internal: managedFields already computed (server-side apply) */
  managedSet?: boolean;
}

export interface DeleteOpts {
  gracePeriodSeconds?: number;
  propagationPolicy?: string;
  orphanDependents?: boolean;
  preconditions?: { uid?: string; resourceVersion?: string };
  dryRun?: boolean;
}

export interface ListOpts {
  label?: LabelSelector;
  field?: FieldSelector;
  limit?: number;
  continue?: string;
}

export interface ListResult {
  items: Obj[];
  rv: string;
  continue?: string;
  remainingItemCount?: number;
}

const CONTINUE_TTL_MS = 5 * 60_000;
const CRD_CLEANUP_FINALIZER = 'customresourcecleanup.apiextensions.k8s.io';

export class ApiCore {
  private readonly continues = new Map<string, { items: Obj[]; rv: string; expires: number }>();

  /** dynamic admission (webhook configurations stored in this server) */
  private readonly webhooks: WebhookAdmission;

  constructor(
    readonly store: Store,
    readonly registry: Registry,
    readonly now: () => number = Date.now,
  ) {
    this.webhooks = new WebhookAdmission((rk) => this.store.list(rk));
  }

  /** Mutating webhooks on a create or update; the object is patched in place (then defaulted and pruned again). */
  private async mutateByWebhooks(a: AdmissionAttributes, opts: WriteOpts): Promise<void> {
    const out = await this.webhooks.mutate(a);
    if (out === a.object) return;
    for (const k of Object.keys(a.object)) delete a.object[k];
    Object.assign(a.object, out);
    this.admitFields(a.t, a.version, a.object, opts);
  }

  rk(t: ResourceType): string {
    return resourceKey(t);
  }

  key(t: ResourceType, ns: string | undefined, name: string): string {
    return objectKey(t.namespaced ? ns : '', name);
  }

  /** The object as served at `version` (CRDs with several versions store one and rewrite apiVersion). */
  serve(t: ResourceType, version: string, obj: Obj): Obj {
    const gv = groupVersion(t.group, version);
    return obj.apiVersion === gv ? obj : { ...obj, apiVersion: gv };
  }

  private ctx(): StrategyContext {
    return {
      nowMs: this.now(),
      lookup: (group, plural, ns, name) => this.store.get(`${group}/${plural}`, objectKey(ns, name)),
    };
  }

  listStrategy(t: ResourceType, version: string): (path: string) => ListStrategy {
    if (t.builtin) return builtinListStrategy;
    const schema = t.crd?.schemas[version];
    return (path) => schemaListStrategy(schema, path);
  }

  get(t: ResourceType, ns: string | undefined, name: string): Obj {
    const o = this.store.get(this.rk(t), this.key(t, ns, name));
    if (!o) throw errors.notFound(t.group, t.plural, name);
    return o;
  }

  tryGet(t: ResourceType, ns: string | undefined, name: string): Obj | undefined {
    return this.store.get(this.rk(t), this.key(t, ns, name));
  }

  // ---- list ------------------------------------------------------------------------------------------

  list(t: ResourceType, ns: string | undefined, o: ListOpts = {}): ListResult {
    const sweep = this.now();
    for (const [k, v] of this.continues) if (v.expires < sweep) this.continues.delete(k);
    let items: Obj[];
    let rv: string;
    let offset = 0;
    if (o.continue) {
      const [id, off] = o.continue.split(':');
      const snap = this.continues.get(id ?? '');
      if (!snap || !/^\d+$/.test(off ?? ''))
        throw errors.expired(
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results.',
        );
      items = snap.items;
      rv = snap.rv;
      offset = Number(off);
    } else {
      const label = o.label ?? [];
      const field = o.field ?? [];
      const getters = t.strategy.fieldGetters;
      items = this.store
        .list(this.rk(t), t.namespaced ? ns : undefined)
        .filter((x) => matchLabels(label, x.metadata.labels) && matchFields(field, x, getters));
      rv = String(this.store.rv);
    }
    if (!o.limit || o.limit <= 0 || offset + o.limit >= items.length) {
      return { items: items.slice(offset), rv };
    }
    let id = o.continue?.split(':')[0];
    if (!id || !this.continues.has(id)) {
      id = randomBytes(9).toString('base64url');
      this.continues.set(id, { items, rv, expires: this.now() + CONTINUE_TTL_MS });
    }
    const end = offset + o.limit;
    const selectors = (o.label?.length ?? 0) > 0 || (o.field?.length ?? 0) > 0;
    const res: ListResult = {
      items: items.slice(offset, end),
      rv,
      continue: Buffer.from(`${id}:${end}`).toString('base64url'),
    };
    if (!selectors) res.remainingItemCount = items.length - end;
    return res;
  }

  /** Decodes a continue token from the wire form. */
  static decodeContinue(token: string): string {
    const s = Buffer.from(token, 'base64url').toString('utf8');
    if (!/^[A-Za-z0-9_-]+:\d+$/.test(s)) throw errors.badRequest('continue key is not valid');
    return s;
  }

  /** Test hook: forgets every continue token, as if they had expired. */
  expireContinueTokens(): void {
    this.continues.clear();
  }

  // ---- shared checks ---------------------------------------------------------------------------------

  private checkTypeMeta(t: ResourceType, version: string, body: Obj, required = false): void {
    const gv = groupVersion(t.group, version);
    if (body.apiVersion === undefined || body.apiVersion === '') {
      if (required) throw errors.badRequest('apiVersion must be set');
    } else if (body.apiVersion !== gv)
      throw errors.badRequest(
        `the API version in the data (${String(body.apiVersion)}) does not match the expected API version (${gv})`,
      );
    if (body.kind === undefined || body.kind === '') {
      if (required) throw errors.badRequest('kind must be set');
    } else if (body.kind !== t.kind)
      throw errors.badRequest(
        `the kind in the data (${String(body.kind)}) does not match the expected kind (${t.kind})`,
      );
  }

  private storageTypeMeta(t: ResourceType, obj: Obj): void {
    obj.apiVersion = groupVersion(t.group, t.storageVersion);
    obj.kind = t.kind;
  }

  /** The request URL's namespace wins: a different one in the body is a 400; cluster-scoped objects have none. */
  private bindNamespace(t: ResourceType, meta: Obj, ns: string | undefined): void {
    if (!t.namespaced) {
      delete meta.namespace;
      return;
    }
    if (meta.namespace && meta.namespace !== ns)
      throw errors.badRequest('the namespace of the provided object does not match the namespace sent on the request');
    meta.namespace = ns;
  }

  private requireNamespace(t: ResourceType, ns: string, name: string): void {
    const nsObj = this.store.get('/namespaces', objectKey('', ns));
    if (!nsObj) throw errors.notFound('', 'namespaces', ns);
    if (nsObj.metadata.deletionTimestamp) {
      const msg = `unable to create new content in namespace ${ns} because it is being terminated`;
      throw errors.forbidden(`${qualified(t.group, t.plural)} "${name}" is forbidden: ${msg}`, {
        name,
        group: t.group || undefined,
        kind: t.plural,
        causes: [{ reason: 'NamespaceTerminating', message: msg, field: 'metadata.namespace' }],
      });
    }
  }

  /** Prunes unknown fields (schema for CRs, ObjectMeta for all) and applies CR defaults. */
  private admitFields(t: ResourceType, version: string, obj: Obj, opts: WriteOpts): void {
    let unknown: string[] = [];
    if (!t.builtin) {
      const schema = t.crd?.schemas[version];
      unknown = prune(obj, schema);
      applyDefaults(obj, schema);
    } else {
      if (isObject(obj.metadata)) unknown = pruneMetadata(obj.metadata);
      const known = t.strategy.topLevel;
      if (known) {
        for (const k of Object.keys(obj)) {
          if (k === 'apiVersion' || k === 'kind' || k === 'metadata' || known.includes(k)) continue;
          unknown.push(k);
          delete obj[k];
        }
      }
    }
    if (unknown.length === 0) return;
    const mode = opts.fieldValidation || 'Warn';
    if (mode === 'Strict')
      throw errors.badRequest(`strict decoding error: ${unknown.map((u) => `unknown field "${u}"`).join(', ')}`);
    if (mode === 'Warn') for (const u of unknown) opts.warnings?.push(`unknown field "${u}"`);
  }

  private validateMeta(t: ResourceType, obj: Obj, causes: StatusCause[]): void {
    const m = obj.metadata;
    const nameErr = checkName(m.name, t.strategy.nameRule);
    if (nameErr) causes.push(cause.invalid('metadata.name', m.name, nameErr));
    for (const [field, map] of [
      ['metadata.labels', m.labels],
      ['metadata.annotations', m.annotations],
    ] as const) {
      if (map === undefined || map === null) continue;
      if (!isObject(map)) {
        causes.push(cause.typeInvalid(field, map, 'must be a map of strings'));
        continue;
      }
      for (const [k, v] of Object.entries(map)) {
        if (typeof v !== 'string') causes.push(cause.typeInvalid(`${field}[${k}]`, v, 'must be a string'));
        if (
          !/^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/.test(
            k,
          )
        )
          causes.push(cause.invalid(field, k, "name part must consist of alphanumeric characters, '-', '_' or '.'"));
        if (
          field === 'metadata.labels' &&
          typeof v === 'string' &&
          (v.length > 63 || !/^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/.test(v))
        )
          causes.push(
            cause.invalid(
              field,
              v,
              "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.'",
            ),
          );
      }
    }
    if (
      m.finalizers !== undefined &&
      (!Array.isArray(m.finalizers) || m.finalizers.some((f: unknown) => typeof f !== 'string'))
    )
      causes.push(cause.typeInvalid('metadata.finalizers', m.finalizers, 'must be a list of strings'));
    const refs = m.ownerReferences;
    if (refs !== undefined) {
      if (!Array.isArray(refs)) causes.push(cause.typeInvalid('metadata.ownerReferences', refs, 'must be a list'));
      else {
        const controllers: string[] = [];
        refs.forEach((r: Obj, i: number) => {
          const p = `metadata.ownerReferences[${i}]`;
          if (!isObject(r)) {
            causes.push(cause.typeInvalid(p, r, 'must be an object'));
            return;
          }
          for (const f of ['apiVersion', 'kind', 'name', 'uid'])
            if (!r[f] || typeof r[f] !== 'string') causes.push(cause.required(`${p}.${f}`));
          if (r.controller === true) controllers.push(`${r.kind}/${r.name}`);
        });
        if (controllers.length > 1)
          causes.push(
            cause.invalid(
              'metadata.ownerReferences',
              refs,
              `Only one reference can have Controller set to true. Found "true" in references for ${controllers.join(' and ')}`,
            ),
          );
      }
    }
  }

  private validate(t: ResourceType, version: string, obj: Obj, old: Obj | undefined): void {
    const causes: StatusCause[] = [];
    this.validateMeta(t, obj, causes);
    if (t.strategy.validate) causes.push(...t.strategy.validate(obj, old, this.ctx()));
    if (!t.builtin) {
      const schema = t.crd?.schemas[version];
      if (schema) {
        // metadata is validated by the generic rules above, not by the CRD schema.
        const { metadata: _m, apiVersion: _a, kind: _k, ...rest } = obj;
        const { properties, required, ...s } = schema;
        const props = { ...(properties ?? {}) };
        delete props.metadata;
        delete props.apiVersion;
        delete props.kind;
        causes.push(
          ...validateSchema(
            rest,
            {
              ...s,
              properties: props,
              required: (required ?? []).filter((r: string) => !['metadata', 'apiVersion', 'kind'].includes(r)),
            },
            '',
          ),
        );
      }
    }
    if (causes.length) throw errors.invalid(t.kind, t.group, obj.metadata?.name ?? '', causes);
  }

  private manager(opts: WriteOpts): string {
    return opts.fieldManager || opts.defaultManager || 'unknown';
  }

  private recordManaged(
    t: ResourceType,
    version: string,
    old: Obj | undefined,
    next: Obj,
    opts: WriteOpts,
    sub?: string,
  ): void {
    if (opts.managedSet) return;
    recordUpdate(old, next, {
      manager: this.manager(opts),
      apiVersion: groupVersion(t.group, version),
      nowMs: this.now(),
      ls: this.listStrategy(t, version),
      subresource: sub,
      scope: { part: sub === 'status' ? 'status' : t.status ? 'nostatus' : 'all' },
    });
  }

  /** Commits and waits until durable; keeps the CRD registry in step with CRD writes. */
  private async commit(
    t: ResourceType,
    type: 'ADDED' | 'MODIFIED' | 'DELETED',
    key: string,
    obj: Obj,
    old?: Obj,
  ): Promise<void> {
    const { durable } = this.store.commit(this.rk(t), type, key, obj, old);
    if (t.builtin && t.plural === 'customresourcedefinitions') {
      if (type === 'DELETED') this.registry.removeCrd(obj.metadata.name);
      else this.registry.syncCrd(obj);
    }
    await durable;
  }

  // ---- create ----------------------------------------------------------------------------------------

  async create(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    body: unknown,
    opts: WriteOpts = {},
  ): Promise<Obj> {
    if (!isObject(body)) throw errors.badRequest('the request body must be a JSON or YAML object');
    this.checkTypeMeta(t, version, body);
    if (body.metadata === undefined) body.metadata = {};
    if (!isObject(body.metadata)) throw errors.badRequest('metadata must be an object');
    const meta = body.metadata;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '')
      throw errors.internal('resourceVersion should not be set on objects to be created');
    this.bindNamespace(t, meta, ns);
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    delete meta.selfLink;
    const nowMs = this.now();
    meta.uid = randomUUID();
    meta.creationTimestamp = rfc3339(nowMs);
    if (t.strategy.tracksGeneration) meta.generation = 1;
    else delete meta.generation;
    if (!t.builtin && t.status) delete body.status;
    this.admitFields(t, version, body, opts);
    this.storageTypeMeta(t, body);
    let generated = false;
    if (!meta.name) {
      if (typeof meta.generateName === 'string' && meta.generateName) {
        generated = true;
        meta.name = `${meta.generateName}${randomSuffix()}`;
      } else
        throw errors.invalid(t.kind, t.group, '', [
          cause.required('metadata.name', 'name or generateName is required'),
        ]);
    }
    if (typeof meta.name !== 'string') throw errors.badRequest('metadata.name must be a string');
    t.strategy.prepareCreate?.(body, this.ctx());
    if (t.namespaced) this.requireNamespace(t, ns ?? '', meta.name);
    const admission = {
      t,
      version,
      operation: 'CREATE' as const,
      namespace: ns,
      dryRun: opts.dryRun,
      warnings: opts.warnings,
    };
    const hooked = this.webhooks.wants(admission);
    if (hooked) await this.mutateByWebhooks({ ...admission, object: body }, opts);
    this.validate(t, version, body, undefined);
    if (hooked) await this.webhooks.validate({ ...admission, object: body });
    let key = this.key(t, ns, meta.name);
    for (let tries = 0; generated && tries < 8 && this.store.get(this.rk(t), key); tries++) {
      meta.name = `${meta.generateName}${randomSuffix()}`;
      key = this.key(t, ns, meta.name);
    }
    if (this.store.get(this.rk(t), key)) throw errors.alreadyExists(t.group, t.plural, meta.name);
    this.recordManaged(t, version, undefined, body, opts);
    if (opts.dryRun) return body;
    await this.commit(t, 'ADDED', key, body);
    return body;
  }

  // ---- update ----------------------------------------------------------------------------------------

  async update(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOpts = {},
    sub?: 'status',
    mode: 'put' | 'patch' | 'apply' = 'put',
    current?: Obj,
  ): Promise<Obj> {
    const cur = current ?? this.get(t, ns, name);
    if (!isObject(body)) throw errors.badRequest('the request body must be a JSON or YAML object');
    this.checkTypeMeta(t, version, body);
    if (!isObject(body.metadata)) body.metadata = {};
    const meta = body.metadata;
    if (meta.name !== name)
      throw errors.badRequest(
        `the name of the object (${String(meta.name ?? '')}) does not match the name on the URL (${name})`,
      );
    this.bindNamespace(t, meta, ns);
    const rv = meta.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== null) {
      if (String(rv) !== cur.metadata.resourceVersion) throw errors.conflict(t.group, t.plural, name);
    } else if (mode === 'put' && !t.strategy.allowUnconditionalUpdate) {
      throw errors.invalid(t.kind, t.group, name, [
        cause.invalid('metadata.resourceVersion', 0, 'must be specified for an update'),
      ]);
    }
    if (meta.uid && meta.uid !== cur.metadata.uid)
      throw errors.conflict(
        t.group,
        t.plural,
        name,
        `Precondition failed: UID in precondition: ${String(meta.uid)}, UID in object meta: ${cur.metadata.uid}`,
      );
    let next: Obj;
    if (sub === 'status') {
      next = clone(cur);
      if (body.status === undefined) delete next.status;
      else next.status = body.status;
      if (t.strategy.statusKeepsMetadata) {
        for (const f of ['labels', 'annotations'] as const) {
          if (meta[f] === undefined) delete next.metadata[f];
          else next.metadata[f] = meta[f];
        }
      }
      if (isReset(body)) next.metadata.managedFields = meta.managedFields;
    } else {
      next = body;
      for (const f of [
        'uid',
        'creationTimestamp',
        'deletionTimestamp',
        'deletionGracePeriodSeconds',
        'generation',
      ] as const) {
        if (cur.metadata[f] === undefined) delete meta[f];
        else meta[f] = cur.metadata[f];
      }
      delete meta.selfLink;
      if (t.status) {
        if (cur.status === undefined) delete next.status;
        else next.status = clone(cur.status);
      }
      t.strategy.prepareUpdate?.(next, cur, this.ctx());
    }
    this.admitFields(t, version, next, opts);
    this.storageTypeMeta(t, next);
    next.metadata.resourceVersion = cur.metadata.resourceVersion;
    if (cur.metadata.deletionTimestamp) {
      const oldF: string[] = cur.metadata.finalizers ?? [];
      const added = (Array.isArray(next.metadata.finalizers) ? next.metadata.finalizers : []).filter(
        (f: string) => !oldF.includes(f),
      );
      if (added.length)
        throw errors.invalid(t.kind, t.group, name, [
          cause.forbidden(
            'metadata.finalizers',
            `no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
          ),
        ]);
    }
    const admission = {
      t,
      version,
      operation: 'UPDATE' as const,
      namespace: ns,
      oldObject: cur,
      dryRun: opts.dryRun,
      warnings: opts.warnings,
    };
    const hooked = sub !== 'status' && this.webhooks.wants(admission);
    if (hooked) await this.mutateByWebhooks({ ...admission, object: next }, opts);
    this.validate(t, version, next, cur);
    if (hooked) {
      await this.webhooks.validate({ ...admission, object: next });
      // the calls took time: a write that landed meanwhile wins, and this one must be retried on top of it
      if (this.tryGet(t, ns, name)?.metadata.resourceVersion !== cur.metadata.resourceVersion)
        throw errors.conflict(t.group, t.plural, name);
    }
    if (t.strategy.tracksGeneration && sub !== 'status') {
      const strip = (o: Obj) => {
        const { metadata: _m, status, ...rest } = o;
        return t.status ? rest : { ...rest, status };
      };
      if (!deepEqual(strip(next), strip(cur))) next.metadata.generation = (cur.metadata.generation ?? 0) + 1;
    }
    if (mode !== 'apply') this.recordManaged(t, version, cur, next, opts, sub);
    return this.commitUpdate(t, ns, name, cur, next, opts);
  }

  /** No-op detection, deletion-by-update (last finalizer gone) and the commit itself. */
  private async commitUpdate(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    cur: Obj,
    next: Obj,
    opts: WriteOpts,
  ): Promise<Obj> {
    if (sameIgnoringRV(next, cur)) return cur;
    if (opts.dryRun) return next;
    const key = this.key(t, ns, name);
    const m = next.metadata;
    if (m.deletionTimestamp && !(m.finalizers?.length > 0) && !((m.deletionGracePeriodSeconds ?? 0) > 0)) {
      if (t.builtin && t.plural === 'namespaces' && (next.spec?.finalizers?.length ?? 0) > 0) {
        await this.commit(t, 'MODIFIED', key, next, cur);
        return next;
      }
      await this.commit(t, 'DELETED', key, next, cur);
      return next;
    }
    await this.commit(t, 'MODIFIED', key, next, cur);
    return next;
  }

  // ---- patch -----------------------------------------------------------------------------------------

  async patch(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    name: string,
    contentType: string,
    raw: string,
    opts: WriteOpts = {},
    sub?: 'status',
  ): Promise<{ obj: Obj; created: boolean }> {
    const type = contentType.split(';')[0].trim().toLowerCase();
    const accepted = t.strategy.strategicMerge
      ? [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic, PATCH_TYPES.apply]
      : [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.apply];
    if (!accepted.includes(type as (typeof accepted)[number])) throw errors.unsupportedMediaType(type, accepted);
    if (type === PATCH_TYPES.apply) return this.apply(t, version, ns, name, raw, opts, sub);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    // As the kube-apiserver does: a patch that pins no resourceVersion is re-applied on top of a write that landed
    // while it was being admitted (webhook calls take time), instead of failing with 409.
    const pinned = pinsResourceVersion(type, parsed);
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.patchOnce(t, version, ns, name, type, parsed, opts, sub);
      } catch (e) {
        if (pinned || attempt >= PATCH_CONFLICT_ATTEMPTS || !(e instanceof ApiError && e.code === 409)) throw e;
      }
    }
  }

  private async patchOnce(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    name: string,
    type: string,
    parsed: unknown,
    opts: WriteOpts,
    sub?: 'status',
  ): Promise<{ obj: Obj; created: boolean }> {
    const cur = this.get(t, ns, name);
    const served = clone(this.serve(t, version, cur));
    let result: unknown;
    if (type === PATCH_TYPES.json) result = jsonPatch(served, parsed);
    else if (type === PATCH_TYPES.merge) {
      if (!isObject(parsed)) throw errors.badRequest('a merge patch must be a JSON object');
      result = mergePatch(served, parsed);
    } else {
      if (!isObject(parsed)) throw errors.badRequest('a strategic merge patch must be a JSON object');
      result = strategicMerge(served, parsed);
    }
    if (!isObject(result)) throw errors.badRequest('the patch did not produce an object');
    const obj = await this.update(t, version, ns, name, result, opts, sub, 'patch', cur);
    return { obj, created: false };
  }

  /** Server-side apply (application/apply-patch+yaml): upsert with field ownership. */
  private async apply(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    name: string,
    raw: string,
    opts: WriteOpts,
    sub?: 'status',
  ): Promise<{ obj: Obj; created: boolean }> {
    if (!opts.fieldManager) throw errors.badRequest('PATCH requests with apply content type require a fieldManager');
    let applied: unknown;
    try {
      applied = parseYaml(raw);
    } catch (e) {
      throw errors.badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
    if (!isObject(applied)) throw errors.badRequest('the apply configuration must be an object');
    if (applied.metadata?.managedFields !== undefined) throw errors.badRequest('metadata.managedFields must be nil');
    this.checkTypeMeta(t, version, applied, true);
    applied.metadata ??= {};
    if (applied.metadata.name !== undefined && applied.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${String(applied.metadata.name)}) does not match the name on the URL (${name})`,
      );
    applied.metadata.name = name;
    if (t.namespaced) {
      if (applied.metadata.namespace && applied.metadata.namespace !== ns)
        throw errors.badRequest(
          'the namespace of the provided object does not match the namespace sent on the request',
        );
    }
    const cur = this.tryGet(t, ns, name);
    const args = {
      apiVersion: groupVersion(t.group, version),
      nowMs: this.now(),
      ls: this.listStrategy(t, version),
      subresource: sub,
      scope: { part: sub === 'status' ? 'status' : t.status ? 'nostatus' : 'all' } as const,
    };
    const manager = opts.fieldManager;
    if (!cur) {
      if (sub) throw errors.notFound(t.group, t.plural, name);
      const merged = serverSideApply(undefined, applied, manager, !!opts.force, args);
      const obj = await this.create(t, version, ns, merged, { ...opts, managedSet: true });
      return { obj, created: true };
    }
    const live = clone(this.serve(t, version, cur));
    const merged = serverSideApply(live, applied, manager, !!opts.force, args);
    const obj = await this.update(t, version, ns, name, merged, { ...opts, managedSet: true }, sub, 'apply', cur);
    return { obj, created: false };
  }

  // ---- delete ----------------------------------------------------------------------------------------

  async delete(
    t: ResourceType,
    ns: string | undefined,
    name: string,
    o: DeleteOpts = {},
  ): Promise<{ obj: Obj; deleted: boolean }> {
    const cur = this.get(t, ns, name);
    const pre = o.preconditions;
    if (pre?.uid && pre.uid !== cur.metadata.uid)
      throw errors.conflict(
        t.group,
        t.plural,
        name,
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${cur.metadata.uid}`,
      );
    if (pre?.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
      throw errors.conflict(
        t.group,
        t.plural,
        name,
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${cur.metadata.resourceVersion}`,
      );
    let policy = o.propagationPolicy;
    if (!policy && o.orphanDependents !== undefined) policy = o.orphanDependents ? 'Orphan' : 'Background';
    if (policy !== undefined && !['Orphan', 'Foreground', 'Background'].includes(policy))
      throw errors.invalid('DeleteOptions', '', '', [
        cause.notSupported('propagationPolicy', policy, ['Foreground', 'Background', 'Orphan']),
      ]);
    if (o.gracePeriodSeconds !== undefined && !Number.isInteger(o.gracePeriodSeconds))
      throw errors.badRequest('gracePeriodSeconds must be an integer');
    const nowMs = this.now();
    const next = clone(cur);
    const m = next.metadata;
    let finalizers: string[] = [...(m.finalizers ?? [])];
    const ensure = (f: string) => {
      if (!finalizers.includes(f)) finalizers.push(f);
    };
    const drop = (f: string) => {
      finalizers = finalizers.filter((x) => x !== f);
    };
    if (policy === 'Orphan') {
      ensure('orphan');
      drop('foregroundDeletion');
    } else if (policy === 'Foreground') {
      ensure('foregroundDeletion');
      drop('orphan');
    } else if (policy === 'Background') {
      drop('orphan');
      drop('foregroundDeletion');
    }
    const key = this.key(t, ns, name);
    const finish = async (obj: Obj): Promise<{ obj: Obj; deleted: boolean }> => {
      if (o.dryRun) return { obj, deleted: false };
      await this.commit(t, 'MODIFIED', key, obj, cur);
      return { obj, deleted: false };
    };
    const isNamespace = t.builtin && t.plural === 'namespaces';
    const isCrd = t.builtin && t.plural === 'customresourcedefinitions';
    if (isCrd) {
      ensure(CRD_CLEANUP_FINALIZER);
      if (!m.deletionTimestamp) {
        next.status ??= {};
        const conds: Obj[] = (next.status.conditions ?? []).filter((c: Obj) => c.type !== 'Terminating');
        conds.push({
          type: 'Terminating',
          status: 'True',
          lastTransitionTime: rfc3339(nowMs),
          reason: 'InstanceDeletionPending',
          message: 'CustomResourceDefinition marked for deletion; CustomResource deletion will begin soon',
        });
        next.status.conditions = conds;
      }
    }
    if (isNamespace && (m.deletionTimestamp || (next.spec?.finalizers?.length ?? 0) > 0)) {
      if (m.deletionTimestamp && deepEqual(finalizers, m.finalizers ?? [])) return { obj: cur, deleted: false };
      m.finalizers = finalizers.length ? finalizers : undefined;
      if (!m.finalizers) delete m.finalizers;
      if (!m.deletionTimestamp) {
        m.deletionTimestamp = rfc3339(nowMs);
        m.deletionGracePeriodSeconds = 0;
      }
      next.status = { ...(next.status ?? {}), phase: 'Terminating' };
      return finish(next);
    }
    if (t.strategy.gracePeriod) {
      const grace = t.strategy.gracePeriod(cur, o.gracePeriodSeconds);
      if (grace > 0) {
        const target = nowMs + grace * 1000;
        if (m.deletionTimestamp) {
          const existing = Date.parse(m.deletionTimestamp);
          if (target >= existing && deepEqual(finalizers, m.finalizers ?? [])) return { obj: cur, deleted: false };
          if (target < existing) {
            m.deletionTimestamp = rfc3339(target);
            m.deletionGracePeriodSeconds = grace;
          }
        } else {
          m.deletionTimestamp = rfc3339(target);
          m.deletionGracePeriodSeconds = grace;
        }
        if (finalizers.length) m.finalizers = finalizers;
        else delete m.finalizers;
        return finish(next);
      }
    }
    if (finalizers.length > 0) {
      if (m.deletionTimestamp && deepEqual(finalizers, m.finalizers ?? []) && (m.deletionGracePeriodSeconds ?? 0) === 0)
        return { obj: cur, deleted: false };
      if (!m.deletionTimestamp) {
        m.deletionTimestamp = rfc3339(nowMs);
        if (t.strategy.tracksGeneration && (m.generation ?? 0) > 0) m.generation += 1;
      } else if ((m.deletionGracePeriodSeconds ?? 0) > 0) m.deletionTimestamp = rfc3339(nowMs);
      m.deletionGracePeriodSeconds = 0;
      m.finalizers = finalizers;
      return finish(next);
    }
    if (o.dryRun) return { obj: cur, deleted: true };
    const final = clone(cur);
    await this.commit(t, 'DELETED', key, final, cur);
    return { obj: final, deleted: true };
  }

  async deleteCollection(t: ResourceType, ns: string | undefined, lo: ListOpts, o: DeleteOpts): Promise<Obj[]> {
    const out: Obj[] = [];
    for (const item of this.list(t, ns, { label: lo.label, field: lo.field }).items) {
      try {
        out.push((await this.delete(t, item.metadata.namespace, item.metadata.name, o)).obj);
      } catch (e) {
        if (!(e instanceof ApiError && e.code === 404)) throw e;
      }
    }
    return out;
  }

  // ---- subresources ----------------------------------------------------------------------------------

  /** pods/binding: sets spec.nodeName and PodScheduled=True. */
  async bind(t: ResourceType, ns: string, name: string, body: unknown): Promise<void> {
    if (!isObject(body)) throw errors.badRequest('the request body must be a Binding object');
    if (body.kind !== undefined && body.kind !== 'Binding')
      throw errors.badRequest(`the kind in the data (${String(body.kind)}) does not match the expected kind (Binding)`);
    const target = body.target;
    if (!isObject(target) || typeof target.name !== 'string' || !target.name)
      throw errors.invalid('Binding', '', name, [cause.required('target.name')]);
    if (body.metadata?.name && body.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`,
      );
    const cur = this.get(t, ns, name);
    if (body.metadata?.uid && body.metadata.uid !== cur.metadata.uid)
      throw errors.conflict(
        t.group,
        'pods/binding',
        name,
        `Precondition failed: UID in precondition: ${String(body.metadata.uid)}, UID in object meta: ${cur.metadata.uid}`,
      );
    if (cur.metadata.deletionTimestamp)
      throw errors.conflict(
        t.group,
        'pods/binding',
        name,
        `pod ${name} is being deleted, cannot be assigned to a host`,
      );
    if (cur.spec?.nodeName)
      throw errors.conflict(
        t.group,
        'pods/binding',
        name,
        `pod ${name} is already assigned to node "${cur.spec.nodeName}"`,
      );
    const next = bindPod(cur, target.name, this.now());
    if (isObject(body.metadata?.annotations))
      next.metadata.annotations = { ...(next.metadata.annotations ?? {}), ...body.metadata.annotations };
    await this.commitUpdate(t, ns, name, cur, next, {});
  }

  /** namespaces/finalize: only spec.finalizers changes; an empty list lets a terminating namespace go. */
  async finalizeNamespace(t: ResourceType, name: string, body: unknown): Promise<Obj> {
    if (!isObject(body)) throw errors.badRequest('the request body must be a Namespace object');
    const cur = this.get(t, undefined, name);
    if (body.metadata?.name !== undefined && body.metadata.name !== name)
      throw errors.badRequest(
        `the name of the object (${String(body.metadata.name)}) does not match the name on the URL (${name})`,
      );
    if (body.metadata?.resourceVersion && body.metadata.resourceVersion !== cur.metadata.resourceVersion)
      throw errors.conflict('', 'namespaces', name);
    const next = clone(cur);
    next.spec = { ...(next.spec ?? {}), finalizers: Array.isArray(body.spec?.finalizers) ? body.spec.finalizers : [] };
    if (next.spec.finalizers.length === 0) next.spec.finalizers = undefined;
    if (!next.spec.finalizers) delete next.spec.finalizers;
    return this.commitUpdate(t, undefined, name, cur, next, {});
  }

  scaleOf(t: ResourceType, obj: Obj): Obj {
    const sc = t.scale!;
    const status: Obj = { replicas: Number(getPath(obj, sc.statusReplicasPath) ?? 0) };
    if (sc.labelSelectorPath) {
      const sel = getPath(obj, sc.labelSelectorPath);
      if (typeof sel === 'string') status.selector = sel;
    }
    const md = obj.metadata;
    return {
      kind: 'Scale',
      apiVersion: 'autoscaling/v1',
      metadata: {
        name: md.name,
        namespace: md.namespace,
        uid: md.uid,
        resourceVersion: md.resourceVersion,
        creationTimestamp: md.creationTimestamp,
      },
      spec: { replicas: Number(getPath(obj, sc.specReplicasPath) ?? 0) },
      status,
    };
  }

  async updateScale(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    name: string,
    body: unknown,
    opts: WriteOpts,
  ): Promise<Obj> {
    if (!isObject(body)) throw errors.badRequest('the request body must be a Scale object');
    const cur = this.get(t, ns, name);
    const rv = body.metadata?.resourceVersion;
    if (rv && rv !== cur.metadata.resourceVersion) throw errors.conflict(t.group, t.plural, name);
    const replicas = body.spec?.replicas;
    if (!Number.isInteger(replicas) || replicas < 0)
      throw errors.invalid('Scale', 'autoscaling', name, [
        cause.invalid('spec.replicas', replicas, 'must be greater than or equal to 0'),
      ]);
    const next = clone(this.serve(t, version, cur));
    setPath(next, t.scale!.specReplicasPath, replicas);
    const obj = await this.update(t, version, ns, name, next, opts, undefined, 'patch', cur);
    return this.scaleOf(t, obj);
  }

  async patchScale(
    t: ResourceType,
    version: string,
    ns: string | undefined,
    name: string,
    contentType: string,
    raw: string,
    opts: WriteOpts,
  ): Promise<Obj> {
    const type = contentType.split(';')[0].trim().toLowerCase();
    const cur = this.get(t, ns, name);
    const scale = this.scaleOf(t, cur);
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw errors.badRequest(`error decoding patch: ${(e as Error).message}`);
    }
    let result: unknown;
    if (type === PATCH_TYPES.json) result = jsonPatch(scale, parsed);
    else if (type === PATCH_TYPES.merge) result = mergePatch(scale, parsed);
    else if (type === PATCH_TYPES.strategic) result = strategicMerge(scale, parsed);
    else throw errors.unsupportedMediaType(type, [PATCH_TYPES.json, PATCH_TYPES.merge, PATCH_TYPES.strategic]);
    return this.updateScale(t, version, ns, name, result, opts);
  }
}

/** Equality ignoring resourceVersion and managedFields (no-op detection). */
export function sameIgnoringRV(a: Obj, b: Obj): boolean {
  const strip = (o: Obj) => {
    const { resourceVersion: _r, managedFields: _m, ...meta } = o.metadata ?? {};
    return { ...o, metadata: meta };
  };
  return deepEqual(strip(a), strip(b));
}
