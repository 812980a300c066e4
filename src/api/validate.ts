// validate(obj): every problem of one manifest, with its field path — schema rules first, then the semantic
// rules upstream enforces in CEL and in its admission webhooks. Kinds that are not ours are errors unless they
// were registered (core kinds are, so a manifest directory may hold the Secrets and Services a demo needs).

import { applyDefaults } from './defaults.js';
import { KINDS, type KindInfo, lookupKind } from './kinds.js';
import { describe, type Problem, ProblemSink } from './problems.js';
import { semanticRules } from './rules/index.js';
import { metadataRules } from './rules/metadata.js';
import { checkAgainstSchema, isPlainObject } from './schema-check.js';

export type { Problem };

export interface ValidateOptions {
  /** Unknown fields are errors instead of warnings (like `kubectl --validate=strict`). */
  strict?: boolean;
}

export interface ValidationResult {
  errors: Problem[];
  warnings: Problem[];
}

/** A validator for a kind registered from outside (returns extra problems; may be empty). */
export type KindValidator = (obj: Record<string, unknown>, opts: ValidateOptions) => ValidationResult | Problem[];

const registered = new Map<string, KindValidator>();
const regKey = (apiVersion: string, kind: string) => `${apiVersion}\u0000${kind}`;

/**
 * Accepts another kind in `validate` (e.g. a router-local kind, or a core kind). The validator runs after the
 * generic checks (apiVersion, kind, metadata.name) and may return further problems.
 */
export function registerKind(apiVersion: string, kind: string, validator: KindValidator = () => []): void {
  registered.set(regKey(apiVersion, kind), validator);
}

export function isRegisteredKind(apiVersion: string, kind: string): boolean {
  return registered.has(regKey(apiVersion, kind));
}

// Core kinds a demo directory commonly carries next to our manifests; only their envelope is checked.
for (const kind of ['Pod', 'Service', 'Secret', 'ConfigMap', 'Namespace', 'ServiceAccount']) registerKind('v1', kind);
for (const kind of ['Deployment', 'StatefulSet']) registerKind('apps/v1', kind);

const REMOVED_KINDS: Record<string, string> = {
  AutoscalingPolicyBinding:
    'AutoscalingPolicyBinding was removed upstream (v1.0): put the scaling target in the AutoscalingPolicy itself — ' +
    'spec.homogeneousTarget {target: {targetRef}, minReplicas, maxReplicas} for one ModelServing, ' +
    'spec.heterogeneousTarget {params: [...]} for several, or spec.disaggregatedTarget {targetRef, roles} for prefill/decode roles',
};

export function validate(obj: unknown, opts: ValidateOptions = {}): ValidationResult {
  const sink = new ProblemSink();
  if (!isPlainObject(obj)) {
    sink.error('', `a manifest must be an object with apiVersion and kind, got ${describe(obj)}`);
    return sink.finish();
  }
  const { apiVersion, kind } = obj;
  if (apiVersion === undefined || apiVersion === null || apiVersion === '') sink.error('apiVersion', 'is required');
  else if (typeof apiVersion !== 'string') sink.error('apiVersion', `must be a string, got ${describe(apiVersion)}`);
  if (kind === undefined || kind === null || kind === '') sink.error('kind', 'is required');
  else if (typeof kind !== 'string') sink.error('kind', `must be a string, got ${describe(kind)}`);
  if (sink.errors.length > 0) return sink.finish();
  const av = apiVersion as string;
  const k = kind as string;

  if (Object.hasOwn(REMOVED_KINDS, k)) {
    sink.error('kind', REMOVED_KINDS[k]);
    return sink.finish();
  }
  const info = lookupKind(av, k);
  if (info) {
    validateKthena(obj, info, opts, sink);
    return sink.finish();
  }
  const extra = registered.get(regKey(av, k));
  if (extra) {
    validateEnvelope(obj, sink);
    const more = extra(obj, opts);
    const r = Array.isArray(more) ? { errors: more, warnings: [] } : more;
    for (const p of r.errors) sink.error(p.path, p.message);
    for (const p of r.warnings) sink.warn(p.path, p.message);
    return sink.finish();
  }
  const ours = Object.values(KINDS).find((i) => i.kind === k);
  if (ours) sink.error('apiVersion', `${k} is served as apiVersion "${ours.apiVersion}", not "${av}"`);
  else sink.error('kind', `unknown kind "${k}" (apiVersion "${av}"); known kinds: ${Object.keys(KINDS).join(', ')}`);
  return sink.finish();
}

function validateEnvelope(obj: Record<string, unknown>, sink: ProblemSink): void {
  const meta = obj.metadata;
  if (!isPlainObject(meta)) {
    sink.error('metadata', meta === undefined ? 'is required' : `must be an object, got ${describe(meta)}`);
    return;
  }
  metadataRules(meta, sink);
}

function validateKthena(obj: Record<string, unknown>, info: KindInfo, opts: ValidateOptions, sink: ProblemSink): void {
  // Unknown-field warnings go to their own sink so --strict can promote them to errors.
  checkAgainstSchema(obj, info.schema, [], sink);
  if (isPlainObject(obj.metadata)) metadataRules(obj.metadata, sink);
  if (!sink.full) {
    const rules = semanticRules[info.kind];
    // The API server runs admission (and CEL) on the defaulted object, so the semantic rules see defaults too.
    const defaulted = applyDefaults(obj);
    for (const rule of rules) {
      try {
        rule(defaulted, sink);
      } catch (e) {
        // A rule meeting a shape the schema already rejected must not turn into a stack trace; the schema
        // error above is the message the user needs. Tests set KTHENA_STRICT_RULES to catch rule bugs.
        if (process.env.KTHENA_STRICT_RULES) throw e;
      }
    }
  }
  if (opts.strict) {
    const unknown = sink.warnings.filter((w) => w.message.startsWith('unknown field'));
    for (const w of unknown) sink.error(w.path, w.message);
    sink.warnings.splice(0, sink.warnings.length, ...sink.warnings.filter((w) => !unknown.includes(w)));
  }
}
