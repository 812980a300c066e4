// The provider error catalogue (codes live in ../errors.ts): what the client sees when an external provider is
// missing, misconfigured, slow or answers with an error. Provider 401/403 are the router's credential problem, not
// the client's, so they become 502; 429 keeps its status and Retry-After; other 4xx keep their status.
import { RouterError } from '../errors.js';

export const providerErrors = {
  notFound: (key: string) => new RouterError(404, 'provider_not_found', `can't find external model provider: ${key}`),
  notReady: (key: string, why: string) =>
    new RouterError(503, 'provider_not_ready', `external provider ${key} is not ready: ${why}`),
  unsupportedPath: (key: string, type: string, path: string, allowed: readonly string[]) =>
    new RouterError(
      400,
      'provider_unsupported_path',
      `provider ${key} (type "${type}") does not support path "${path}" (supported: ${allowed.join(', ')})`,
    ),
  badRequest: (key: string, detail: string) =>
    new RouterError(400, 'provider_bad_request', `request cannot be sent to provider ${key}: ${detail}`),
  timeout: (key: string, ms: number) =>
    new RouterError(
      504,
      'provider_timeout',
      `external provider ${key} did not answer within ${ms} ms (provider.kthena.io/timeout)`,
    ),
  unreachable: (key: string, detail: string) =>
    new RouterError(502, 'provider_unreachable', `external provider ${key} request failed: ${detail}`),
  /** Maps a provider's non-2xx answer; `message` is the provider's own (already redacted). */
  fromStatus: (key: string, status: number, message: string | undefined, retryAfter?: string): RouterError => {
    const said = message ? `: ${message}` : '';
    if (status === 401 || status === 403)
      return new RouterError(
        502,
        'provider_auth_failed',
        `external provider ${key} rejected the router's credential (HTTP ${status})${said}`,
      );
    if (status === 429)
      return new RouterError(
        429,
        'provider_rate_limited',
        `external provider ${key} is rate limiting requests${said}`,
        retryAfter ? { 'retry-after': retryAfter } : {},
      );
    if (status >= 500)
      return new RouterError(502, 'provider_error', `external provider ${key} failed with HTTP ${status}${said}`);
    return new RouterError(
      status >= 400 && status < 500 ? status : 502,
      'provider_rejected_request',
      `external provider ${key} rejected the request (HTTP ${status})${said}`,
    );
  },
};
