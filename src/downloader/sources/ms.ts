// ModelScope: the file list from `GET /api/v1/models/{owner}/{name}/repo/files?Revision=…&Recursive=true`, each file
// from `GET /api/v1/models/{owner}/{name}/repo?Revision=…&FilePath=…`. MODELSCOPE_DOMAIN moves the hub (a host or a
// URL); MS_TOKEN is sent as a bearer token; MS_REVISION picks the revision (default master).
import type { Env, RemoteFile, SourceDriver } from '../driver.js';
import { DownloadError } from '../errors.js';
import { expectOk, type Fetcher, getJson, saveBody } from '../http.js';

interface MsFiles {
  Code?: unknown;
  Message?: unknown;
  Data?: { Files?: { Path?: unknown; Type?: unknown; Size?: unknown }[] };
}

function endpointOf(env: Env): string {
  const d = env.MODELSCOPE_DOMAIN || 'www.modelscope.cn';
  return (/^https?:\/\//.test(d) ? d : `https://${d}`).replace(/\/+$/, '');
}

export function msDriver(owner: string, name: string, env: Env, fetcher: Fetcher): SourceDriver {
  const base = `${endpointOf(env)}/api/v1/models/${encodeURIComponent(owner)}/${encodeURIComponent(name)}`;
  const revision = env.MS_REVISION || 'master';
  const headers: Record<string, string> = env.MS_TOKEN ? { authorization: `Bearer ${env.MS_TOKEN}` } : {};
  const repo = `ms://${owner}/${name}`;
  return {
    async list(): Promise<RemoteFile[]> {
      const url = `${base}/repo/files?Revision=${encodeURIComponent(revision)}&Recursive=true`;
      const body = await getJson<MsFiles>(fetcher, url, headers, `${repo} (revision ${revision})`);
      if (body.Code !== undefined && body.Code !== 200)
        throw new DownloadError(
          'RemoteError',
          `${repo}: ModelScope answered code ${String(body.Code)}: ${String(body.Message ?? '')}`,
        );
      const files = body.Data?.Files;
      if (!Array.isArray(files))
        throw new DownloadError('BadListing', `${repo}: the answer has no file list (Data.Files)`);
      return files
        .filter((f) => f.Type !== 'tree')
        .map((f) => ({ path: String(f.Path), size: typeof f.Size === 'number' ? f.Size : undefined }));
    },
    async save(file, dest) {
      const url = `${base}/repo?Revision=${encodeURIComponent(revision)}&FilePath=${encodeURIComponent(file.path)}`;
      const what = `${repo}/${file.path}`;
      return saveBody(await expectOk(await fetcher(url, headers), what), dest, file.size, what);
    },
  };
}
