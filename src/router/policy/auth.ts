// Authentication as the first admission stage: JWT bearer tokens verified against a JWKS (upstream's `auth` section:
// jwksUri, issuer, audiences) and API keys stored hashed (our addition: auth.apiKeys). Sets the request's user and
// priority tier. Every rejection is a 401 with an OpenAI-style body; neither the credential nor its hash is ever put
// in an error message, a log line or a metric label.
import { unwatchFile, watchFile } from 'node:fs';
import { createRemoteJWKSet, type JWTPayload, type JWTVerifyGetKey, errors as joseErrors, jwtVerify } from 'jose';
import type { Logger } from 'pino';
import type { AdmissionStage } from '../admission/chain.js';
import { RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import { type ApiKeyEntry, hashApiKey, loadApiKeysFile } from './api-keys.js';
import { setIdentity } from './identity.js';
import type { GovernanceMetrics } from './metrics.js';

export interface AuthConfig {
  jwksUri?: string;
  issuer?: string;
  audiences?: string[];
  /** JWT claim holding the user's integer priority tier (ours). */
  tierClaim?: string;
  /** API keys file or Secret manifest (ours); re-read when it changes. */
  apiKeysFile?: string;
  /** Label selector of Secrets holding API keys (ours; needs the Kubernetes source), e.g. kthena.io/api-keys=true. */
  apiKeysSecretSelector?: string;
  /** Namespace of those Secrets; default: the namespace the router watches (all when none). */
  apiKeysSecretNamespace?: string;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Validates the router configuration's `auth` section; undefined when authentication is off. */
export function parseAuthConfig(raw: Record<string, unknown> | undefined): AuthConfig | undefined {
  if (!raw) return undefined;
  const problems: string[] = [];
  const str = (k: string): string | undefined => {
    const v = raw[k];
    if (v === undefined || v === '') return undefined;
    if (typeof v !== 'string') problems.push(`auth.${k}: must be a string`);
    return typeof v === 'string' ? v : undefined;
  };
  const cfg: AuthConfig = { jwksUri: str('jwksUri'), issuer: str('issuer'), tierClaim: str('tierClaim') };
  if (cfg.jwksUri) {
    try {
      const u = new URL(cfg.jwksUri);
      if (u.protocol !== 'https:' && u.protocol !== 'http:') problems.push('auth.jwksUri: must be an http(s) URL');
    } catch {
      problems.push('auth.jwksUri: not a URL');
    }
    if (!cfg.issuer) problems.push('auth.issuer: required with jwksUri (the token issuer to accept)');
  }
  if (raw.audiences !== undefined) {
    if (!Array.isArray(raw.audiences) || !raw.audiences.every((a) => typeof a === 'string'))
      problems.push('auth.audiences: must be a list of strings');
    else cfg.audiences = raw.audiences as string[];
  }
  if (raw.apiKeys !== undefined) {
    const k = raw.apiKeys;
    const nonEmpty = (v: unknown) => typeof v === 'string' && v !== '';
    if (!isObj(k) || (!nonEmpty(k.file) && !nonEmpty(k.secretSelector)))
      problems.push(
        'auth.apiKeys: must be a mapping with a "file" (keys file or Secret manifest) and/or a "secretSelector" (label selector of Secrets)',
      );
    else {
      if (k.file !== undefined && !nonEmpty(k.file)) problems.push('auth.apiKeys.file: must be a non-empty string');
      if (k.secretSelector !== undefined && !nonEmpty(k.secretSelector))
        problems.push('auth.apiKeys.secretSelector: must be a non-empty label selector');
      if (k.secretNamespace !== undefined && !nonEmpty(k.secretNamespace))
        problems.push('auth.apiKeys.secretNamespace: must be a non-empty string');
      if (nonEmpty(k.file)) cfg.apiKeysFile = k.file as string;
      if (nonEmpty(k.secretSelector)) cfg.apiKeysSecretSelector = k.secretSelector as string;
      if (nonEmpty(k.secretNamespace)) cfg.apiKeysSecretNamespace = k.secretNamespace as string;
    }
  }
  if (problems.length) throw new Error(`invalid router configuration:\n  ${problems.join('\n  ')}`);
  if (!cfg.jwksUri && !cfg.apiKeysFile && !cfg.apiKeysSecretSelector) return undefined;
  return cfg;
}

export type AuthFailure =
  | 'missing_credentials'
  | 'malformed_header'
  | 'invalid_token'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_claims'
  | 'unknown_api_key'
  | 'key_set_unavailable';

const MESSAGES: Record<AuthFailure, string> = {
  missing_credentials: 'authentication required: send "Authorization: Bearer <token or API key>"',
  malformed_header: 'malformed Authorization header: expected "Bearer <credential>"',
  invalid_token: 'invalid token: signature or format could not be verified',
  expired: 'token expired',
  not_yet_valid: 'token not valid yet (nbf/iat in the future)',
  bad_claims: 'token claims rejected (issuer, audience or subject)',
  unknown_api_key: 'invalid API key',
  key_set_unavailable: 'token could not be verified: the signing key set is unavailable',
};

export function unauthorized(reason: AuthFailure): RouterError {
  return new RouterError(401, 'unauthorized', MESSAGES[reason], { 'www-authenticate': 'Bearer realm="kthena"' });
}

export interface AuthOptions {
  metrics: GovernanceMetrics;
  log: Logger;
  /** Clock for exp/nbf/iat checks (tests). */
  now?: () => Date;
  /** Key set override (tests); default: the remote JWKS at jwksUri, cached by jose and refetched on an unknown kid. */
  keySet?: JWTVerifyGetKey;
  apiKeysPollMs?: number;
}

export class AuthStage implements AdmissionStage {
  readonly name = 'auth';
  private keys = new Map<string, ApiKeyEntry>();
  /** Keys from labelled Kubernetes Secrets (sources/api-key-secrets.ts); replaced whole on every change. */
  private secretKeys = new Map<string, ApiKeyEntry>();
  private readonly keySet: JWTVerifyGetKey | undefined;

  constructor(
    readonly cfg: AuthConfig,
    private readonly o: AuthOptions,
  ) {
    this.keySet =
      o.keySet ??
      (cfg.jwksUri
        ? createRemoteJWKSet(new URL(cfg.jwksUri), { cacheMaxAge: 7 * 86_400_000, cooldownDuration: 30_000 })
        : undefined);
    if (cfg.apiKeysFile) {
      const file = cfg.apiKeysFile;
      this.keys = loadApiKeysFile(file); // a bad file at start-up is fatal, with the path of the bad entry
      watchFile(file, { interval: o.apiKeysPollMs ?? 2000, persistent: false }, () => {
        try {
          this.keys = loadApiKeysFile(file);
          o.log.info({ file, keys: this.keys.size }, 'API keys reloaded');
        } catch (e) {
          o.log.error({ file, err: (e as Error).message }, 'API keys file rejected; keeping the previous keys');
        }
      });
    }
  }

  /** Number of API keys loaded (for the debug view and tests; never the keys). */
  get apiKeyCount(): number {
    return this.keys.size + this.secretKeys.size;
  }

  /** Replaces the keys that come from Kubernetes Secrets (key rotation: the old set is gone at once). */
  setSecretKeys(keys: Map<string, ApiKeyEntry>): void {
    this.secretKeys = keys;
  }

  async admit(ctx: RequestContext): Promise<undefined> {
    try {
      const cred = credentialOf(ctx.headers);
      if (looksLikeJwt(cred) && this.keySet) {
        const { user, tier } = await this.verifyJwt(cred);
        setIdentity(ctx, user, tier);
        return undefined;
      }
      const hash = hashApiKey(cred);
      const entry = this.keys.get(hash) ?? this.secretKeys.get(hash);
      if (!entry) throw new AuthError(looksLikeJwt(cred) ? 'invalid_token' : 'unknown_api_key');
      setIdentity(ctx, entry.user, entry.tier);
      return undefined;
    } catch (e) {
      if (e instanceof AuthError) {
        this.o.metrics.authFailures.inc({ reason: e.reason });
        throw unauthorized(e.reason);
      }
      throw e;
    }
  }

  private async verifyJwt(token: string): Promise<{ user: string; tier: number }> {
    const now = this.o.now?.() ?? new Date();
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.keySet as JWTVerifyGetKey, {
        issuer: this.cfg.issuer,
        audience: this.cfg.audiences?.length ? this.cfg.audiences : undefined,
        requiredClaims: ['exp', 'sub'],
        currentDate: now,
      }));
    } catch (e) {
      throw new AuthError(joseReason(e));
    }
    // Upstream also rejects an iat more than a minute in the future (jose only checks iat with maxTokenAge).
    if (typeof payload.iat === 'number' && payload.iat > now.getTime() / 1000 + 60)
      throw new AuthError('not_yet_valid');
    if (typeof payload.sub !== 'string' || payload.sub === '') throw new AuthError('bad_claims');
    const claim = this.cfg.tierClaim ? payload[this.cfg.tierClaim] : undefined;
    const tier = typeof claim === 'number' && Number.isInteger(claim) ? claim : 0;
    return { user: payload.sub, tier };
  }

  close(): void {
    if (this.cfg.apiKeysFile) unwatchFile(this.cfg.apiKeysFile);
  }
}

