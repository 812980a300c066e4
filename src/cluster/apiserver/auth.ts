// Authentication of the local API server: one bearer token, as k3s and kind hand out one admin credential in the
// kubeconfig they write. Without it the server would run any pod's command for anyone who can reach its port.
// Authorization stays off: whoever holds the token is cluster-admin (docs/cluster.md).
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';

/** Paths Kubernetes serves to anonymous clients too (system:public-info-viewer). */
const PUBLIC = new Set(['/healthz', '/livez', '/readyz', '/version']);

/** Wraps a request handler: 401 (a Kubernetes Status) unless `Authorization: Bearer <token>` matches. */
export function requireBearer(
  token: string,
  next: (req: IncomingMessage, res: ServerResponse) => void,
): (req: IncomingMessage, res: ServerResponse) => void {
  const want = Buffer.from(token);
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (PUBLIC.has(path) || bearerMatches(req.headers.authorization, want)) return next(req, res);
    req.resume(); // drain the body so the connection can answer
    const body = JSON.stringify({
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: 'Unauthorized',
      reason: 'Unauthorized',
      code: 401,
    });
    res.writeHead(401, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  };
}

export function bearerMatches(header: string | undefined, want: Buffer): boolean {
  if (!header?.startsWith('Bearer ')) return false;
  const got = Buffer.from(header.slice(7).trim());
  return got.length === want.length && timingSafeEqual(got, want);
}

export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

/**
 * The cluster's token: kept in `<dataDir>/auth-token` so kubeconfigs stay valid across restarts with the same data
 * directory; a fresh random one per start without a data directory.
 */
export async function clusterToken(dataDir: string | undefined): Promise<string> {
  const fresh = () => randomBytes(24).toString('base64url');
  if (!dataDir) return fresh();
  const file = join(dataDir, 'auth-token');
  try {
    const t = (await readFile(file, 'utf8')).trim();
    if (t.length >= 16) return t;
  } catch {
    // first start with this data directory
  }
  const t = fresh();
  await mkdir(dataDir, { recursive: true });
  await writeFile(file, `${t}\n`, { mode: 0o600 });
  return t;
}

/** Request headers that authenticate a cluster component to the API server. */
export function authHeaders(token: string | undefined): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
