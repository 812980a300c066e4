// Admission for ModelServing, served by the controller manager: the same validate/applyDefaults of src/api that
// `kthena validate` and the local control plane use, behind AdmissionReview v1 (validating + defaulting).
import { applyDefaults, validate } from '../../api/index.js';

export const VALIDATE_PATH = '/validate-workload-ai-v1alpha1-modelserving';
export const MUTATE_PATH = '/mutate-workload-ai-v1alpha1-modelserving';

export interface AdmissionRequest {
  uid: string;
  kind?: { group?: string; version?: string; kind?: string };
  operation?: string;
  object?: unknown;
}

export interface AdmissionResponse {
  uid: string;
  allowed: boolean;
  status?: { code: number; message: string; reason?: string };
  warnings?: string[];
  patchType?: 'JSONPatch';
  patch?: string;
}

export class AdmissionError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
  }
}

export function parseReview(body: unknown): AdmissionRequest {
  const review = body as { apiVersion?: unknown; kind?: unknown; request?: AdmissionRequest } | null;
  if (!review || typeof review !== 'object' || Array.isArray(review))
    throw new AdmissionError(400, 'body must be an AdmissionReview object');
  if (review.kind !== 'AdmissionReview' || review.apiVersion !== 'admission.k8s.io/v1')
    throw new AdmissionError(400, 'expected apiVersion admission.k8s.io/v1, kind AdmissionReview');
  const req = review.request;
  if (!req || typeof req !== 'object' || typeof req.uid !== 'string' || req.uid === '')
    throw new AdmissionError(400, 'request.uid is required');
  return req;
}

export function review(response: AdmissionResponse) {
  return { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview', response };
}

/** Upstream's denial text: `validation failed:\n  - <err1>\n  - <err2>`. */
export function denialMessage(errors: { path: string; message: string }[]): string {
  return `validation failed:\n${errors.map((e) => `  - ${e.path ? `${e.path}: ` : ''}${e.message}`).join('\n')}`;
}

export function validateModelServingReview(body: unknown) {
  const req = parseReview(body);
  if (req.operation === 'DELETE' || req.object === undefined || req.object === null)
    return review({ uid: req.uid, allowed: true });
  const result = validate(req.object);
  const warnings = result.warnings.map((w) => `${w.path}: ${w.message}`);
  if (result.errors.length > 0)
    return review({
      uid: req.uid,
      allowed: false,
      status: { code: 422, reason: 'Invalid', message: denialMessage(result.errors) },
      warnings: warnings.length ? warnings : undefined,
    });
  return review({ uid: req.uid, allowed: true, warnings: warnings.length ? warnings : undefined });
}

/** A defaulting webhook: the object's spec run through `defaulter`, answered as one JSON patch replacing spec. */
export function defaultingReview(defaulter: (obj: object) => { spec?: unknown }) {
  return (body: unknown) => {
    const req = parseReview(body);
    const obj = req.object as { spec?: unknown } | undefined;
    if (req.operation === 'DELETE' || !obj || typeof obj !== 'object' || obj.spec === undefined)
      return review({ uid: req.uid, allowed: true });
    const defaulted = defaulter(obj);
    if (JSON.stringify(defaulted.spec) === JSON.stringify(obj.spec)) return review({ uid: req.uid, allowed: true });
    const patch = [{ op: 'replace', path: '/spec', value: defaulted.spec }];
    return review({
      uid: req.uid,
      allowed: true,
      patchType: 'JSONPatch',
      patch: Buffer.from(JSON.stringify(patch)).toString('base64'),
    });
  };
}

export const defaultModelServingReview = defaultingReview((obj) => applyDefaults(obj) as { spec?: unknown });

export const MODELSERVING_HANDLERS: Record<string, (body: unknown) => unknown> = {
  [VALIDATE_PATH]: validateModelServingReview,
  [MUTATE_PATH]: defaultModelServingReview,
};
