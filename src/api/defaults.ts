// CRD structural defaulting: a field with a `default` is filled when it is missing and its parent object is
// present — never creating parents — exactly as the API server does before admission.
import { lookupKind } from './kinds.js';
import { isPlainObject, type JsonSchema } from './schema-check.js';

/** Returns a deep copy of `obj` with the CRD defaults of its kind filled in. Unknown kinds are copied unchanged. */
export function applyDefaults<T>(obj: T): T {
  const copy = structuredClone(obj);
  if (!isPlainObject(copy)) return copy;
  const info = lookupKind(copy.apiVersion, copy.kind);
  if (info) defaultInPlace(copy, info.schema);
  return copy;
}

/** Fills defaults into `value` (mutating it) following `schema`. */
export function defaultInPlace(value: unknown, schema: JsonSchema): void {
  if (Array.isArray(value)) {
    if (schema.items) for (const item of value) defaultInPlace(item, schema.items);
    return;
  }
  if (!isPlainObject(value)) return;
  const props = schema.properties as Record<string, JsonSchema> | undefined;
  if (props) {
    for (const [name, sub] of Object.entries(props)) {
      // The API server prunes nulls of non-nullable fields before defaulting.
      if (value[name] === null && !sub.nullable) delete value[name];
      if (value[name] === undefined && sub.default !== undefined) value[name] = structuredClone(sub.default);
      if (value[name] !== undefined) defaultInPlace(value[name], sub);
    }
  }
  const additional = schema.additionalProperties;
  if (isPlainObject(additional)) {
    for (const key of Object.keys(value)) {
      if (!props || !Object.hasOwn(props, key)) defaultInPlace(value[key], additional);
    }
  }
}
