// PATCH algorithms: JSON merge patch (RFC 7386), JSON patch (RFC 6902) and strategic merge patch
// for built-in kinds (merge keys from a table instead of Go struct tags).
import { ApiError, errors } from './errors.js';
import { deepEqual, isObject, type Obj } from './util.js';

export const PATCH_TYPES = {
  json: 'application/json-patch+json',
  merge: 'application/merge-patch+json',
  strategic: 'application/strategic-merge-patch+json',
  apply: 'application/apply-patch+yaml',
} as const;

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const out: Obj = isObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function invalidPatch(message: string): ApiError {
  return new ApiError(422, 'Invalid', message, { causes: [{ reason: 'FieldValueInvalid', message }] });
}

function parsePointer(p: unknown): string[] {
  if (typeof p !== 'string') throw invalidPatch(`invalid JSON pointer ${JSON.stringify(p)}`);
  if (p === '') return [];
  if (!p.startsWith('/')) throw invalidPatch(`JSON pointer must start with '/': ${p}`);
  return p
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function getAt(doc: unknown, path: string[]): unknown {
  let cur: any = doc;
  for (const seg of path) {
    if (Array.isArray(cur)) {
      if (!/^\d+$/.test(seg) || Number(seg) >= cur.length) return undefined;
      cur = cur[Number(seg)];
    } else if (isObject(cur)) {
      if (!Object.hasOwn(cur, seg)) return undefined;
      cur = cur[seg];
    } else return undefined;
  }
  return cur;
}

/** RFC 6902 on a deep copy; errors are 422 like the real server (400 when the patch is not a list). */
export function jsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw errors.badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
  let root: unknown = structuredClone(doc);
  for (const op of ops) {
    if (!isObject(op)) throw invalidPatch('invalid JSON patch operation');
    const path = parsePointer(op.path);
    const describe = `${String(op.op)} operation does not apply: doc is missing path: "${String(op.path)}"`;
    const parentAndKey = (p: string[]): [any, string] => {
      const parent = getAt(root, p.slice(0, -1));
      if (parent === undefined || (typeof parent !== 'object' && !Array.isArray(parent))) throw invalidPatch(describe);
      return [parent, p[p.length - 1]];
    };
    const add = (p: string[], value: unknown) => {
      if (p.length === 0) {
        root = value;
        return;
      }
      const [parent, key] = parentAndKey(p);
      if (Array.isArray(parent)) {
        const i = key === '-' ? parent.length : Number(key);
        if (!/^\d+$/.test(key) && key !== '-') throw invalidPatch(describe);
        if (i > parent.length) throw invalidPatch(describe);
        parent.splice(i, 0, value);
      } else parent[key] = value;
    };
    const remove = (p: string[]): unknown => {
      if (p.length === 0) throw invalidPatch('cannot remove the document root');
      const [parent, key] = parentAndKey(p);
      if (Array.isArray(parent)) {
        if (!/^\d+$/.test(key) || Number(key) >= parent.length) throw invalidPatch(describe);
        return parent.splice(Number(key), 1)[0];
      }
      if (!Object.hasOwn(parent, key)) throw invalidPatch(describe);
      const v = parent[key];
      delete parent[key];
      return v;
    };
    switch (op.op) {
      case 'add':
        if (!('value' in op)) throw invalidPatch('add operation requires a value');
        add(path, structuredClone(op.value));
        break;
      case 'remove':
        remove(path);
        break;
      case 'replace':
        if (!('value' in op)) throw invalidPatch('replace operation requires a value');
        if (path.length === 0) root = structuredClone(op.value);
        else {
          remove(path);
          add(path, structuredClone(op.value));
        }
        break;
      case 'move': {
        const from = parsePointer(op.from);
        const v = remove(from);
        add(path, v);
        break;
      }
      case 'copy': {
        const from = parsePointer(op.from);
        const v = getAt(root, from);
        if (v === undefined)
          throw invalidPatch(`copy operation does not apply: doc is missing from path: "${op.from}"`);
        add(path, structuredClone(v));
        break;
      }
      case 'test': {
        const v = getAt(root, path);
        if (!deepEqual(v, op.value)) throw invalidPatch(`testing value ${String(op.path)} failed: test failed`);
        break;
      }
      default:
        throw invalidPatch(`Unexpected kind: ${String(op.op)}`);
    }
  }
  return root;
}

