// Who may read the debug listener. On loopback (the default) everyone on the machine may, like /debug/* always could.
// Exposed beyond loopback (--console-expose), every data request must carry `Authorization: Bearer <token>`: the
// debug views name endpoints, users and models, which is nothing to hand to a whole network.
import { createHash, timingSafeEqual } from 'node:crypto';

export interface ConsoleExposure {
  /** Listen beyond loopback (the router's --host). */
  expose: boolean;
  /** Required when exposed. */
  token?: string;
}

export type AccessVerdict = { ok: true } | { ok: false; status: 401; message: string };

/** Fails fast at start-up: an exposed console without a token would be open to anyone who can reach the port. */
export function checkExposure(e: ConsoleExposure | undefined): void {
  if (e?.expose && !e.token) {
    throw new Error('--console-expose needs a bearer token: set KTHENA_CONSOLE_TOKEN (or --console-token)');
  }
}

export function decideAccess(e: ConsoleExposure | undefined, authorization: string | undefined): AccessVerdict {
  if (!e?.expose) return { ok: true };
  const m = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? '');
  if (!m)
    return { ok: false, status: 401, message: 'the console is exposed beyond loopback: a bearer token is required' };
  return sameSecret(m[1], e.token ?? '')
    ? { ok: true }
    : { ok: false, status: 401, message: 'the bearer token does not match the console token' };
}

function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  // timingSafeEqual needs equal lengths: hash both to a fixed length first, so a wrong length leaks nothing either.
  return timingSafeEqual(digest(x), digest(y)) && x.length === y.length;
}

const digest = (b: Buffer) => createHash('sha256').update(b).digest();
