// The admission webhook HTTP(S) server: POST application/json AdmissionReview to a registered path.
// Errors are Kubernetes Status objects; the server keeps serving whatever it is sent.
import { createServer as createHttp, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttps, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { KTHENA_HANDLERS } from './kthena.js';
import { AdmissionError, MODELSERVING_HANDLERS } from './modelserving.js';

const ADMISSION_HANDLERS: Record<string, (body: unknown) => unknown> = { ...MODELSERVING_HANDLERS, ...KTHENA_HANDLERS };

const MAX_BODY = 3 * 1024 * 1024; // the API server's own request limit

function status(res: ServerResponse, code: number, message: string): undefined {
  const reason =
    {
      400: 'BadRequest',
      404: 'NotFound',
      405: 'MethodNotAllowed',
      413: 'RequestEntityTooLarge',
      415: 'UnsupportedMediaType',
    }[code] ?? 'InternalError';
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ apiVersion: 'v1', kind: 'Status', status: 'Failure', code, reason, message }));
  return undefined;
}

export function handleAdmission(req: IncomingMessage, res: ServerResponse): undefined {
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/healthz') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('ok');
    return undefined;
  }
  const handler = ADMISSION_HANDLERS[path];
  if (!handler) return status(res, 404, `no webhook at ${path}`);
  if (req.method !== 'POST') return status(res, 405, 'POST an AdmissionReview');
  if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json'))
    return status(res, 415, 'Content-Type must be application/json');
  const chunks: Buffer[] = [];
  let size = 0;
  let aborted = false;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY && !aborted) {
      aborted = true;
      status(res, 413, `body larger than ${MAX_BODY} bytes`);
      req.resume();
    } else if (!aborted) chunks.push(c);
  });
  req.on('end', (): undefined => {
    if (aborted) return;
    let body: unknown;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      return status(res, 400, 'body is not valid JSON');
    }
    try {
      const out = handler(body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out));
    } catch (err) {
      if (err instanceof AdmissionError) return status(res, err.code, err.message);
      status(res, 500, (err as Error).message);
    }
  });
  return undefined;
}

export interface WebhookServer {
  url: string;
  /** Serves a renewed certificate from the next TLS handshake on; connections already open keep theirs. */
  setCertificate(cert: string, key: string): void;
  close(): Promise<void>;
}

/** HTTPS when a certificate is given (a real cluster requires it), plain HTTP otherwise (tests, local plane). */
export async function startWebhookServer(opts: {
  port?: number;
  host?: string;
  cert?: string;
  key?: string;
}): Promise<WebhookServer> {
  const tls = opts.cert && opts.key;
  const server: Server = tls
    ? createHttps({ cert: opts.cert, key: opts.key, minVersion: 'TLSv1.2' }, handleAdmission)
    : createHttp(handleAdmission);
  server.requestTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `${tls ? 'https' : 'http'}://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
    setCertificate(cert, key) {
      if (!tls) throw new Error('the webhook server was started without TLS');
      (server as HttpsServer).setSecureContext({ cert, key, minVersion: 'TLSv1.2' });
    },
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
