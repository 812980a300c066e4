// Model URIs as ModelBooster's `modelURI` spells them (hf://, ms://, s3://, obs://, pvc://), parsed into what each
// source needs. Pure: a malformed URI is a DownloadError naming what is wrong.
import { DownloadError } from './errors.js';

export type ModelSource =
  | { scheme: 'hf' | 'ms'; repo: string; owner: string; name: string }
  | { scheme: 's3' | 'obs'; bucket: string; prefix: string }
  | { scheme: 'pvc'; claim: string; path: string };

export const SCHEMES = ['hf', 'ms', 's3', 'obs', 'pvc'] as const;

function noDotSegments(uri: string, path: string): void {
  if (path.split('/').some((s) => s === '..' || s === '.'))
    throw new DownloadError('BadSource', `--source ${uri}: "." and ".." path segments are not allowed`);
}

export function parseSource(uri: string): ModelSource {
  const m = /^([a-z0-9]+):\/\/(.*)$/.exec(uri);
  if (!m)
    throw new DownloadError(
      'BadSource',
      `--source ${JSON.stringify(uri)}: expected SCHEME://…, with a scheme of ${SCHEMES.join(', ')}`,
    );
  const [, scheme, rest] = m;
  switch (scheme) {
    case 'hf':
    case 'ms': {
      const parts = rest.replace(/\/+$/, '').split('/');
      if (parts.length !== 2 || parts.some((p) => !/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(p)))
        throw new DownloadError('BadSource', `--source ${uri}: expected ${scheme}://NAMESPACE/REPO`);
      return { scheme, repo: parts.join('/'), owner: parts[0], name: parts[1] };
    }
    case 's3':
    case 'obs': {
      const slash = rest.indexOf('/');
      const bucket = slash < 0 ? rest : rest.slice(0, slash);
      const prefix = slash < 0 ? '' : rest.slice(slash + 1).replace(/^\/+/, '');
      if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket))
        throw new DownloadError('BadSource', `--source ${uri}: ${JSON.stringify(bucket)} is not a bucket name`);
      noDotSegments(uri, prefix);
      return { scheme, bucket, prefix };
    }
    case 'pvc': {
      // pvc://CLAIM/PATH and pvc:///CLAIM/PATH both name /CLAIM/PATH inside the claim mounted at /CLAIM (§3.3).
      const path = `/${rest.replace(/^\/+/, '').replace(/\/+$/, '')}`;
      noDotSegments(uri, path);
      const claim = path.split('/')[1];
      if (!claim) throw new DownloadError('BadSource', `--source ${uri}: expected pvc://CLAIM/PATH`);
      return { scheme, claim, path };
    }
    default:
      throw new DownloadError(
        'BadSource',
        `--source ${uri}: unsupported scheme "${scheme}://"; supported: ${SCHEMES.map((s) => `${s}://`).join(', ')}`,
      );
  }
}
