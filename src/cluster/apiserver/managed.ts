// managedFields bookkeeping and a minimum server-side apply: field sets per manager (FieldsV1),
// ownership transfer on updates, conflicts for apply, and removal of fields a manager stopped applying.
import { ApiError } from './errors.js';
import type { ListStrategy } from './patch.js';
import { deepEqual, isObject, type Obj, rfc3339 } from './util.js';

const SEP = '\u0001';
type ListStrategyFn = (dottedPath: string) => ListStrategy;

const SKIP_META = new Set([
  'name',
  'namespace',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'managedFields',
  'selfLink',
  'generateName',
]);

export interface FieldScope {
  /** Only status (status subresource writes) / everything but status (main endpoint, status subresource on). */
  part: 'all' | 'status' | 'nostatus';
}

/** The set of owned leaf paths in an object. */
export function fieldSet(obj: Obj, ls: ListStrategyFn, scope: FieldScope): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(obj)) {
    if (k === 'apiVersion' || k === 'kind') continue;
    if (scope.part === 'status' && k !== 'status') continue;
    if (scope.part === 'nostatus' && k === 'status') continue;
    if (k === 'metadata' && isObject(v)) {
      for (const [mk, mv] of Object.entries(v)) {
        if (SKIP_META.has(mk)) continue;
        collect(mv, `metadata.${mk}`, ['f:metadata', `f:${mk}`], out, ls);
      }
      continue;
    }
    collect(v, k, [`f:${k}`], out, ls);
  }
  return out;
}

function keyObject(item: Obj, keys: string[]): Obj {
  const o: Obj = {};
  for (const k of keys) o[k] = item[k];
  return o;
}

function collect(value: unknown, dotted: string, segs: string[], out: Set<string>, ls: ListStrategyFn): void {
  if (value === undefined) return;
  if (isObject(value)) {
    const keys = Object.keys(value);
    if (keys.length === 0) out.add(segs.join(SEP));
    for (const k of keys) collect(value[k], `${dotted}.${k}`, [...segs, `f:${k}`], out, ls);
    return;
  }
  if (Array.isArray(value)) {
    const strat = ls(dotted);
    if (strat.type === 'map' && value.every(isObject)) {
      for (const item of value as Obj[]) {
        const itemSegs = [...segs, `k:${JSON.stringify(keyObject(item, strat.keys))}`];
        out.add(itemSegs.join(SEP));
        for (const [f, fv] of Object.entries(item)) collect(fv, `${dotted}.${f}`, [...itemSegs, `f:${f}`], out, ls);
      }
      return;
    }
    if (strat.type === 'set') {
      for (const item of value) out.add([...segs, `v:${JSON.stringify(item)}`].join(SEP));
      return;
    }
  }
  out.add(segs.join(SEP));
}

/** Reads the value at a field path; `found` is false when the path does not exist. */
export function valueAt(obj: unknown, path: string): { found: boolean; value?: unknown } {
  let cur: unknown = obj;
  for (const seg of path.split(SEP)) {
    if (seg.startsWith('f:')) {
      if (!isObject(cur) || !Object.hasOwn(cur, seg.slice(2))) return { found: false };
      cur = cur[seg.slice(2)];
    } else if (seg.startsWith('k:')) {
      if (!Array.isArray(cur)) return { found: false };
      const k = JSON.parse(seg.slice(2)) as Obj;
      const item = cur.find((x) => isObject(x) && Object.entries(k).every(([kk, kv]) => deepEqual(x[kk], kv)));
      if (item === undefined) return { found: false };
      cur = item;
    } else if (seg.startsWith('v:')) {
      if (!Array.isArray(cur)) return { found: false };
      const v = JSON.parse(seg.slice(2));
      if (!cur.some((x) => deepEqual(x, v))) return { found: false };
      cur = v;
    }
  }
  return { found: true, value: cur };
}

function removeAt(obj: Obj, path: string): void {
  const segs = path.split(SEP);
  let cur: unknown = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const r = valueAt(cur, segs[i]);
    if (!r.found) return;
    cur = r.value;
  }
  const last = segs[segs.length - 1];
  if (last.startsWith('f:') && isObject(cur)) delete cur[last.slice(2)];
  else if ((last.startsWith('k:') || last.startsWith('v:')) && Array.isArray(cur)) {
    const target = valueAt(cur, last);
    if (!target.found) return;
    const idx = last.startsWith('v:') ? cur.findIndex((x) => deepEqual(x, target.value)) : cur.indexOf(target.value);
    if (idx >= 0) cur.splice(idx, 1);
  }
}