// ---- strategic merge patch -------------------------------------------------------------------------

export type ListStrategy = { type: 'map'; keys: string[] } | { type: 'set' } | { type: 'atomic' };

/** Patch merge keys of the built-in kinds we serve (core/v1 struct tags), by trailing path. */
const MERGE_RULES: [RegExp, ListStrategy][] = [
  [/(^|\.)(containers|initContainers|ephemeralContainers)$/, { type: 'map', keys: ['name'] }],
  [/(containers|initContainers|ephemeralContainers)\.env$/, { type: 'map', keys: ['name'] }],
  [/(containers|initContainers|ephemeralContainers)\.ports$/, { type: 'map', keys: ['containerPort'] }],
  [/(containers|initContainers|ephemeralContainers)\.volumeMounts$/, { type: 'map', keys: ['mountPath'] }],
  [/(containers|initContainers|ephemeralContainers)\.volumeDevices$/, { type: 'map', keys: ['devicePath'] }],
  [/(^|\.)spec\.volumes$/, { type: 'map', keys: ['name'] }],
  [/(^|\.)imagePullSecrets$/, { type: 'map', keys: ['name'] }],
  [/^metadata\.ownerReferences$/, { type: 'map', keys: ['uid'] }],
  [/^metadata\.finalizers$/, { type: 'set' }],
  [/^status\.conditions$/, { type: 'map', keys: ['type'] }],
  [/^status\.addresses$/, { type: 'map', keys: ['type'] }],
  [/^spec\.ports$/, { type: 'map', keys: ['port'] }],
  [/(^|\.)hostAliases$/, { type: 'map', keys: ['ip'] }],
  [/(^|\.)topologySpreadConstraints$/, { type: 'map', keys: ['topologyKey'] }],
];

export function builtinListStrategy(path: string): ListStrategy {
  for (const [re, s] of MERGE_RULES) if (re.test(path)) return s;
  return { type: 'atomic' };
}

/** Lists in custom resources: atomic unless the schema says x-kubernetes-list-type map/set. */
export function schemaListStrategy(schema: Obj | undefined, path: string): ListStrategy {
  let s: Obj | undefined = schema;
  for (const seg of path.split('.').filter(Boolean)) {
    if (!s) break;
    while (s && s.type === 'array') s = s.items;
    if (!s) break;
    s = s.properties?.[seg] ?? (isObject(s.additionalProperties) ? s.additionalProperties : undefined);
  }
  if (!s) return { type: 'atomic' };
  const lt = s['x-kubernetes-list-type'];
  if (lt === 'map') return { type: 'map', keys: s['x-kubernetes-list-map-keys'] ?? [] };
  if (lt === 'set') return { type: 'set' };
  return { type: 'atomic' };
}

function itemKey(item: unknown, keys: string[]): string | undefined {
  if (!isObject(item)) return undefined;
  return JSON.stringify(keys.map((k) => item[k] ?? null));
}

const KNOWN_DIRECTIVE = /^(\$patch|\$retainKeys|\$setElementOrder\/.+|\$deleteFromPrimitiveList\/.+)$/;

