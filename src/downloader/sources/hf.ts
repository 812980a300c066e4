// Hugging Face Hub: the file list from `GET /api/models/{repo}/revision/{rev}?blobs=true` (siblings with sizes), each
// file from `GET /{repo}/resolve/{rev}/{path}`. HF_ENDPOINT moves the hub (mirrors); HF_TOKEN (or
// HUGGING_FACE_HUB_TOKEN) is sent as a bearer token for gated and private repos; HF_REVISION picks a branch or commit.
import type { Env, RemoteFile, SourceDriver } from '../driver.js';
import { DownloadError } from '../errors.js';
import { expectOk, type Fetcher, getJson, saveBody } from '../http.js';

interface HfModelInfo {
  siblings?: { rfilename?: unknown; size?: unknown }[];
}

const encodePath = (p: string) => p.split('/').map(encodeURIComponent).join('/');

export function hfDriver(repo: string, env: Env, fetcher: Fetcher): SourceDriver {
  const endpoint = (env.HF_ENDPOINT || 'https://huggingface.co').replace(/\/+$/, '');
  const revision = env.HF_REVISION || 'main';
  const token = env.HF_TOKEN || env.HUGGING_FACE_HUB_TOKEN;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  return {
    async list(): Promise<RemoteFile[]> {
      const url = `${endpoint}/api/models/${repo}/revision/${encodeURIComponent(revision)}?blobs=true`;
      const info = await getJson<HfModelInfo>(
        fetcher,
        url,
        headers,
        `hf://${repo} (revision ${revision}) at ${endpoint}`,
      );
      if (!Array.isArray(info.siblings))
        throw new DownloadError('BadListing', `hf://${repo}: the hub's answer has no file list (siblings)`);
      return info.siblings.map((s) => ({
        path: String(s.rfilename),
        size: typeof s.size === 'number' ? s.size : undefined,
      }));
    },
    async save(file, dest) {
      const url = `${endpoint}/${repo}/resolve/${encodeURIComponent(revision)}/${encodePath(file.path)}`;
      const what = `hf://${repo}/${file.path}`;
      return saveBody(await expectOk(await fetcher(url, headers), what), dest, file.size, what);
    },
  };
}
