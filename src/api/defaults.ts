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

const DEFAULT_SCALE_DOWN = { instances: 0, percent: 100, period: '1m', selectPolicy: 'Or', stabilizationWindow: '5m' };
const DEFAULT_STABLE = { instances: 4, percent: 100, period: '1m', selectPolicy: 'Or', stabilizationWindow: '0s' };
const DEFAULT_PANIC = { percent: 0, period: '0s', panicThresholdPercent: 200, panicModeHold: '0s' };

function isEmpty(v: unknown): boolean {
  return v === undefined || v === null || (isPlainObject(v) && Object.keys(v).length === 0);
}

/**
 * What upstream's AutoscalingPolicy mutating webhook adds (then CRD defaults fill the rest): a whole default
 * behavior when none is given; otherwise a default scaleDown / scaleUp / stablePolicy / panicPolicy for each
 * part that is empty, and the stabilization windows (5m down, 0s up) when missing. Returns a defaulted copy.
 */
export function applyAutoscalingAdmissionDefaults<T>(policy: T): T {
  const copy = structuredClone(policy) as any;
  if (!isPlainObject(copy) || !isPlainObject(copy.spec)) return copy;
  const spec = copy.spec as Record<string, any>;
  if (isEmpty(spec.behavior)) {
    spec.behavior = {
      scaleDown: { ...DEFAULT_SCALE_DOWN },
      scaleUp: { stablePolicy: { ...DEFAULT_STABLE }, panicPolicy: { ...DEFAULT_PANIC } },
    };
    return applyDefaults(copy) as T;
  }
  const b = spec.behavior as Record<string, any>;
  if (isEmpty(b.scaleDown)) b.scaleDown = { ...DEFAULT_SCALE_DOWN };
  else if (b.scaleDown.stabilizationWindow === undefined) b.scaleDown.stabilizationWindow = '5m';
  if (isEmpty(b.scaleUp)) {
    b.scaleUp = { stablePolicy: { ...DEFAULT_STABLE }, panicPolicy: { ...DEFAULT_PANIC } };
  } else {
    const up = b.scaleUp as Record<string, any>;
    if (isEmpty(up.stablePolicy)) up.stablePolicy = { ...DEFAULT_STABLE };
    else if (up.stablePolicy.stabilizationWindow === undefined) up.stablePolicy.stabilizationWindow = '0s';
    if (isEmpty(up.panicPolicy)) up.panicPolicy = { ...DEFAULT_PANIC };
  }
  return applyDefaults(copy) as T;
}
