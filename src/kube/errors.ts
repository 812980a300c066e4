// Errors from the Kubernetes API, carrying the server's Status (reason, code, message) so callers can branch on
// `reason` the way client-go's apierrors.IsNotFound/IsConflict do.

export interface KubeStatus {
  kind?: string;
  apiVersion?: string;
  status?: string;
  message?: string;
  reason?: string;
  code?: number;
  details?: unknown;
}

const reasonByStatus: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  413: 'RequestEntityTooLarge',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export class KubeApiError extends Error {
  override name = 'KubeApiError';
  /** HTTP status (or the Status object's `code` for errors delivered as watch ERROR events). */
  readonly status: number;
  /** Status `reason` (NotFound, AlreadyExists, Conflict, Expired, Gone, Invalid, …). */
  readonly reason: string;
  /** The decoded response body (normally a Status object), or the raw text when it was not JSON. */
  readonly body: unknown;

  constructor(status: number, reason: string, message: string, body: unknown) {
    super(message);
    this.status = status;
    this.reason = reason;
    this.body = body;
  }

  /** Builds the error from an HTTP status and response text, preferring the Status object's own fields. */
  static fromResponse(status: number, text: string, what: string): KubeApiError {
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    const st = isStatus(body) ? body : undefined;
    const code = typeof st?.code === 'number' && st.code > 0 ? st.code : status;
    const reason = st?.reason || reasonByStatus[code] || 'Unknown';
    const message = st?.message || (typeof body === 'string' && body.trim() ? body.trim().slice(0, 500) : reason);
    return new KubeApiError(code, reason, `${what}: ${code} ${reason}: ${message}`, body);
  }

  /** Builds the error from a Status object delivered in a watch ERROR event. */
  static fromStatus(st: KubeStatus, what: string): KubeApiError {
    const code = typeof st.code === 'number' ? st.code : 500;
    const reason = st.reason || reasonByStatus[code] || 'Unknown';
    return new KubeApiError(code, reason, `${what}: ${code} ${reason}: ${st.message ?? ''}`, st);
  }
}

function isStatus(b: unknown): b is KubeStatus {
  return typeof b === 'object' && b !== null && (b as KubeStatus).kind === 'Status';
}

export function isNotFound(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 404;
}
export function isAlreadyExists(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 409 && e.reason === 'AlreadyExists';
}
/** A 409 of any kind: stale resourceVersion (Conflict) or AlreadyExists. */
export function isConflict(e: unknown): boolean {
  return e instanceof KubeApiError && e.status === 409;
}
/** 410 Gone / Expired: the resourceVersion or continue token is too old; the caller must relist. */
export function isGone(e: unknown): boolean {
  return e instanceof KubeApiError && (e.status === 410 || e.reason === 'Expired' || e.reason === 'Gone');
}

/** A watch stream carried a line that is not a valid watch event. The reflector treats it as a reason to relist. */
export class WatchDecodeError extends Error {
  override name = 'WatchDecodeError';
  constructor(
    message: string,
    readonly line: string,
  ) {
    super(message);
  }
}
