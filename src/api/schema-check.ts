// Checks a value against one of our structural JSON schemas the way the Kubernetes API server would for a CRD:
// types, required fields, enums, bounds, patterns, formats, list-map keys. Unknown fields become warnings
// (the API server prunes them) unless the node keeps unknown fields. CEL rules are not evaluated here; the
// semantic rules in rules/ re-implement them.
import { describe, type PathSeg, type ProblemSink } from './problems.js';
import { isGoDuration } from './values.js';

export type JsonSchema = Record<string, any>;

const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;

export function checkAgainstSchema(value: unknown, schema: JsonSchema, path: PathSeg[], sink: ProblemSink): void {
  if (sink.full) return;
  if (value === null) {
    if (schema.nullable) return;
    sink.error(path, `must be ${typeName(schema)}, got null`);
    return;
  }
  if (schema['x-kubernetes-int-or-string']) {
    checkIntOrString(value, schema, path, sink);
    return;
  }
  const type = schema.type as string | undefined;
  if (type === undefined) return; // preserve-unknown-fields: arbitrary JSON
  switch (type) {
    case 'object':
      if (!isPlainObject(value)) return void sink.error(path, `must be an object, got ${describe(value)}`);
      checkObject(value, schema, path, sink);
      return;
    case 'array':
      if (!Array.isArray(value)) return void sink.error(path, `must be a list, got ${describe(value)}`);
      checkArray(value, schema, path, sink);
      return;
    case 'string':
      if (typeof value !== 'string') {
        const hint = typeof value === 'number' || typeof value === 'boolean' ? ' (quote it in YAML)' : '';
        return void sink.error(path, `must be a string, got ${describe(value)}${hint}`);
      }
      checkString(value, schema, path, sink);
      return;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        return void sink.error(path, `must be an integer, got ${describe(value)}`);
      }
      checkNumber(value, schema, path, sink);
      return;
    case 'number':
      if (typeof value !== 'number' || !Number.isFinite(value)) {
        return void sink.error(path, `must be a number, got ${describe(value)}`);
      }
      checkNumber(value, schema, path, sink);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') return void sink.error(path, `must be true or false, got ${describe(value)}`);
      return;
    default:
      return;
  }
}

