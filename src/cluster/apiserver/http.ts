// HTTP helpers of the API server: reading bodies, content negotiation, JSON/Status responses.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseYaml } from 'yaml';
import { ApiError, errors } from './errors.js';
import { decodeProtobuf, PROTOBUF } from './protobuf.js';

export const MAX_BODY_BYTES = 3 * 1024 * 1024;

export async function readBody(req: IncomingMessage): Promise<string> {
  return (await readBodyBuffer(req)).toString('utf8');
}

export async function readBodyBuffer(req: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES)
      throw new ApiError(413, 'RequestEntityTooLarge', 'Request entity too large: limit is 3145728');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** Decodes a POST/PUT body as JSON (default) or YAML, by Content-Type. */
export function decodeBody(rawBody: string | Buffer, contentType: string | undefined): unknown {
  const type = (contentType ?? 'application/json').split(';')[0].trim().toLowerCase();
  if (type === PROTOBUF) return decodeProtobuf(typeof rawBody === 'string' ? Buffer.from(rawBody) : rawBody);
  const raw = typeof rawBody === 'string' ? rawBody : rawBody.toString('utf8');
  if (raw.trim() === '') throw errors.badRequest('the request body is empty');
  if (type === 'application/yaml' || type === 'application/x-yaml' || type === 'text/yaml') {
    try {
      return parseYaml(raw);
    } catch (e) {
      throw errors.badRequest(`error decoding YAML: ${(e as Error).message}`);
    }
  }
  if (type !== 'application/json' && type !== '*/*' && type !== '')
    throw errors.unsupportedMediaType(type, ['application/json', 'application/yaml']);
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw errors.badRequest(`couldn't get version/kind; json parse error: ${(e as Error).message}`);
  }
}

export type Representation = { as: 'json' } | { as: 'table'; version: string } | { as: 'partial'; version: string };

/** Picks the response representation from the Accept header (first acceptable entry wins). */
export function negotiate(accept: string | undefined): Representation {
  if (!accept?.trim()) return { as: 'json' };
  for (const range of accept.split(',')) {
    const [typePart, ...paramParts] = range.split(';');
    const type = typePart.trim().toLowerCase();
    const params: Record<string, string> = {};
    for (const p of paramParts) {
      const [k, v] = p.split('=');
      if (k && v !== undefined) params[k.trim()] = v.trim();
    }
    const jsonLike =
      type === 'application/json' || type === '*/*' || type === 'application/*' || type === 'application/yaml';
    if (!jsonLike) continue;
    if (!params.as) return { as: 'json' };
    if (params.g !== 'meta.k8s.io') continue;
    if (params.v !== 'v1' && params.v !== 'v1beta1') continue;
    if (params.as === 'Table') return { as: 'table', version: params.v };
    if (params.as === 'PartialObjectMetadata' || params.as === 'PartialObjectMetadataList')
      return { as: 'partial', version: params.v };
  }
  throw errors.notAcceptable();
}

export function sendJson(res: ServerResponse, code: number, body: unknown, warnings?: string[]): void {
  const data = JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'application/json',
    'Content-Length': String(Buffer.byteLength(data)),
    'Cache-Control': 'no-cache, private',
  };
  if (warnings?.length) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
  res.writeHead(code, headers);
  res.end(data);
}

export function sendError(res: ServerResponse, e: unknown): void {
  const err = e instanceof ApiError ? e : errors.internal(e instanceof Error ? e.message : String(e));
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.toStatus());
}

export function sendText(res: ServerResponse, code: number, text: string): void {
  res.writeHead(code, {
    'Content-Type': 'text/plain; charset=utf-8',
    'Content-Length': String(Buffer.byteLength(text)),
  });
  res.end(text);
}

/** The manager name kube-apiserver derives from a User-Agent: the part before the first '/'. */
export function managerFromUserAgent(ua: string | undefined): string {
  if (!ua) return 'unknown';
  return ua.split('/')[0].trim().slice(0, 128) || 'unknown';
}
