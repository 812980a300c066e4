// Admission for ModelBooster (validate; upstream's mutator is a no-op), AutoscalingPolicy (validate + upstream's
// behavior defaults) and — upstream has these in its router — ModelRoute and ModelServer (validate). Every check
// is src/api's `validate`, the one `kthena validate` runs, so a denial names the same field paths.
import { applyAutoscalingAdmissionDefaults, validate } from '../../api/index.js';
import { defaultingReview, denialMessage, parseReview, review } from './modelserving.js';

export const PATHS = {
  validateModelBooster: '/validate/modelbooster',
  mutateModelBooster: '/mutate/modelbooster',
  validateAutoscalingPolicy: '/validate/autoscalingpolicy',
  mutateAutoscalingPolicy: '/mutate/autoscalingpolicy',
  validateModelRoute: '/validate/modelroute',
  validateModelServer: '/validate/modelserver',
} as const;

/** A validating webhook for one kind: the object must be that kind and pass `validate`. */
function validating(kind: string) {
  return (body: unknown) => {
    const req = parseReview(body);
    const obj = req.object as { kind?: unknown } | undefined | null;
    if (req.operation === 'DELETE' || obj === undefined || obj === null) return review({ uid: req.uid, allowed: true });
    if (typeof obj !== 'object' || obj.kind !== kind)
      return review({
        uid: req.uid,
        allowed: false,
        status: {
          code: 400,
          reason: 'BadRequest',
          message: `this webhook admits ${kind} objects, got ${JSON.stringify(obj?.kind)}`,
        },
      });
    const result = validate(obj);
    const warnings = result.warnings.map((w) => `${w.path}: ${w.message}`);
    return review({
      uid: req.uid,
      allowed: result.errors.length === 0,
      ...(result.errors.length
        ? { status: { code: 422, reason: 'Invalid', message: denialMessage(result.errors) } }
        : {}),
      ...(warnings.length ? { warnings } : {}),
    });
  };
}

/** Upstream's ModelBooster mutator: always an empty patch. */
function allowUnchanged(body: unknown) {
  const req = parseReview(body);
  return review({ uid: req.uid, allowed: true });
}

/** Upstream's AutoscalingPolicy behavior defaults (§5.3), as one JSON patch replacing spec. */
const defaultAutoscalingPolicy = defaultingReview(
  (obj) => applyAutoscalingAdmissionDefaults(obj) as { spec?: unknown },
);

export const KTHENA_HANDLERS: Record<string, (body: unknown) => unknown> = {
  [PATHS.validateModelBooster]: validating('ModelBooster'),
  [PATHS.mutateModelBooster]: allowUnchanged,
  [PATHS.validateAutoscalingPolicy]: validating('AutoscalingPolicy'),
  [PATHS.mutateAutoscalingPolicy]: defaultAutoscalingPolicy,
  [PATHS.validateModelRoute]: validating('ModelRoute'),
  [PATHS.validateModelServer]: validating('ModelServer'),
};