function typeName(schema: JsonSchema): string {
  if (schema['x-kubernetes-int-or-string']) return 'an integer or a string';
  switch (schema.type) {
    case 'object':
      return 'an object';
    case 'array':
      return 'a list';
    case 'integer':
      return 'an integer';
    case 'boolean':
      return 'true or false';
    case undefined:
      return 'a value';
    default:
      return `a ${schema.type}`;
  }
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function checkIntOrString(value: unknown, schema: JsonSchema, path: PathSeg[], sink: ProblemSink): void {
  if (typeof value === 'number') {
    if (!Number.isInteger(value)) {
      sink.error(path, `must be an integer or a string, got ${describe(value)} (write it as a string: "${value}")`);
    }
    return;
  }
  if (typeof value !== 'string') {
    sink.error(path, `must be an integer or a string, got ${describe(value)}`);
    return;
  }
  if (schema.pattern && !new RegExp(schema.pattern).test(value)) {
    sink.error(path, `${JSON.stringify(value)} is not a valid quantity (examples: "10", "0.5", "500m", "8Gi")`);
  }
}

function checkObject(value: Record<string, unknown>, schema: JsonSchema, path: PathSeg[], sink: ProblemSink): void {
  const props = (schema.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set<string>((schema.required as string[] | undefined) ?? []);
  const additional = schema.additionalProperties as JsonSchema | boolean | undefined;
  const preserve = schema['x-kubernetes-preserve-unknown-fields'] === true;
  const keys = Object.keys(value);
  if (typeof schema.maxProperties === 'number' && keys.length > schema.maxProperties) {
    sink.error(path, `must have at most ${schema.maxProperties} entries, has ${keys.length}`);
  }
  if (typeof schema.minProperties === 'number' && keys.length < schema.minProperties) {
    sink.error(path, `must have at least ${schema.minProperties} ${schema.minProperties === 1 ? 'entry' : 'entries'}`);
  }
  for (const name of required) {
    if (!(name in value) || value[name] === undefined) {
      sink.error([...path, name], 'is required');
    } else if (value[name] === null && !props[name]?.nullable) {
      sink.error([...path, name], 'is required (got null)');
    }
  }
  for (const key of keys) {
    if (sink.full) return;
    const v = value[key];
    const propSchema = Object.hasOwn(props, key) ? props[key] : undefined;
    if (propSchema) {
      if (v === null && !required.has(key) && !propSchema.nullable) {
        sink.warn([...path, key], 'is null; the API server drops null fields');
        continue;
      }
      if (v === null && required.has(key)) continue; // reported above
      checkAgainstSchema(v, propSchema, [...path, key], sink);
    } else if (typeof additional === 'object') {
      checkAgainstSchema(v, additional, [...path, { key }], sink);
    } else if (!preserve && additional !== true) {
      const guess = closest(key, Object.keys(props));
      sink.warn([...path, key], `unknown field "${key}"${guess ? ` (did you mean "${guess}"?)` : ''}`);
    }
  }
}

function checkArray(value: unknown[], schema: JsonSchema, path: PathSeg[], sink: ProblemSink): void {
  if (typeof schema.maxItems === 'number' && value.length > schema.maxItems) {
    sink.error(path, `must have at most ${schema.maxItems} items, has ${value.length}`);
    return; // checking thousands of items past the limit would only bury this message
  }
  if (typeof schema.minItems === 'number' && value.length < schema.minItems) {
    sink.error(path, `must have at least ${schema.minItems} ${schema.minItems === 1 ? 'item' : 'items'}`);
  }
  const items = schema.items as JsonSchema | undefined;
  if (items) {
    for (let i = 0; i < value.length && !sink.full; i++) checkAgainstSchema(value[i], items, [...path, i], sink);
  }
  const listType = schema['x-kubernetes-list-type'];
  if (listType === 'map') {
    const keys = (schema['x-kubernetes-list-map-keys'] as string[]) ?? [];
    const seen = new Map<string, number>();
    value.forEach((item, i) => {
      if (!isPlainObject(item)) return;
      const id = keys
        .map((k) => {
          const kv = item[k] ?? items?.properties?.[k]?.default;
          return `${k}=${typeof kv === 'string' || typeof kv === 'number' ? kv : JSON.stringify(kv ?? '')}`;
        })
        .join(', ');
      const first = seen.get(id);
      if (first !== undefined) sink.error([...path, i], `duplicate entry ${id} (already at index ${first})`);
      else seen.set(id, i);
    });
  } else if (listType === 'set') {
    const seen = new Set<string>();
    value.forEach((item, i) => {
      const id = JSON.stringify(item);
      if (seen.has(id)) sink.error([...path, i], `duplicate value ${id}`);
      seen.add(id);
    });
  }
}

function checkString(value: string, schema: JsonSchema, path: PathSeg[], sink: ProblemSink): void {
  if (Array.isArray(schema.enum) && !schema.enum.includes(value)) {
    const allowed = (schema.enum as string[]).map((e) => JSON.stringify(e)).join(', ');
    const ci = (schema.enum as string[]).find((e) => e.toLowerCase() === value.toLowerCase());
    sink.error(
      path,
      `must be one of ${allowed}, got ${JSON.stringify(value)}${ci ? ` (values are case-sensitive: "${ci}")` : ''}`,
    );
    return;
  }
  const len = [...value].length;
  if (typeof schema.minLength === 'number' && len < schema.minLength) {
    sink.error(path, schema.minLength === 1 ? 'must not be empty' : `must be at least ${schema.minLength} characters`);
  }
  if (typeof schema.maxLength === 'number' && len > schema.maxLength) {
    sink.error(path, `must be at most ${schema.maxLength} characters, is ${len}`);
  }
  if (typeof schema.pattern === 'string' && !new RegExp(schema.pattern).test(value)) {
    sink.error(
      path,
      `${JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value)} does not match ${schema.pattern}`,
    );
  }
  switch (schema.format) {
    case 'duration':
      if (!isGoDuration(value))
        sink.error(path, `${JSON.stringify(value)} is not a duration (examples: "10s", "1m30s", "100ms")`);
      break;
    case 'date-time':
      if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(Date.parse(value))) {
        sink.error(path, `${JSON.stringify(value)} is not an RFC 3339 date-time`);
      }
      break;
    case 'uri':
      if (!URL.canParse(value)) sink.error(path, `${JSON.stringify(value)} is not a valid URI`);
      break;
    default:
      break;
  }
}

function checkNumber(value: number, schema: JsonSchema, path: PathSeg[], sink: ProblemSink): void {
  if (schema.format === 'int32' && (value < INT32_MIN || value > INT32_MAX)) {
    sink.error(path, `${value} does not fit in a 32-bit integer`);
    return;
  }
  if (schema.format === 'int64' && !Number.isSafeInteger(value)) {
    sink.error(path, `${value} is too large to be stored exactly`);
    return;
  }
  if (typeof schema.minimum === 'number' && value < schema.minimum) {
    sink.error(
      path,
      schema.minimum === 0 ? `must not be negative, got ${value}` : `must be at least ${schema.minimum}, got ${value}`,
    );
  }
  if (typeof schema.maximum === 'number' && value > schema.maximum) {
    sink.error(path, `must be at most ${schema.maximum}, got ${value}`);
  }
}

/** The known field closest to a misspelt one, if it is close enough to be a likely typo. */
function closest(key: string, candidates: string[]): string | undefined {
  let best: string | undefined;
  let bestD = Number.POSITIVE_INFINITY;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c.toLowerCase());
    if (d < bestD) {
      bestD = d;
      best = c;
    }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(key.length / 4)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  // Optimal string alignment distance: insertions, deletions, substitutions and adjacent transpositions
  // ("wieght" → "weight" is one edit).
  if (Math.abs(a.length - b.length) > 3) return 99;
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}
