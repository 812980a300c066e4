// The Kthena API: TypeBox schemas (one source for TS types, validation, defaults and CRDs) of
// networking.serving.volcano.sh/v1alpha1 and workload.serving.volcano.sh/v1alpha1.

export { renderApiDoc, SEMANTIC_RULES } from './apidoc.js';
export * from './core.js';
export {
  crdFor,
  crdSchemas,
  generateCrds,
  renderCrdFiles,
  renderCrdsYaml,
  structuralProblems,
  toCrdSchema,
} from './crds.js';
export { applyAutoscalingAdmissionDefaults, applyDefaults, defaultInPlace } from './defaults.js';
export * from './kinds.js';
export {
  MAX_DOCUMENT_BYTES,
  type ManifestDoc,
  type ManifestError,
  type ParsedManifests,
  parseManifests,
  parsePath,
} from './manifests.js';
export * from './meta.js';
export * from './modelbooster-options.js';
export * from './modelserving-options.js';
export * from './networking.js';
export { formatPath, MAX_PROBLEMS_PER_DOCUMENT, type Problem } from './problems.js';
export { isDns1035Label, isDns1123Label, isDns1123Subdomain } from './rules/metadata.js';
export { compileRe2 } from './rules/util.js';
export type { JsonSchema } from './schema-check.js';
export { labelSelectorMatches } from './selector.js';
export {
  isRegisteredKind,
  type KindValidator,
  registerKind,
  type ValidateOptions,
  type ValidationResult,
  validate,
} from './validate.js';
export { isGoDuration, parseDurationMs, parseQuantity, resolveIntOrPercent } from './values.js';
export * from './workload.js';
