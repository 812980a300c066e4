// Reads a request body once, bounded in size and time, and parses it as a JSON object.
import type { IncomingMessage } from 'node:http';
import { errors, type RouterError } from '../errors.js';

export interface BodyLimits {
  maxBytes: number;
  /** Time allowed to receive the whole body once headers arrived (slow-client defence); 0 disables. */
  timeoutMs: number;
}

export function readBody(req: IncomingMessage, limits: BodyLimits): Promise<Buffer> {
  return new Promise((resolve, reject: (e: RouterError) => void) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limits.maxBytes) {
      reject(errors.bodyTooLarge(limits.maxBytes));
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    const timer =
      limits.timeoutMs > 0 ? setTimeout(() => finish(errors.requestTimeout()), limits.timeoutMs) : undefined;
    const finish = (err?: RouterError) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
      if (err) {
        // Stop reading the rest; the response is sent with connection: close by the caller.
        req.pause();
        reject(err);
      } else resolve(chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, size));
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limits.maxBytes) finish(errors.bodyTooLarge(limits.maxBytes));
      else chunks.push(chunk);
    };
    const onEnd = () => finish();
    const onError = (e: Error) => finish(errors.bodyReadFailed(e.message));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/**
 * Deepest nesting of objects and arrays a request body may have. OpenAI bodies (messages, content parts, tool JSON
 * schemas) stay far below it; deeper bodies would overflow the stack of every recursive walk after parsing
 * (JSON.stringify when the proxy rewrites the body, prompt extraction), which must not become a 500.
 */
export const MAX_JSON_DEPTH = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Whether the JSON text nests objects/arrays deeper than `limit`: one pass over the bytes, no recursion. */
export function nestsDeeperThan(raw: Buffer, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i];
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) inString = true;
    else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) depth--;
  }
  return false;
}

/** The body must be a JSON object; arrays, scalars, empty input and trailing data are rejected. */
export function parseJsonObject(raw: Buffer): Record<string, unknown> {
  if (raw.length === 0) throw errors.invalidJson('empty body');
  if (nestsDeeperThan(raw, MAX_JSON_DEPTH))
    throw errors.invalidJson(`objects and arrays nest deeper than ${MAX_JSON_DEPTH} levels`);
  let value: unknown;
  try {
    value = JSON.parse(raw.toString('utf8'));
  } catch (e) {
    throw errors.invalidJson((e as Error).message);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw errors.invalidBody('invalid request body: the JSON body must be an object');
  }
  return value as Record<string, unknown>;
}
