// Small constructors over TypeBox that produce exactly the JSON Schema shapes a Kubernetes structural schema
// accepts (enums as typed strings, maps as additionalProperties, int-or-string, preserve-unknown-fields), while
// keeping precise static types. Every kind in this folder is built from these so the CRD generator, the
// validator and the defaulter all read one and the same schema.
import Type, { type Static, type TSchema } from 'typebox';

export type { Static, TSchema };
export { Type };

/** A CEL rule as Kubernetes stores it in `x-kubernetes-validations`. */
export interface CelRule {
  rule: string;
  message?: string;
  fieldPath?: string;
  reason?: string;
}

type Opts = Record<string, unknown>;

export function Str(opts: Opts = {}) {
  return Type.String(opts);
}

export function Bool(opts: Opts = {}) {
  return Type.Boolean(opts);
}

export function Int32(opts: Opts = {}) {
  return Type.Integer({ format: 'int32', ...opts });
}

export function Int64(opts: Opts = {}) {
  return Type.Integer({ format: 'int64', ...opts });
}

/** A string enum; values are case-sensitive as in upstream's CRDs. */
export function Enum<const T extends readonly string[]>(values: T, opts: Opts = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });
}

/** map[string]V — emitted as `additionalProperties`, the only map form a structural schema allows. */
export function MapOf<S extends TSchema>(value: S, opts: Opts = {}) {
  return Type.Unsafe<Record<string, Static<S>>>({ type: 'object', additionalProperties: value, ...opts });
}

export function StringMap(opts: Opts = {}) {
  return MapOf(Type.String(), opts);
}

/** intstr.IntOrString, e.g. `maxUnavailable: 1` or `"25%"`. */
export function IntOrString(opts: Opts = {}) {
  return Type.Unsafe<number | string>({
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    'x-kubernetes-int-or-string': true,
    ...opts,
  });
}

/** resource.Quantity: `"10"`, `0.5`, `"8Gi"`, `"500m"`. */
export const QUANTITY_PATTERN =
  '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$';
export function Quantity(opts: Opts = {}) {
  return Type.Unsafe<number | string>({
    anyOf: [{ type: 'integer' }, { type: 'string' }],
    pattern: QUANTITY_PATTERN,
    'x-kubernetes-int-or-string': true,
    ...opts,
  });
}

/** metav1.Duration: a Go duration string such as `10s`, `1m30s`, `100ms`. */
export function Duration(opts: Opts = {}) {
  return Type.String({ format: 'duration', ...opts });
}

/** An RFC 3339 timestamp (metav1.Time). */
export function Time(opts: Opts = {}) {
  return Type.String({ format: 'date-time', ...opts });
}

/** An object whose fields we do not model one by one; Kubernetes keeps whatever is inside. */
export function Opaque<T = Record<string, unknown>>(opts: Opts = {}) {
  return Type.Unsafe<T>({ type: 'object', 'x-kubernetes-preserve-unknown-fields': true, ...opts });
}

/** Arbitrary JSON (apiextensionsv1.JSON), e.g. a plugin or engine config. */
export function AnyJson(opts: Opts = {}) {
  return Type.Unsafe<unknown>({ 'x-kubernetes-preserve-unknown-fields': true, ...opts });
}

/**
 * Attaches descriptions to a schema and to some of its fields (they end up in the CRDs, so `kubectl explain`
 * shows them, and in docs/api.md). Field schemas are copied before annotation because one type may be used
 * as a field in several places.
 */
export function describeSchema(schema: TSchema, description: string, fields: Record<string, string> = {}): void {
  const s = schema as Record<string, any>;
  s.description = description;
  const props = s.properties as Record<string, Record<string, unknown>> | undefined;
  for (const [name, text] of Object.entries(fields)) {
    if (!props || !Object.hasOwn(props, name)) throw new Error(`describeSchema: no field ${name}`);
    const copy = Object.defineProperties({}, Object.getOwnPropertyDescriptors(props[name])) as Record<string, unknown>;
    copy.description = text;
    props[name] = copy;
  }
}

/**
 * Marks a schema as a well-known Kubernetes type (`core/v1 PodTemplateSpec`): docs/api.md names it instead of
 * expanding it. Set at definition time so `Type.Optional` copies carry the mark too. Not emitted in CRDs.
 */
export function kubeType<S extends TSchema>(ref: string, schema: S): S {
  (schema as Record<string, unknown>)['x-kthena-ref'] = ref;
  return schema;
}
