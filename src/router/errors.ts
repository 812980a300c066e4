// The router's error catalogue: one stable code per failure, an HTTP status, and an OpenAI-style body.
// Status codes follow upstream Kthena (reference §2.7) except where docs/router.md lists a deliberate deviation.
import type { ServerResponse } from 'node:http';

export type ErrorCode =
  | 'invalid_json'
  | 'invalid_request_body'
  | 'body_too_large'
  | 'body_read_failed'
  | 'request_timeout'
  | 'model_not_found'
  | 'prompt_not_found'
  | 'route_not_found'
  | 'inference_pool_selection'
  | 'inference_pool_not_found'
  | 'inference_pool_no_pods'
  | 'inference_pool_no_ports'
  | 'reference_not_permitted'
  | 'model_server_not_found'
  | 'external_provider_unsupported'
  | 'picker_unsupported_target'
  | 'no_available_endpoints'
  | 'scheduling_failed'
  | 'all_upstreams_failed'
  | 'bad_prefill_response'
  | 'upstream_timeout'
  | 'not_found'
  | 'method_not_allowed'
  | 'shutting_down'
  | 'internal_error'
  | 'unauthorized'
  | 'rate_limit_exceeded'
  | 'rate_limiter_unavailable'
  | 'queue_timeout'
  | 'queue_cancelled'
  | 'queue_full'
  | 'provider_not_found'
  | 'provider_not_ready'
  | 'provider_unsupported_path'
  | 'provider_bad_request'
  | 'provider_timeout'
  | 'provider_unreachable'
  | 'provider_auth_failed'
  | 'provider_rate_limited'
  | 'provider_error'
  | 'provider_rejected_request';

// Access-log error.type / metric error_type for each code (upstream's finish-reason vocabulary).
const FINISH_REASON: Record<ErrorCode, string> = {
  invalid_json: 'request_parsing',
  invalid_request_body: 'request_parsing',
  body_too_large: 'request_parsing',
  body_read_failed: 'request_parsing',
  request_timeout: 'request_parsing',
  model_not_found: 'request_parsing',
  prompt_not_found: 'prompt_parsing',
  route_not_found: 'route_not_found',
  inference_pool_selection: 'inference_pool_selection',
  inference_pool_not_found: 'inference_pool_discovery',
  inference_pool_no_pods: 'pod_discovery',
  inference_pool_no_ports: 'port_discovery',
  reference_not_permitted: 'inference_pool_selection',
  model_server_not_found: 'pod_discovery',
  external_provider_unsupported: 'provider_discovery',
  picker_unsupported_target: 'pod_discovery',
  no_available_endpoints: 'pod_discovery',
  scheduling_failed: 'scheduling',
  all_upstreams_failed: 'proxy',
  bad_prefill_response: 'proxy',
  upstream_timeout: 'proxy',
  not_found: 'route_not_found',
  method_not_allowed: 'request_parsing',
  shutting_down: 'proxy',
  internal_error: 'proxy',
  unauthorized: 'authentication',
  rate_limit_exceeded: 'rate_limit',
  rate_limiter_unavailable: 'rate_limit',
  queue_timeout: 'fairness_queue',
  queue_cancelled: 'fairness_queue',
  queue_full: 'fairness_queue',
  provider_not_found: 'provider_discovery',
  provider_not_ready: 'provider_config',
  provider_unsupported_path: 'request_protocol',
  provider_bad_request: 'request_protocol',
  provider_timeout: 'upstream_transport',
  provider_unreachable: 'upstream_transport',
  provider_auth_failed: 'upstream_response',
  provider_rate_limited: 'upstream_response',
  provider_error: 'upstream_response',
  provider_rejected_request: 'upstream_response',
};

export class RouterError extends Error {
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    /** Extra response headers (Retry-After, WWW-Authenticate). */
    readonly headers: Readonly<Record<string, string>> = {},
    /** OpenAI's `param`: the request field at fault, when one is. */
    readonly param: string | null = null,
  ) {
    super(message);
    this.name = 'RouterError';
  }

  get finishReason(): string {
    return FINISH_REASON[this.code];
  }

  /** OpenAI error `type`: client errors are invalid_request_error, 5xx are server-side. */
  get type(): string {
    if (this.status === 429) return 'rate_limit_error';
    if (this.status === 401) return 'authentication_error';
    if (this.status >= 500) return this.status === 503 ? 'service_unavailable_error' : 'server_error';
    return 'invalid_request_error';
  }

  toBody(): string {
    return JSON.stringify({ error: { message: this.message, type: this.type, param: this.param, code: this.code } });
  }
}

