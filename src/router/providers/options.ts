// What the router needs to call one ExternalModelProvider, read from its spec plus our annotations
// (docs/external-providers.md; decision 0003): a pure parse with errors that name the field, so the request path,
// the status writer and `kthena validate` agree on what is wrong.
import { PROVIDER_CREDENTIAL_LABEL, RESERVED_PROVIDER_HEADERS } from '../../api/networking.js';
import type { ExternalModelProvider, ObjectMeta } from '../store/resources.js';
import { parseDuration } from '../util/duration.js';

export { PROVIDER_CREDENTIAL_LABEL };

/** Time allowed for response headers and the first body bytes; default 60 s (upstream has no bound at all). */
export const TIMEOUT_ANNOTATION = 'provider.kthena.io/timeout';
/** Longest silence between two body chunks once streaming; default 300 s. */
export const IDLE_TIMEOUT_ANNOTATION = 'provider.kthena.io/idle-timeout';
/** Extra trusted CA certificates (PEM, or base64 of PEM) for this provider, on top of the system roots. */
export const CA_BUNDLE_ANNOTATION = 'provider.kthena.io/ca-bundle';
/** Comma-separated client header names forwarded besides the built-in allowlist. */
export const FORWARD_HEADERS_ANNOTATION = 'provider.kthena.io/forward-headers';

export const DEFAULT_TIMEOUT_MS = 60_000;
export const DEFAULT_IDLE_TIMEOUT_MS = 300_000;

export type ProviderKind = 'OpenAI' | 'Anthropic';

export interface ProviderConfig {
  key: string;
  namespace: string;
  type: ProviderKind;
  baseURL: URL;
  model?: string;
  insecureSkipVerify: boolean;
  auth?: { scheme: 'Bearer' | 'APIKey'; secretName: string; secretKey: string };
  headers: Record<string, string>;
  /** Lower-cased client header names forwarded upstream (built-in allowlist plus the annotation). */
  forward: ReadonlySet<string>;
  timeoutMs: number;
  idleTimeoutMs: number;
  caBundle?: string;
}

/** Client headers forwarded to every provider (reference §2.9): content negotiation and tracing only. */
export const BASE_FORWARD_HEADERS = [
  'content-type',
  'accept',
  'x-request-id',
  'traceparent',
  'tracestate',
  'baggage',
  'x-b3-traceid',
  'x-b3-spanid',
  'x-b3-parentspanid',
  'x-b3-sampled',
  'x-b3-flags',
];
export const ANTHROPIC_FORWARD_HEADERS = ['anthropic-version', 'anthropic-beta'];

const HEADER_TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const RESERVED = new Set<string>(RESERVED_PROVIDER_HEADERS);

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Decodes the ca-bundle annotation: PEM text as is, or base64 of PEM (the Kubernetes caBundle convention). */
export function decodeCaBundle(text: string): string {
  const t = text.trim();
  if (t.startsWith('-----BEGIN')) return t;
  const decoded = Buffer.from(t.replace(/\s+/g, ''), 'base64').toString('utf8');
  if (!decoded.includes('-----BEGIN CERTIFICATE-----')) throw new Error('is neither PEM nor base64 of PEM');
  return decoded;
}

