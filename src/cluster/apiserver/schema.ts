// Structural-schema handling for custom resources: pruning of unknown fields, defaulting and
// OpenAPI v3 validation (the subset apiextensions-apiserver enforces, minus CEL rules).
import { cause, type StatusCause } from './errors.js';
import { deepEqual, isObject, type Obj } from './util.js';

const OBJECT_META_FIELDS = new Set([
  'name',
  'generateName',
  'namespace',
  'selfLink',
  'uid',
  'resourceVersion',
  'generation',
  'creationTimestamp',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'labels',
  'annotations',
  'ownerReferences',
  'finalizers',
  'managedFields',
]);

function join(path: string, key: string): string {
  return path ? `${path}.${key}` : key;
}

/** Drops metadata fields that are not ObjectMeta; returns the pruned paths. */
export function pruneMetadata(meta: Obj, path = 'metadata'): string[] {
  const pruned: string[] = [];
  for (const k of Object.keys(meta)) {
    if (!OBJECT_META_FIELDS.has(k)) {
      pruned.push(join(path, k));
      delete meta[k];
    }
  }
  return pruned;
}

/**
 * Removes fields the schema does not describe (in place) and returns their paths — the same set
 * `fieldValidation=Strict` reports as unknown. The root keeps apiVersion/kind/metadata.
 */
export function prune(value: unknown, schema: Obj | undefined, path = '', root = true): string[] {
  const pruned: string[] = [];
  walkPrune(value, schema, path, root, false, pruned);
  return pruned;
}

function walkPrune(
  value: unknown,
  schema: Obj | undefined,
  path: string,
  root: boolean,
  embedded: boolean,
  out: string[],
): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items)
      value.forEach((v, i) => {
        walkPrune(v, schema.items, `${path}[${i}]`, false, !!schema.items['x-kubernetes-embedded-resource'], out);
      });
    return;
  }
  if (!isObject(value)) return;
  const props: Obj = schema.properties ?? {};
  const preserve = !!schema['x-kubernetes-preserve-unknown-fields'];
  const addl = schema.additionalProperties;
  for (const key of Object.keys(value)) {
    const child = value[key];
    if ((root || embedded) && (key === 'apiVersion' || key === 'kind')) continue;
    if ((root || embedded) && key === 'metadata') {
      if (isObject(child)) {
        if (root) out.push(...pruneMetadata(child, join(path, 'metadata')));
        else if (props.metadata) walkPrune(child, props.metadata, join(path, key), false, false, out);
      }
      continue;
    }
    const ps = props[key];
    if (ps) {
      if (child === null && ps.nullable !== true) {
        delete value[key];
        continue;
      }
      walkPrune(child, ps, join(path, key), false, !!ps['x-kubernetes-embedded-resource'], out);
    } else if (isObject(addl)) {
      walkPrune(child, addl, join(path, key), false, !!addl['x-kubernetes-embedded-resource'], out);
    } else if (!preserve && addl !== true) {
      out.push(join(path, key));
      delete value[key];
    }
  }
}

/** Applies `default` values where a field is absent and its parent exists (in place). */
export function applyDefaults(value: unknown, schema: Obj | undefined): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    if (schema.items) for (const v of value) applyDefaults(v, schema.items);
    return;
  }
  if (!isObject(value)) return;
  const props: Obj = schema.properties ?? {};
  for (const [key, ps] of Object.entries(props)) {
    if (value[key] === undefined && ps && (ps as Obj).default !== undefined)
      value[key] = structuredClone((ps as Obj).default);
    if (value[key] !== undefined) applyDefaults(value[key], ps as Obj);
  }
  if (isObject(schema.additionalProperties)) {
    for (const [key, v] of Object.entries(value)) if (!props[key]) applyDefaults(v, schema.additionalProperties);
  }
}

function typeOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** Validates a value against an OpenAPI v3 structural schema; returns field causes. */
export function validateSchema(value: unknown, schema: Obj | undefined, path: string): StatusCause[] {
  const out: StatusCause[] = [];
  if (schema) walkValidate(value, schema, path, out);
  return out;
}