class AuthError extends Error {
  constructor(readonly reason: AuthFailure) {
    super(reason);
  }
}

function joseReason(e: unknown): AuthFailure {
  if (e instanceof joseErrors.JWTExpired) return 'expired';
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    return e.claim === 'nbf' || e.claim === 'iat' ? 'not_yet_valid' : 'bad_claims';
  }
  if (e instanceof joseErrors.JWKSTimeout) return 'key_set_unavailable';
  // A JWKS that cannot be fetched or parsed: jose's generic error about the key set, or fetch's own TypeError.
  if (e instanceof joseErrors.JOSEError)
    return /JSON Web Key Set/i.test(e.message) ? 'key_set_unavailable' : 'invalid_token';
  if (e instanceof TypeError && /fetch/i.test(e.message)) return 'key_set_unavailable';
  return 'invalid_token';
}

function looksLikeJwt(s: string): boolean {
  return /^[\w-]+\.[\w-]+\.[\w-]*$/.test(s);
}

/** `Authorization: Bearer X` (scheme case-insensitive, exactly two fields) or `x-api-key: X`. */
function credentialOf(headers: RequestContext['headers']): string {
  const auth = headers.authorization;
  if (auth !== undefined) {
    const parts = auth.trim().split(/\s+/);
    if (parts.length !== 2 || parts[0].toLowerCase() !== 'bearer' || !parts[1]) throw new AuthError('malformed_header');
    return parts[1];
  }
  const key = headers['x-api-key'];
  if (typeof key === 'string' && key !== '') return key;
  throw new AuthError('missing_credentials');
}