/** Parses a provider into the router's config, or the list of problems (field path: message). */
export function parseProvider(p: ExternalModelProvider): { config?: ProviderConfig; errors: string[] } {
  const errors: string[] = [];
  const md: ObjectMeta = p.metadata;
  const ns = md.namespace ?? 'default';
  const spec = isObj(p.spec) ? p.spec : {};
  const type = spec.providerType === undefined ? 'OpenAI' : spec.providerType;
  if (type !== 'OpenAI' && type !== 'Anthropic') errors.push('spec.providerType: must be OpenAI or Anthropic');
  let baseURL: URL | undefined;
  try {
    baseURL = new URL(String(spec.baseURL ?? ''));
    if (baseURL.protocol !== 'https:') errors.push('spec.baseURL: must use https://');
    if (baseURL.username || baseURL.password || baseURL.search || baseURL.hash)
      errors.push('spec.baseURL: must not carry user info, a query or a fragment');
  } catch {
    errors.push(`spec.baseURL: ${JSON.stringify(spec.baseURL ?? '')} is not a valid URL`);
  }
  const headers: Record<string, string> = {};
  if (isObj(spec.headers))
    for (const [k, v] of Object.entries(spec.headers)) {
      if (!HEADER_TOKEN.test(k) || RESERVED.has(k.toLowerCase()) || typeof v !== 'string' || /[\r\n\0]/.test(v))
        errors.push(`spec.headers.${k}: reserved or invalid header`);
      else headers[k.toLowerCase()] = v;
    }
  let auth: ProviderConfig['auth'];
  if (isObj(spec.auth)) {
    const ref = isObj(spec.auth.secretRef) ? spec.auth.secretRef : {};
    const scheme = spec.auth.scheme ?? (type === 'Anthropic' ? 'APIKey' : 'Bearer');
    if (scheme !== 'Bearer' && scheme !== 'APIKey') errors.push('spec.auth.scheme: must be Bearer or APIKey');
    if (typeof ref.name !== 'string' || !ref.name || typeof ref.key !== 'string' || !ref.key)
      errors.push('spec.auth.secretRef: name and key are required');
    else auth = { scheme: scheme as 'Bearer' | 'APIKey', secretName: ref.name, secretKey: ref.key };
  }
  const ann = md.annotations ?? {};
  const duration = (name: string, dflt: number): number => {
    const v = ann[name];
    if (v === undefined) return dflt;
    try {
      const ms = parseDuration(v);
      if (ms > 0) return ms;
      errors.push(`metadata.annotations.${name}: must be a positive duration`);
    } catch (e) {
      errors.push(`metadata.annotations.${name}: ${(e as Error).message}`);
    }
    return dflt;
  };
  const timeoutMs = duration(TIMEOUT_ANNOTATION, DEFAULT_TIMEOUT_MS);
  const idleTimeoutMs = duration(IDLE_TIMEOUT_ANNOTATION, DEFAULT_IDLE_TIMEOUT_MS);
  let caBundle: string | undefined;
  if (ann[CA_BUNDLE_ANNOTATION] !== undefined) {
    try {
      caBundle = decodeCaBundle(ann[CA_BUNDLE_ANNOTATION]);
    } catch (e) {
      errors.push(`metadata.annotations.${CA_BUNDLE_ANNOTATION}: ${(e as Error).message}`);
    }
  }
  const forward = new Set([...BASE_FORWARD_HEADERS, ...(type === 'Anthropic' ? ANTHROPIC_FORWARD_HEADERS : [])]);
  for (const raw of (ann[FORWARD_HEADERS_ANNOTATION] ?? '').split(',')) {
    const h = raw.trim().toLowerCase();
    if (!h) continue;
    if (!HEADER_TOKEN.test(h)) errors.push(`metadata.annotations.${FORWARD_HEADERS_ANNOTATION}: invalid name "${h}"`);
    else if (RESERVED.has(h))
      errors.push(`metadata.annotations.${FORWARD_HEADERS_ANNOTATION}: ${h} is reserved and never forwarded`);
    else forward.add(h);
  }
  const model = typeof spec.model === 'string' && spec.model !== '' ? spec.model : undefined;
  if (errors.length || !baseURL) return { errors };
  return {
    errors,
    config: {
      key: `${ns}/${md.name}`,
      namespace: ns,
      type: type as ProviderKind,
      baseURL,
      model,
      insecureSkipVerify: spec.insecureSkipVerify === true,
      auth,
      headers,
      forward,
      timeoutMs,
      idleTimeoutMs,
      caBundle,
    },
  };
}

/**
 * The provider URL for a request path (reference §2.9). OpenAI: a base URL with a path replaces the request's leading
 * `/v1` (`https://x/api/v3` + `/v1/chat/completions` → `/api/v3/chat/completions`). Anthropic: `/v1` is dropped only
 * when the base path already ends in `/v1`.
 */
export function providerUrl(cfg: ProviderConfig, path: string, query = ''): URL {
  const base = cfg.baseURL.pathname.replace(/\/+$/, '');
  let rest = path;
  if (cfg.type === 'OpenAI' ? base !== '' : base.endsWith('/v1')) rest = path.replace(/^\/v1(?=\/)/, '');
  const u = new URL(cfg.baseURL.href);
  u.pathname = `${base}${rest}`;
  u.search = query;
  return u;
}