export function strategicMerge(original: unknown, patch: unknown, path = ''): unknown {
  if (!isObject(patch)) return structuredClone(patch);
  const directive = patch.$patch;
  if (directive === 'replace') return stripDirectives(patch);
  if (directive === 'delete') return undefined;
  if (directive !== undefined && directive !== 'merge')
    throw errors.badRequest(`unknown patch type: ${String(directive)}`);
  const out: Obj = isObject(original) ? { ...original } : {};
  const orders: [string, unknown[]][] = [];
  for (const [k, v] of Object.entries(patch)) {
    if (k.startsWith('$')) {
      if (!KNOWN_DIRECTIVE.test(k)) throw errors.badRequest(`unknown directive ${k} in strategic merge patch`);
      if (k.startsWith('$setElementOrder/')) {
        if (!Array.isArray(v)) throw errors.badRequest(`${k} must be a list`);
        orders.push([k.slice('$setElementOrder/'.length), v]);
      } else if (k.startsWith('$deleteFromPrimitiveList/')) {
        const list = k.slice('$deleteFromPrimitiveList/'.length);
        if (Array.isArray(out[list]) && Array.isArray(v)) out[list] = out[list].filter((x: unknown) => !v.includes(x));
      }
      continue;
    }
    const childPath = path ? `${path}.${k}` : k;
    if (v === null) {
      delete out[k];
      continue;
    }
    if (Array.isArray(v)) {
      out[k] = mergeList(out[k], v, builtinListStrategy(childPath), childPath);
      continue;
    }
    if (isObject(v)) {
      const merged = strategicMerge(out[k], v, childPath);
      if (merged === undefined) delete out[k];
      else out[k] = merged;
      continue;
    }
    out[k] = v;
  }
  for (const [list, order] of orders)
    if (Array.isArray(out[list]))
      out[list] = reorder(out[list], order, builtinListStrategy(path ? `${path}.${list}` : list));
  if (Array.isArray(patch.$retainKeys)) {
    for (const k of Object.keys(out)) if (!patch.$retainKeys.includes(k)) delete out[k];
  }
  return out;
}

function stripDirectives(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(stripDirectives);
  if (!isObject(v)) return v;
  const out: Obj = {};
  for (const [k, x] of Object.entries(v)) if (!k.startsWith('$')) out[k] = stripDirectives(x);
  return out;
}

function mergeList(original: unknown, patch: unknown[], strategy: ListStrategy, path: string): unknown[] {
  const orig = Array.isArray(original) ? original : [];
  if (strategy.type === 'atomic') {
    if (patch.some((p) => isObject(p) && p.$patch === 'replace'))
      return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch))) as unknown[];
    return stripDirectives(patch) as unknown[];
  }
  if (strategy.type === 'set') {
    const out = [...orig];
    for (const p of patch) if (!out.some((o) => deepEqual(o, p))) out.push(p);
    return out;
  }
  if (patch.some((p) => isObject(p) && p.$patch === 'replace'))
    return stripDirectives(patch.filter((p) => !(isObject(p) && p.$patch === 'replace'))) as unknown[];
  const out = orig.map((o) => o);
  for (const p of patch) {
    const key = itemKey(p, strategy.keys);
    const idx = key === undefined ? -1 : out.findIndex((o) => itemKey(o, strategy.keys) === key);
    if (isObject(p) && p.$patch === 'delete') {
      if (idx >= 0) out.splice(idx, 1);
      continue;
    }
    if (idx >= 0) out[idx] = strategicMerge(out[idx], p, path);
    else out.push(strategicMerge(undefined, p, path));
  }
  return out;
}

function reorder(list: unknown[], order: unknown[], strategy: ListStrategy): unknown[] {
  const keyOf = (x: unknown) => (strategy.type === 'map' ? itemKey(x, strategy.keys) : JSON.stringify(x));
  const rank = new Map<string | undefined, number>();
  order.forEach((o, i) => {
    rank.set(keyOf(o), i);
  });
  const inOrder = list.filter((x) => rank.has(keyOf(x))).sort((a, b) => rank.get(keyOf(a))! - rank.get(keyOf(b))!);
  const rest = list.filter((x) => !rank.has(keyOf(x)));
  return [...inOrder, ...rest];
}