/** Human form of a path, as in SSA conflict messages: `.spec.containers[name="c"].image`. */
export function describePath(path: string): string {
  let s = '';
  for (const seg of path.split(SEP)) {
    if (seg.startsWith('f:')) s += `.${seg.slice(2)}`;
    else if (seg.startsWith('k:')) {
      const k = JSON.parse(seg.slice(2)) as Obj;
      s += `[${Object.entries(k)
        .map(([a, b]) => `${a}=${JSON.stringify(b)}`)
        .join(',')}]`;
    } else if (seg.startsWith('v:')) s += `[=${seg.slice(2)}]`;
  }
  return s;
}

export function toFieldsV1(set: Set<string>): Obj {
  const root: Obj = {};
  const members: Obj[] = [];
  for (const p of set) {
    let node = root;
    for (const seg of p.split(SEP)) node = node[seg] ??= {};
    members.push(node);
  }
  for (const m of members) if (Object.keys(m).some((k) => k !== '.')) m['.'] = {};
  return root;
}

export function fromFieldsV1(f: unknown): Set<string> {
  const out = new Set<string>();
  const walk = (node: unknown, segs: string[]) => {
    if (!isObject(node)) return;
    for (const [k, child] of Object.entries(node)) {
      if (k === '.') {
        if (segs.length) out.add(segs.join(SEP));
        continue;
      }
      const next = [...segs, k];
      if (isObject(child) && Object.keys(child).length === 0) out.add(next.join(SEP));
      else walk(child, next);
    }
  };
  walk(f, []);
  return out;
}

interface Entry {
  manager: string;
  operation: string;
  apiVersion: string;
  time: string;
  fieldsType: 'FieldsV1';
  fieldsV1: Obj;
  subresource?: string;
}

function entriesOf(obj: Obj | undefined): Entry[] {
  const mf = obj?.metadata?.managedFields;
  if (!Array.isArray(mf)) return [];
  return mf.filter((e) => isObject(e) && typeof e.manager === 'string') as Entry[];
}

/** Whether the request asks to reset managedFields (`[{}]`). */
export function isReset(obj: Obj): boolean {
  const mf = obj.metadata?.managedFields;
  return Array.isArray(mf) && mf.length === 1 && isObject(mf[0]) && Object.keys(mf[0]).length === 0;
}

export interface RecordArgs {
  manager: string;
  apiVersion: string;
  nowMs: number;
  ls: ListStrategyFn;
  subresource?: string;
  scope: FieldScope;
}

/**
 * After a non-apply write: the writer takes ownership of every field it changed, other managers lose
 * those fields, removed fields are dropped from every set. Writes `next.metadata.managedFields`.
 */
export function recordUpdate(old: Obj | undefined, next: Obj, a: RecordArgs): void {
  if (isReset(next)) {
    delete next.metadata.managedFields;
    return;
  }
  const newSet = fieldSet(next, a.ls, a.scope);
  const oldSet = old ? fieldSet(old, a.ls, a.scope) : new Set<string>();
  const changed = new Set<string>();
  for (const p of newSet) {
    if (!oldSet.has(p)) changed.add(p);
    else if (!deepEqual(valueAt(next, p).value, valueAt(old, p).value)) changed.add(p);
  }
  const removed = [...oldSet].filter((p) => !newSet.has(p));
  const entries: Entry[] = [];
  let mine: Set<string> | undefined;
  for (const e of entriesOf(old)) {
    const set = fromFieldsV1(e.fieldsV1);
    const isMine =
      e.manager === a.manager && e.operation === 'Update' && (e.subresource ?? '') === (a.subresource ?? '');
    if (isMine) {
      mine = set;
      continue;
    }
    for (const p of changed) set.delete(p);
    for (const p of removed) set.delete(p);
    if (set.size > 0) entries.push({ ...e, fieldsV1: toFieldsV1(set) });
  }
  const own = mine ?? new Set<string>();
  for (const p of changed) own.add(p);
  for (const p of removed) own.delete(p);
  if (own.size > 0) {
    const e: Entry = {
      manager: a.manager,
      operation: 'Update',
      apiVersion: a.apiVersion,
      time: rfc3339(a.nowMs),
      fieldsType: 'FieldsV1',
      fieldsV1: toFieldsV1(own),
    };
    if (a.subresource) e.subresource = a.subresource;
    entries.push(e);
  }
  if (entries.length) next.metadata.managedFields = entries;
  else delete next.metadata.managedFields;
}

