// `kthena runtime`: the sidecar beside an inference engine in a ModelBooster pod. It answers /health for the pod's
// readiness (the engine's health, seen from beside it), serves the engine's metrics with Kthena's standard names
// added, and forwards LoRA load/unload to the engine. Flags are upstream's runtime's.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { request } from 'undici';
import { type EngineFamily, engineFamily, normaliseMetrics } from './metrics.js';

export interface RuntimeOptions {
  port: number;
  host?: string;
  /** upstream's --engine: vllm, vllmdisaggregated, sglang, sglangdisaggregated */
  engine: string;
  engineBaseUrl: string;
  engineMetricsPath?: string;
  pod?: string;
  model?: string;
  /** per-request timeout towards the engine (ms) */
  timeoutMs?: number;
}

export interface RunningRuntime {
  url: string;
  close(): Promise<void>;
}

const MAX_BODY = 1024 * 1024;

/** LoRA endpoints: ours (vLLM's names) → the engine's. SGLang serves them without the /v1 prefix. */
function loraTarget(path: string, family: EngineFamily): string | undefined {
  const op = { '/v1/load_lora_adapter': 'load', '/v1/unload_lora_adapter': 'unload' }[path];
  if (!op) return undefined;
  return family === 'sglang' ? `/${op}_lora_adapter` : `/v1/${op}_lora_adapter`;
}

function sendJson(res: ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function error(res: ServerResponse, code: number, message: string, type = 'runtime_error'): void {
  sendJson(res, code, { error: { message, type, code } });
}

function readBody(req: IncomingMessage): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) {
        resolve(undefined);
        req.resume();
      } else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export function validateRuntimeOptions(o: RuntimeOptions): string | undefined {
  if (!engineFamily(o.engine))
    return `--engine must be vllm, vllmdisaggregated, sglang or sglangdisaggregated, got "${o.engine}"`;
  try {
    const u = new URL(o.engineBaseUrl);
    if (u.protocol !== 'http:' && u.protocol !== 'https:')
      return `--engine-base-url must be http(s), got "${o.engineBaseUrl}"`;
  } catch {
    return `--engine-base-url is not a URL: "${o.engineBaseUrl}"`;
  }
  if (o.engineMetricsPath !== undefined && !o.engineMetricsPath.startsWith('/'))
    return `--engine-metrics-path must start with /, got "${o.engineMetricsPath}"`;
  return undefined;
}

export async function startRuntime(o: RuntimeOptions): Promise<RunningRuntime> {
  const problem = validateRuntimeOptions(o);
  if (problem) throw new Error(problem);
  const family = engineFamily(o.engine) as EngineFamily;
  const base = o.engineBaseUrl.replace(/\/+$/, '');
  const metricsPath = o.engineMetricsPath ?? '/metrics';
  const timeout = o.timeoutMs ?? 3000;
  const engine = (method: 'GET' | 'POST', path: string, body?: Buffer) =>
    request(`${base}${path}`, {
      method,
      body,
      headers: body ? { 'content-type': 'application/json' } : undefined,
      headersTimeout: timeout,
      bodyTimeout: timeout,
    });

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/health' && (req.method === 'GET' || req.method === 'HEAD')) {
      try {
        const r = await engine('GET', '/health');
        await r.body.dump();
        if (r.statusCode === 200) return sendJson(res, 200, { status: 'ok', pod: o.pod, model: o.model });
        return error(res, 503, `engine /health answered ${r.statusCode}`, 'engine_unhealthy');
      } catch (err) {
        return error(res, 503, `engine unreachable at ${base}: ${(err as Error).message}`, 'engine_unreachable');
      }
    }
    if (path === '/metrics' && req.method === 'GET') {
      try {
        const r = await engine('GET', metricsPath);
        const text = await r.body.text();
        if (r.statusCode !== 200) return error(res, 502, `engine ${metricsPath} answered ${r.statusCode}`);
        res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
        return res.end(normaliseMetrics(text, family));
      } catch (err) {
        return error(res, 503, `engine metrics unreachable at ${base}${metricsPath}: ${(err as Error).message}`);
      }
    }
    const target = loraTarget(path, family);
    if (target) {
      if (req.method !== 'POST') return error(res, 405, `${path} takes POST`, 'invalid_request_error');
      const body = await readBody(req);
      if (body === undefined) return error(res, 413, `body larger than ${MAX_BODY} bytes`, 'invalid_request_error');
      let parsed: { lora_name?: unknown } | undefined;
      try {
        parsed = JSON.parse(body.toString('utf8')) as { lora_name?: unknown };
      } catch {
        return error(
          res,
          400,
          'body must be JSON like {"lora_name": "...", "lora_path": "..."}',
          'invalid_request_error',
        );
      }
      if (typeof parsed?.lora_name !== 'string' || parsed.lora_name.trim() === '')
        return error(res, 400, 'lora_name is required', 'invalid_request_error');
      try {
        const r = await engine('POST', target, body);
        const text = await r.body.text();
        res.writeHead(r.statusCode, { 'content-type': String(r.headers['content-type'] ?? 'text/plain') });
        return res.end(text);
      } catch (err) {
        return error(res, 502, `engine unreachable at ${base}${target}: ${(err as Error).message}`);
      }
    }
    error(
      res,
      404,
      `no route ${req.method} ${path} (the runtime serves /health, /metrics and LoRA load/unload)`,
      'not_found',
    );
  };

  const server: Server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) error(res, 500, (err as Error).message);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host ?? '0.0.0.0', () => resolve());
  });
  const a = server.address() as AddressInfo;
  return {
    url: `http://${a.address.includes(':') ? `[${a.address}]` : a.address}:${a.port}`,
    close: () =>
      new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}