function walkValidate(v: unknown, s: Obj, path: string, out: StatusCause[]): void {
  const p = path || '<root>';
  if (v === null) {
    if (!s.nullable && s.type) out.push(cause.typeInvalid(p, v, `must be of type ${s.type}`));
    return;
  }
  const t = typeOf(v);
  if (s['x-kubernetes-int-or-string']) {
    if (t !== 'integer' && t !== 'string') {
      out.push(cause.typeInvalid(p, v, 'must be of type integer or string'));
      return;
    }
  } else if (s.type) {
    const ok = s.type === t || (s.type === 'number' && t === 'integer');
    if (!ok) {
      out.push(cause.typeInvalid(p, v, `must be of type ${s.type}`));
      return;
    }
  }
  if (Array.isArray(s.enum) && !s.enum.some((e: unknown) => deepEqual(e, v)))
    out.push(cause.notSupported(p, v, s.enum));
  if (typeof v === 'number') {
    if (s.format === 'int32' && (v > 2147483647 || v < -2147483648))
      out.push(cause.invalid(p, v, 'must be a 32-bit integer'));
    if (typeof s.minimum === 'number') {
      if (s.exclusiveMinimum ? v <= s.minimum : v < s.minimum)
        out.push(cause.invalid(p, v, `should be greater than ${s.exclusiveMinimum ? '' : 'or equal to '}${s.minimum}`));
    }
    if (typeof s.maximum === 'number') {
      if (s.exclusiveMaximum ? v >= s.maximum : v > s.maximum)
        out.push(cause.invalid(p, v, `should be less than ${s.exclusiveMaximum ? '' : 'or equal to '}${s.maximum}`));
    }
    if (
      typeof s.multipleOf === 'number' &&
      s.multipleOf > 0 &&
      Math.abs(v / s.multipleOf - Math.round(v / s.multipleOf)) > 1e-9
    )
      out.push(cause.invalid(p, v, `should be a multiple of ${s.multipleOf}`));
  }
  if (typeof v === 'string') {
    const len = [...v].length;
    if (typeof s.minLength === 'number' && len < s.minLength)
      out.push(cause.invalid(p, v, `should be at least ${s.minLength} chars long`));
    if (typeof s.maxLength === 'number' && len > s.maxLength)
      out.push({
        reason: 'FieldValueTooLong',
        field: p,
        message: `Too long: may not be more than ${s.maxLength} bytes`,
      });
    if (typeof s.pattern === 'string') {
      let re: RegExp | undefined;
      try {
        re = new RegExp(s.pattern, 'u');
      } catch {
        re = undefined;
      }
      if (re && !re.test(v)) out.push(cause.invalid(p, v, `should match '${s.pattern}'`));
    }
    if (s.format === 'date-time' && !DATE_TIME.test(v)) out.push(cause.invalid(p, v, 'must be a valid date-time'));
  }
  if (Array.isArray(v)) {
    if (typeof s.minItems === 'number' && v.length < s.minItems)
      out.push(cause.invalid(p, v, `should have at least ${s.minItems} items`));
    if (typeof s.maxItems === 'number' && v.length > s.maxItems)
      out.push({
        reason: 'FieldValueTooMany',
        field: p,
        message: `Too many: ${v.length}: must have at most ${s.maxItems} items`,
      });
    const lt = s['x-kubernetes-list-type'];
    if (lt === 'set') {
      for (let i = 0; i < v.length; i++)
        for (let j = 0; j < i; j++) if (deepEqual(v[i], v[j])) out.push(cause.duplicate(`${path}[${i}]`, v[i]));
    } else if (lt === 'map') {
      const keys: string[] = s['x-kubernetes-list-map-keys'] ?? [];
      const seen = new Set<string>();
      v.forEach((item, i) => {
        if (!isObject(item)) return;
        const k = JSON.stringify(keys.map((key) => item[key]));
        if (seen.has(k)) out.push(cause.duplicate(`${path}[${i}]`, item));
        seen.add(k);
      });
    }
    if (s.items)
      v.forEach((item, i) => {
        walkValidate(item, s.items, `${path}[${i}]`, out);
      });
  }
  if (isObject(v)) {
    const n = Object.keys(v).length;
    if (typeof s.minProperties === 'number' && n < s.minProperties)
      out.push(cause.invalid(p, n, `should have at least ${s.minProperties} properties`));
    if (typeof s.maxProperties === 'number' && n > s.maxProperties)
      out.push({
        reason: 'FieldValueTooMany',
        field: p,
        message: `Too many: ${n}: must have at most ${s.maxProperties} items`,
      });
    for (const r of s.required ?? []) if (v[r] === undefined) out.push(cause.required(join(path, r)));
    const props: Obj = s.properties ?? {};
    for (const [k, child] of Object.entries(v)) {
      if (props[k]) walkValidate(child, props[k], join(path, k), out);
      else if (isObject(s.additionalProperties)) walkValidate(child, s.additionalProperties, join(path, k), out);
    }
  }
  for (const sub of s.allOf ?? []) walkValidate(v, sub, path, out);
  if (Array.isArray(s.anyOf) && s.anyOf.length > 0) {
    if (!s.anyOf.some((sub: Obj) => validateSchema(v, sub, path).length === 0))
      out.push(cause.invalid(p, v, 'must validate at least one schema (anyOf)'));
  }
  if (Array.isArray(s.oneOf) && s.oneOf.length > 0) {
    const n = s.oneOf.filter((sub: Obj) => validateSchema(v, sub, path).length === 0).length;
    if (n !== 1) out.push(cause.invalid(p, v, 'must validate one and only one schema (oneOf)'));
  }
  if (isObject(s.not) && validateSchema(v, s.not, path).length === 0)
    out.push(cause.invalid(p, v, 'must not validate the schema (not)'));
}
