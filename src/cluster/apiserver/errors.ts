// Kubernetes `Status` errors: one class carrying the HTTP code, reason and details, plus builders for
// the messages the real API server uses (clients branch on `code` and `reason`, humans read `message`).

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
  type?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: StatusDetails,
  ) {
    super(message);
  }

  toStatus(): Record<string, unknown> {
    const s: Record<string, unknown> = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
    };
    if (this.details) s.details = this.details;
    s.code = this.code;
    return s;
  }
}

/** The qualified resource name used in messages: `pods`, `podgroups.scheduling.volcano.sh`. */
export function qualified(group: string, plural: string): string {
  return group ? `${plural}.${group}` : plural;
}

function detailsOf(group: string, plural: string, name: string): StatusDetails {
  const d: StatusDetails = { name };
  if (group) d.group = group;
  d.kind = plural;
  return d;
}

export const errors = {
  notFound(group: string, plural: string, name: string): ApiError {
    return new ApiError(
      404,
      'NotFound',
      `${qualified(group, plural)} "${name}" not found`,
      detailsOf(group, plural, name),
    );
  },
  noResource(): ApiError {
    return new ApiError(404, 'NotFound', 'the server could not find the requested resource', {});
  },
  alreadyExists(group: string, plural: string, name: string): ApiError {
    return new ApiError(
      409,
      'AlreadyExists',
      `${qualified(group, plural)} "${name}" already exists`,
      detailsOf(group, plural, name),
    );
  },
  conflict(group: string, plural: string, name: string, why?: string): ApiError {
    const tail = why ?? 'the object has been modified; please apply your changes to the latest version and try again';
    return new ApiError(
      409,
      'Conflict',
      `Operation cannot be fulfilled on ${qualified(group, plural)} "${name}": ${tail}`,
      detailsOf(group, plural, name),
    );
  },
  badRequest(message: string): ApiError {
    return new ApiError(400, 'BadRequest', message);
  },
  /** 422: `<Kind>.<group> "x" is invalid: <field>: <msg>, …` with one cause per problem. */
  invalid(kind: string, group: string, name: string, causes: StatusCause[]): ApiError {
    const qk = group ? `${kind}.${group}` : kind;
    const list = causes.map((c) => (c.field ? `${c.field}: ${c.message}` : c.message));
    const msg =
      list.length === 1 ? `${qk} "${name}" is invalid: ${list[0]}` : `${qk} "${name}" is invalid: [${list.join(', ')}]`;
    const details: StatusDetails = { name };
    if (group) details.group = group;
    details.kind = kind;
    details.causes = causes.map((c) => ({
      reason: c.reason ?? 'FieldValueInvalid',
      message: c.message,
      field: c.field,
    }));
    return new ApiError(422, 'Invalid', msg, details);
  },
  forbidden(message: string, details?: StatusDetails): ApiError {
    return new ApiError(403, 'Forbidden', message, details);
  },
  methodNotAllowed(): ApiError {
    return new ApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
  },
  notAcceptable(): ApiError {
    return new ApiError(
      406,
      'NotAcceptable',
      'only the following media types are accepted: application/json, application/yaml, application/json;as=Table;v=v1;g=meta.k8s.io',
    );
  },
  unsupportedMediaType(_type: string, accepted: string[]): ApiError {
    return new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    );
  },
  expired(message: string): ApiError {
    return new ApiError(410, 'Expired', message);
  },
  timeout(message: string): ApiError {
    return new ApiError(504, 'Timeout', message, {});
  },
  internal(message: string): ApiError {
    return new ApiError(500, 'InternalError', message, { causes: [{ message }] });
  },
};

/** Field-error causes, in the wording of apimachinery's field.Error. */
export const cause = {
  required(field: string, detail = ''): StatusCause {
    return { reason: 'FieldValueRequired', field, message: `Required value${detail ? `: ${detail}` : ''}` };
  },
  invalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueInvalid', field, message: `Invalid value: ${renderValue(value)}: ${detail}` };
  },
  notSupported(field: string, value: unknown, allowed: unknown[]): StatusCause {
    return {
      reason: 'FieldValueNotSupported',
      field,
      message: `Unsupported value: ${renderValue(value)}: supported values: ${allowed.map((a) => renderValue(a)).join(', ')}`,
    };
  },
  forbidden(field: string, detail: string): StatusCause {
    return { reason: 'FieldValueForbidden', field, message: `Forbidden: ${detail}` };
  },
  duplicate(field: string, value: unknown): StatusCause {
    return { reason: 'FieldValueDuplicate', field, message: `Duplicate value: ${renderValue(value)}` };
  },
  typeInvalid(field: string, value: unknown, detail: string): StatusCause {
    return { reason: 'FieldValueTypeInvalid', field, message: `Invalid value: ${renderValue(value)}: ${detail}` };
  },
};

function renderValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (v === null || v === undefined) return 'null';
  if (typeof v === 'object') return Array.isArray(v) ? `[]${typeof v[0]}` : '"object"';
  return String(v);
}
