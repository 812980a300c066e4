// s3://BUCKET/PREFIX (and obs://, Huawei OBS speaks the S3 API): ListObjectsV2 pages, then a GET per object, on the
// path-style URL of ENDPOINT. With ACCESS_KEY/SECRET_KEY the requests are signed with AWS Signature V4 by aws4fetch
// (docs/decisions/0005-downloader-libraries.md); without them they go unsigned (public buckets). REGION defaults
// to us-east-1.
import { AwsClient } from 'aws4fetch';
import type { Env, RemoteFile, SourceDriver } from '../driver.js';
import { DownloadError } from '../errors.js';
import { expectOk, type Fetcher, saveBody } from '../http.js';

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const unescapeXml = (s: string) =>
  s.replace(/&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/g, (_, e: string) =>
    e.startsWith('#x')
      ? String.fromCodePoint(parseInt(e.slice(2), 16))
      : e.startsWith('#')
        ? String.fromCodePoint(Number(e.slice(1)))
        : ENTITIES[e],
  );
const tag = (xml: string, name: string) => new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(xml)?.[1];

/** One ListObjectsV2 page: its objects and the token of the next page. S3's answer is flat, fixed-shape XML. */
export function parseListPage(xml: string): { objects: { key: string; size: number }[]; next?: string } {
  if (!/<ListBucketResult[\s>]/.test(xml))
    throw new DownloadError('BadListing', 'the answer is not a ListBucketResult');
  const objects = [...xml.matchAll(/<Contents>([\s\S]*?)<\/Contents>/g)].map((m) => ({
    key: unescapeXml(tag(m[1], 'Key') ?? ''),
    size: Number(tag(m[1], 'Size') ?? Number.NaN),
  }));
  const truncated = tag(xml, 'IsTruncated') === 'true';
  const next = tag(xml, 'NextContinuationToken');
  return { objects, next: truncated && next ? unescapeXml(next) : undefined };
}

export function s3Driver(uri: string, bucket: string, prefix: string, env: Env, fetcher: Fetcher): SourceDriver {
  const endpoint = (env.ENDPOINT || 'https://s3.amazonaws.com').replace(/\/+$/, '');
  if (!/^https?:\/\//.test(endpoint))
    throw new DownloadError('BadSource', `ENDPOINT ${JSON.stringify(env.ENDPOINT)} must be an http:// or https:// URL`);
  if (!!env.ACCESS_KEY !== !!env.SECRET_KEY)
    throw new DownloadError('MissingCredentials', `${uri}: set both ACCESS_KEY and SECRET_KEY, or neither (anonymous)`);
  const signer = env.ACCESS_KEY
    ? new AwsClient({
        accessKeyId: env.ACCESS_KEY,
        secretAccessKey: env.SECRET_KEY ?? '',
        service: 's3',
        region: env.REGION || env.AWS_REGION || 'us-east-1',
        retries: 0,
      })
    : undefined;
  const get = async (url: string): Promise<Response> => {
    if (!signer) return fetcher(url, {});
    const signed = await signer.sign(url, { method: 'GET' });
    // fetch sets Host itself, to the same value that was signed.
    return fetcher(signed.url, Object.fromEntries([...signed.headers].filter(([k]) => k !== 'host')));
  };
  const dir = prefix === '' || prefix.endsWith('/') ? prefix : `${prefix}/`;
  return {
    async list(): Promise<RemoteFile[]> {
      const out: RemoteFile[] = [];
      let token: string | undefined;
      do {
        const q = new URLSearchParams({ 'list-type': '2', prefix: dir });
        if (token) q.set('continuation-token', token);
        const res = await expectOk(await get(`${endpoint}/${bucket}?${q}`), `${uri}: listing at ${endpoint}`);
        let page: ReturnType<typeof parseListPage>;
        try {
          page = parseListPage(await res.text());
        } catch (err) {
          throw new DownloadError('BadListing', `${uri}: listing at ${endpoint}: ${(err as Error).message}`);
        }
        for (const o of page.objects)
          if (!o.key.endsWith('/'))
            out.push({ path: o.key.slice(dir.length), size: Number.isFinite(o.size) ? o.size : undefined });
        token = page.next;
      } while (token);
      if (out.length === 0)
        throw new DownloadError('NotFound', `${uri}: no objects under s3://${bucket}/${dir} at ${endpoint}`);
      return out;
    },
    async save(file, dest) {
      const key = `${dir}${file.path}`;
      const url = `${endpoint}/${bucket}/${key.split('/').map(encodeURIComponent).join('/')}`;
      const what = `s3://${bucket}/${key}`;
      return saveBody(await expectOk(await get(url), what), dest, file.size, what);
    },
  };
}
