// The kubelet's own HTTP endpoint (loopback only), shaped like a real kubelet's so the API server can serve
// `kubectl logs` by proxying pods/log to http://<node InternalIP>:<daemonEndpoints.kubeletEndpoint.Port>:
//   GET /containerLogs/{namespace}/{pod}/{container}?follow&previous&tailLines&limitBytes
//   GET /healthz
import { closeSync, existsSync, openSync, readFileSync, readSync, statSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ContainerLogInfo {
  containers: string[];
  logPath(container: string, previous: boolean): string;
  restartCount(container: string): number;
  isRunning(container: string): boolean;
}
export type LogLookup = (namespace: string, pod: string) => ContainerLogInfo | undefined;

function sendError(res: http.ServerResponse, code: number, message: string): void {
  res.writeHead(code, { 'content-type': 'text/plain; charset=utf-8' });
  res.end(`${message}\n`);
}

export function tailText(text: string, tailLines?: number, limitBytes?: number): string {
  let out = text;
  if (tailLines !== undefined && tailLines >= 0) {
    const lines = out.split('\n');
    const trailing = lines[lines.length - 1] === '' ? lines.pop() : undefined;
    out =
      lines.slice(Math.max(0, lines.length - tailLines)).join('\n') +
      (trailing !== undefined && tailLines > 0 ? '\n' : '');
  }
  if (limitBytes !== undefined && limitBytes >= 0) out = Buffer.from(out).subarray(0, limitBytes).toString('utf8');
  return out;
}

const intParam = (v: string | null): number | undefined | Error => {
  if (v === null || v === '') return undefined;
  if (!/^\d+$/.test(v)) return new Error(`invalid integer "${v}"`);
  return Number(v);
};

export async function startKubeletServer(
  lookup: LogLookup,
  opts: { host?: string; pollMs?: number } = {},
): Promise<{ port: number; host: string; close(): Promise<void> }> {
  const host = opts.host ?? '127.0.0.1';
  const pollMs = opts.pollMs ?? 250;
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    if (req.method !== 'GET') return sendError(res, 405, 'method not allowed');
    if (url.pathname === '/healthz') return void res.end('ok');
    const m = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)$/.exec(url.pathname);
    if (!m) return sendError(res, 404, `not found: ${url.pathname}`);
    const [ns, podName, container] = m.slice(1).map(decodeURIComponent);
    const info = lookup(ns, podName);
    if (!info) return sendError(res, 404, `pod "${ns}/${podName}" is not running on this kubelet`);
    if (!info.containers.includes(container)) {
      return sendError(
        res,
        404,
        `container "${container}" in pod "${podName}" is not valid; choose one of: [${info.containers.join(' ')}]`,
      );
    }
    const tail = intParam(url.searchParams.get('tailLines'));
    const limit = intParam(url.searchParams.get('limitBytes'));
    if (tail instanceof Error) return sendError(res, 400, `tailLines: ${tail.message}`);
    if (limit instanceof Error) return sendError(res, 400, `limitBytes: ${limit.message}`);
    const previous = url.searchParams.get('previous') === 'true';
    const follow = url.searchParams.get('follow') === 'true' && !previous;
    const restarts = info.restartCount(container);
    if (previous && restarts === 0) {
      return sendError(res, 400, `previous terminated container "${container}" in pod "${podName}" not found`);
    }
    const run = restarts;
    const path = info.logPath(container, previous);
    const text = existsSync(path) ? readFileSync(path, 'utf8') : '';
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' });
    const first = tailText(text, tail, limit);
    res.write(first);
    if (!follow || (limit !== undefined && Buffer.byteLength(first) >= limit)) return void res.end();
    // follow: poll the file for growth until this run of the container ends or the client goes away
    let offset = Buffer.byteLength(text);
    const timer = setInterval(() => {
      try {
        const size = existsSync(path) ? statSync(path).size : 0;
        if (size > offset) {
          const fd = openSync(path, 'r');
          const buf = Buffer.alloc(size - offset);
          readSync(fd, buf, 0, buf.length, offset);
          closeSync(fd);
          offset = size;
          res.write(buf);
        }
        if (!info.isRunning(container) || info.restartCount(container) !== run) {
          clearInterval(timer);
          res.end();
        }
      } catch {
        clearInterval(timer);
        res.end();
      }
    }, pollMs);
    res.on('close', () => clearInterval(timer));
  });
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, host, resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    host,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
