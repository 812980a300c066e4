// The Node floor of the overhead benchmark: the leanest correct streaming reverse proxy we can write with node:http
// and an undici Pool — no routing, no scheduling, no metrics — so each run shows what Node itself costs beside nginx
// and the router. Bench-only code. Forwards method, path and headers (minus hop-by-hop), relays the body both ways
// with backpressure, aborts the upstream when the client leaves, and answers 502 when the upstream is unreachable.
//   tsx bench/overhead/node-floor.ts PORT UPSTREAM_PORT
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { Pool } from 'undici';

const [port, upstreamPort] = process.argv.slice(2).map(Number);
const pool = new Pool(`http://127.0.0.1:${upstreamPort}`, { connections: 1024, pipelining: 1 });
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

function forwardable(h: IncomingHttpHeaders): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const [k, v] of Object.entries(h)) if (v !== undefined && !HOP.has(k) && k !== 'host') out[k] = v;
  return out;
}

const server = createServer((req, res) => {
  const ac = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) ac.abort();
  });
  pool
    .request({
      path: req.url ?? '/',
      method: (req.method ?? 'GET') as 'GET',
      headers: forwardable(req.headers),
      body: req.method === 'GET' || req.method === 'HEAD' ? undefined : req,
      signal: ac.signal,
    })
    .then(
      ({ statusCode, headers, body }) => {
        res.writeHead(statusCode, forwardable(headers as IncomingHttpHeaders));
        body.on('data', (c: Buffer) => {
          if (!res.write(c)) body.pause();
        });
        res.on('drain', () => body.resume());
        body.on('end', () => res.end());
        body.on('error', () => res.destroy());
      },
      () => {
        if (res.headersSent || res.destroyed) return void res.destroy();
        res.writeHead(502, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"upstream unreachable","type":"proxy_error","code":"bad_gateway"}}');
      },
    );
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
