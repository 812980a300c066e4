// A fake S3 on loopback: ListObjectsV2 (paged, to exercise continuation tokens) and GetObject, path-style. When given
// keys it checks every request's AWS Signature V4 with its own implementation of the algorithm (independent of the
// client's signing library), and answers 403 SignatureDoesNotMatch like S3 when it does not match.
import { createHash, createHmac } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { serveOnLoopback } from './loopback.js';

export interface FakeS3 {
  url: string;
  requests: { method: string; path: string; signed: boolean }[];
  close(): Promise<void>;
}

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');
const hmac = (key: Buffer | string, s: string) => createHmac('sha256', key).update(s).digest();
const rfc3986 = (s: string) =>
  encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
const xmlEscape = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Recomputes the signature of `req` (AWS SigV4, service s3) and compares it with the one in Authorization. */
export function verifySigV4(req: IncomingMessage, accessKey: string, secretKey: string): string | undefined {
  const auth = req.headers.authorization ?? '';
  const m =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/s3\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      auth,
    );
  if (!m) return 'missing or malformed Authorization';
  const [, ak, date, region, signedHeaders, signature] = m;
  if (ak !== accessKey) return 'InvalidAccessKeyId';
  const amzDate = String(req.headers['x-amz-date'] ?? '');
  if (!amzDate.startsWith(date)) return 'x-amz-date does not match the credential scope';
  const url = new URL(req.url ?? '/', 'http://x');
  const query = [...url.searchParams]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)])
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join('&');
  const headers = signedHeaders
    .split(';')
    .map(
      (h) =>
        `${h}:${String(req.headers[h] ?? '')
          .trim()
          .replace(/\s+/g, ' ')}\n`,
    )
    .join('');
  const payload = String(req.headers['x-amz-content-sha256'] ?? sha256(''));
  const canonical = [req.method, url.pathname, query, headers, signedHeaders, payload].join('\n');
  const scope = `${date}/${region}/s3/aws4_request`;
  const toSign = ['AWS4-HMAC-SHA256', amzDate, scope, sha256(canonical)].join('\n');
  const key = hmac(hmac(hmac(hmac(`AWS4${secretKey}`, date), region), 's3'), 'aws4_request');
  return createHmac('sha256', key).update(toSign).digest('hex') === signature ? undefined : 'SignatureDoesNotMatch';
}

export async function startFakeS3(opts: {
  bucket: string;
  objects: Record<string, string>;
  accessKey?: string;
  secretKey?: string;
  pageSize?: number;
}): Promise<FakeS3> {
  const requests: FakeS3['requests'] = [];
  const keys = Object.keys(opts.objects).sort();
  const server = await serveOnLoopback((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    requests.push({ method: req.method ?? '', path: url.pathname, signed: !!req.headers.authorization });
    const fail = (status: number, code: string, message: string) => {
      res.writeHead(status, { 'content-type': 'application/xml' });
      res.end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    if (opts.accessKey) {
      const problem = verifySigV4(req, opts.accessKey, opts.secretKey ?? '');
      if (problem) return fail(403, problem === 'InvalidAccessKeyId' ? problem : 'SignatureDoesNotMatch', problem);
    }
    const parts = url.pathname.split('/').slice(1);
    if (parts[0] !== opts.bucket) return fail(404, 'NoSuchBucket', 'The specified bucket does not exist');
    if (parts.length === 1 || (parts.length === 2 && parts[1] === '')) {
      const prefix = url.searchParams.get('prefix') ?? '';
      const matching = keys.filter((k) => k.startsWith(prefix));
      const start = Number(url.searchParams.get('continuation-token') ?? 0);
      const page = matching.slice(start, start + (opts.pageSize ?? 1000));
      const more = start + page.length < matching.length;
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?><ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${opts.bucket}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><IsTruncated>${more}</IsTruncated>${
          more ? `<NextContinuationToken>${start + page.length}</NextContinuationToken>` : ''
        }${page.map((k) => `<Contents><Key>${xmlEscape(k)}</Key><Size>${Buffer.byteLength(opts.objects[k])}</Size><StorageClass>STANDARD</StorageClass></Contents>`).join('')}</ListBucketResult>`,
      );
      return;
    }
    const key = parts.slice(1).map(decodeURIComponent).join('/');
    const body = opts.objects[key];
    if (body === undefined) return fail(404, 'NoSuchKey', 'The specified key does not exist.');
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': Buffer.byteLength(body) });
    res.end(body);
  });
  return { ...server, requests };
}
