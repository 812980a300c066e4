// Where a conversation's id comes from: a request header, a cookie, or a claim of the bearer JWT (router config).
// The JWT is only decoded here, not verified: verification is the auth stage's job, and when auth is off a forged
// claim can do no more than choose which endpoint serves the sender's own requests. The id is scoped by the
// ModelServer and the authenticated user, so one user cannot steer another user's sessions.
import type { IncomingHttpHeaders } from 'node:http';

export interface SessionIdSource {
  /** Lower-case header name, e.g. x-session-id. */
  header?: string;
  cookie?: string;
  jwtClaim?: string;
}

/** Longer ids are ignored (no pinning) so a client cannot spend the map's memory on huge keys. */
export const MAX_SESSION_ID_LENGTH = 256;

export function sessionIdOf(headers: IncomingHttpHeaders, src: SessionIdSource): string | undefined {
  const id = fromHeader(headers, src.header) ?? fromCookie(headers, src.cookie) ?? fromJwt(headers, src.jwtClaim);
  return id && id.length <= MAX_SESSION_ID_LENGTH ? id : undefined;
}

function fromHeader(h: IncomingHttpHeaders, name: string | undefined): string | undefined {
  if (!name) return undefined;
  const v = h[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.trim() || undefined : undefined;
}

function fromCookie(h: IncomingHttpHeaders, name: string | undefined): string | undefined {
  if (!name || !h.cookie) return undefined;
  for (const part of h.cookie.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    let v = part.slice(eq + 1).trim();
    if (v.startsWith('"') && v.endsWith('"') && v.length >= 2) v = v.slice(1, -1);
    try {
      v = decodeURIComponent(v);
    } catch {
      // keep the raw value
    }
    return v || undefined;
  }
  return undefined;
}

function fromJwt(h: IncomingHttpHeaders, claim: string | undefined): string | undefined {
  if (!claim || !h.authorization) return undefined;
  const m = /^\s*bearer\s+([\w-]+)\.([\w-]+)\.[\w-]*\s*$/i.exec(h.authorization);
  if (!m || m[2].length > 16_384) return undefined;
  try {
    const payload = JSON.parse(Buffer.from(m[2], 'base64url').toString('utf8')) as Record<string, unknown>;
    const v = payload[claim];
    return typeof v === 'string' ? v || undefined : typeof v === 'number' && Number.isFinite(v) ? String(v) : undefined;
  } catch {
    return undefined;
  }
}
