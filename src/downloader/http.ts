// HTTP for the sources: GET with headers, a status turned into a DownloadError naming the URL, and a body streamed
// to a file with its byte count checked against the size the listing promised.
import { createWriteStream } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { DownloadError } from './errors.js';

export type Fetcher = (url: string, headers: Record<string, string>) => Promise<Response>;

/** Plain fetch (redirects followed, as hubs answer file downloads with a redirect to their CDN). */
export const plainFetch: Fetcher = async (url, headers) => {
  try {
    return await fetch(url, { headers, redirect: 'follow' });
  } catch (err) {
    const cause = (err as { cause?: { message?: string } }).cause?.message ?? (err as Error).message;
    throw new DownloadError('Unreachable', `cannot reach ${new URL(url).origin}: ${cause}`);
  }
};

/** Throws for a non-2xx answer, with the status and the start of the body. */
export async function expectOk(res: Response, what: string): Promise<Response> {
  if (res.ok) return res;
  const text = (await res.text().catch(() => '')).slice(0, 200).replace(/\s+/g, ' ').trim();
  const code =
    res.status === 401 || res.status === 403 ? 'Unauthorized' : res.status === 404 ? 'NotFound' : 'RemoteError';
  const hint = code === 'Unauthorized' ? ' (check the token or the access keys)' : '';
  throw new DownloadError(code, `${what}: HTTP ${res.status}${hint}${text ? `: ${text}` : ''}`);
}

export async function getJson<T>(
  fetcher: Fetcher,
  url: string,
  headers: Record<string, string>,
  what: string,
): Promise<T> {
  const res = await expectOk(await fetcher(url, headers), what);
  try {
    return (await res.json()) as T;
  } catch {
    throw new DownloadError('BadListing', `${what}: the answer is not JSON`);
  }
}

/** Streams `res`'s body into `dest`; `size`, when the listing gave one, must match the bytes written. */
export async function saveBody(res: Response, dest: string, size: number | undefined, what: string): Promise<number> {
  await mkdir(dirname(dest), { recursive: true });
  let bytes = 0;
  const body = res.body ? Readable.fromWeb(res.body as ReadableStream<Uint8Array>) : Readable.from([]);
  body.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
  });
  try {
    await pipeline(body, createWriteStream(dest));
  } catch (err) {
    throw new DownloadError('Truncated', `${what}: the transfer broke after ${bytes} bytes: ${(err as Error).message}`);
  }
  if (size !== undefined && bytes !== size)
    throw new DownloadError('Truncated', `${what}: got ${bytes} bytes, the listing says ${size}`);
  return bytes;
}