export const errors = {
  invalidJson: (detail: string) => new RouterError(400, 'invalid_json', `invalid JSON body: ${detail}`),
  invalidBody: (detail: string) => new RouterError(400, 'invalid_request_body', detail),
  bodyTooLarge: (limit: number) =>
    new RouterError(413, 'body_too_large', `request body exceeds the limit of ${limit} bytes`),
  bodyReadFailed: (detail: string) =>
    new RouterError(400, 'body_read_failed', `request body could not be read: ${detail}`),
  requestTimeout: () => new RouterError(408, 'request_timeout', 'request body was not received in time'),
  // 400 with `param`, as OpenAI answers; upstream Kthena answers 404 here (docs/router.md, deviations).
  modelNotFound: (present = false) =>
    new RouterError(
      400,
      'model_not_found',
      present ? '"model" must be a non-empty string' : 'you must provide a model parameter ("model" is missing)',
      {},
      'model',
    ),
  promptNotFound: (param: 'prompt' | 'messages' | 'input' = 'messages') =>
    new RouterError(
      400,
      'prompt_not_found',
      `"${param}" is missing or has the wrong type (want ${param === 'messages' ? 'an array of messages' : param === 'prompt' ? 'a string or an array' : 'a string or an array of items'})`,
      {},
      param,
    ),
  routeNotFound: (model: string) =>
    new RouterError(404, 'route_not_found', `route not found: no ModelRoute serves model "${model}"`),
  // Inference Extension mode (HTTPRoute → InferencePool), upstream's statuses and messages.
  noInferencePoolBackend: (route: string) =>
    new RouterError(
      503,
      'inference_pool_selection',
      `HTTPRoute ${route}: the matched rule has no InferencePool backendRef with weight > 0`,
    ),
  inferencePoolNotFound: (key: string) =>
    new RouterError(404, 'inference_pool_not_found', `can't find inference pool: ${key}`),
  inferencePoolNoPods: (key: string) =>
    new RouterError(503, 'inference_pool_no_pods', `no available pods for inference pool: ${key}`),
  inferencePoolNoPorts: (key: string) =>
    new RouterError(400, 'inference_pool_no_ports', `inference pool ${key} has no target ports`),
  // Gateway API: a backendRef to another namespace that no ReferenceGrant permits is an invalid backend (500).
  referenceNotPermitted: (route: string, key: string) =>
    new RouterError(
      500,
      'reference_not_permitted',
      `HTTPRoute ${route}: no ReferenceGrant in namespace ${key.split('/')[0]} lets it use InferencePool ${key}`,
    ),
  modelServerNotFound: (key: string) =>
    new RouterError(404, 'model_server_not_found', `can't find model server: ${key}`),
  externalUnsupported: (key: string) =>
    new RouterError(
      501,
      'external_provider_unsupported',
      `route target ${key} is an ExternalModelProvider, which this router build does not serve yet`,
    ),
  // Endpoint-picker mode (src/router/picker): a route whose target is not a set of pods the gateway can reach itself.
  pickerUnsupported: (detail: string) => new RouterError(501, 'picker_unsupported_target', detail),
  noEndpoints: (key: string) =>
    new RouterError(503, 'no_available_endpoints', `no available pods for model server: ${key}`),
  // Upstream answers 400; nothing is wrong with the request when every endpoint is saturated, so 503 (retryable).
  schedulingFailed: (detail: string) =>
    new RouterError(503, 'scheduling_failed', `can't schedule to target pod: ${detail}`),
  allUpstreamsFailed: (detail: string) =>
    new RouterError(503, 'all_upstreams_failed', `request to all pods failed: ${detail}`),
  // Prefill/decode: the prefill pod answered 2xx with nothing a decode pod could use (src/router/pd).
  badPrefillResponse: (detail: string) =>
    new RouterError(502, 'bad_prefill_response', `prefill pod returned an unusable response: ${detail}`),
  upstreamTimeout: () =>
    new RouterError(504, 'upstream_timeout', 'upstream did not answer within trafficPolicy.timeout on any attempt'),
  notFound: (path: string) => new RouterError(404, 'not_found', `no such endpoint: ${path}`),
  methodNotAllowed: (method: string, path: string) =>
    new RouterError(405, 'method_not_allowed', `method ${method} is not allowed on ${path}`),
  shuttingDown: () => new RouterError(503, 'shutting_down', 'router is shutting down'),
  internal: (detail: string) => new RouterError(500, 'internal_error', `request processing failed: ${detail}`),
};

export function sendError(res: ServerResponse, err: RouterError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = err.toBody();
  res.writeHead(err.status, {
    ...err.headers,
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(body),
  });
  res.end(body);
}