function ssaMerge(live: unknown, applied: unknown, dotted: string, ls: ListStrategyFn): unknown {
  if (isObject(applied)) {
    const out: Obj = isObject(live) ? { ...live } : {};
    for (const [k, v] of Object.entries(applied)) {
      if (v === null) delete out[k];
      else out[k] = ssaMerge(out[k], v, dotted ? `${dotted}.${k}` : k, ls);
    }
    return out;
  }
  if (Array.isArray(applied) && Array.isArray(live)) {
    const strat = ls(dotted);
    if (strat.type === 'map') {
      const out = [...live];
      for (const item of applied) {
        const idx = isObject(item)
          ? out.findIndex((x) => isObject(x) && strat.keys.every((k) => deepEqual(x[k], item[k])))
          : -1;
        if (idx >= 0) out[idx] = ssaMerge(out[idx], item, dotted, ls);
        else out.push(structuredClone(item));
      }
      return out;
    }
    if (strat.type === 'set') {
      const out = [...live];
      for (const item of applied) if (!out.some((x) => deepEqual(x, item))) out.push(item);
      return out;
    }
  }
  return structuredClone(applied);
}

/**
 * Server-side apply of `applied` (a partial object) by `manager` onto `live` (undefined = create).
 * Throws 409 Conflict (FieldManagerConflict causes) unless `force`. Returns the merged object with
 * managedFields updated; the caller runs it through the normal update pipeline.
 */
export function serverSideApply(
  live: Obj | undefined,
  applied: Obj,
  manager: string,
  force: boolean,
  a: Omit<RecordArgs, 'manager'>,
): Obj {
  const appliedSet = fieldSet(applied, a.ls, a.scope);
  const entries = entriesOf(live).map((e) => ({ e, set: fromFieldsV1(e.fieldsV1) }));
  const isMine = (e: Entry) =>
    e.manager === manager && e.operation === 'Apply' && (e.subresource ?? '') === (a.subresource ?? '');
  const conflicts: { manager: string; apiVersion: string; path: string }[] = [];
  for (const { e, set } of entries) {
    if (isMine(e)) continue;
    for (const p of appliedSet) {
      if (!set.has(p)) continue;
      const liveV = valueAt(live, p);
      const newV = valueAt(applied, p);
      if (liveV.found && !deepEqual(liveV.value, newV.value)) {
        if (force) set.delete(p);
        else conflicts.push({ manager: e.manager, apiVersion: e.apiVersion, path: p });
      }
    }
  }
  if (conflicts.length > 0) {
    const causes = conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}"${c.apiVersion ? ` using ${c.apiVersion}` : ''}`,
      field: describePath(c.path),
    }));
    const lines = causes.map((c) => `- ${c.message}: ${c.field}`);
    const msg =
      conflicts.length === 1
        ? `Apply failed with 1 conflict: ${causes[0].message}: ${causes[0].field}`
        : `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
    throw new ApiError(409, 'Conflict', msg, { causes });
  }
  const prevMine = entries.find(({ e }) => isMine(e))?.set ?? new Set<string>();
  const body = structuredClone(applied);
  delete body.metadata?.managedFields;
  const merged = ssaMerge(live ? structuredClone(live) : {}, body, '', a.ls) as Obj;
  // Fields this manager applied before but no longer applies, and nobody else owns, are removed.
  for (const p of prevMine) {
    if (appliedSet.has(p)) continue;
    if (entries.some(({ e, set }) => !isMine(e) && set.has(p))) continue;
    removeAt(merged, p);
  }
  const out: Entry[] = [];
  for (const { e, set } of entries) {
    if (isMine(e)) continue;
    if (set.size > 0) out.push({ ...e, fieldsV1: toFieldsV1(set) });
  }
  const mine: Entry = {
    manager,
    operation: 'Apply',
    apiVersion: a.apiVersion,
    time: rfc3339(a.nowMs),
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(appliedSet),
  };
  if (a.subresource) mine.subresource = a.subresource;
  out.push(mine);
  merged.metadata ??= {};
  merged.metadata.managedFields = out;
  return merged;
}
