// A fake model hub on loopback speaking the two APIs the downloader uses: Hugging Face (`/api/models/…/revision/…`,
// `/{repo}/resolve/{rev}/{path}` answered with a redirect to a CDN path, as the real hub does) and ModelScope
// (`/api/v1/models/…/repo/files`, `/api/v1/models/…/repo?FilePath=…`). It counts file downloads, checks bearer tokens
// and revisions, and can lie about a file's size (to test truncation) or list a hostile path.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { serveOnLoopback } from './loopback.js';

export interface FakeRepo {
  files: Record<string, string>;
  /** Requests must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** The only revision served (default main for HF, master for ModelScope). */
  revision?: string;
  /** Listed sizes that differ from the real ones (a truncated transfer). */
  lieAboutSize?: Record<string, number>;
  /** Extra listed paths that the listing names but nobody should fetch (e.g. `../escape`). */
  extraListed?: string[];
}

export interface FakeHub {
  url: string;
  /** File downloads served, by `repo/path`. */
  fetches: Map<string, number>;
  close(): Promise<void>;
}

/** Answers and returns true: "this route handled the request". */
function send(res: ServerResponse, status: number, body: unknown, type = 'application/json'): true {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(text) });
  res.end(text);
  return true;
}

export async function startFakeHub(opts: {
  hf?: Record<string, FakeRepo>;
  ms?: Record<string, FakeRepo>;
}): Promise<FakeHub> {
  const fetches = new Map<string, number>();
  const count = (k: string) => fetches.set(k, (fetches.get(k) ?? 0) + 1);
  const authorized = (req: IncomingMessage, repo: FakeRepo) =>
    !repo.token || req.headers.authorization === `Bearer ${repo.token}`;
  const listed = (repo: FakeRepo) => [
    ...Object.entries(repo.files).map(([path, text]) => ({
      path,
      size: repo.lieAboutSize?.[path] ?? Buffer.byteLength(text),
    })),
    ...(repo.extraListed ?? []).map((path) => ({ path, size: 1 })),
  ];

  const hf = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    let m = /^\/api\/models\/([^/]+\/[^/]+)\/revision\/([^/]+)$/.exec(url.pathname);
    if (m) {
      const repo = opts.hf?.[m[1]];
      if (!repo) return send(res, 404, { error: 'Repository not found' });
      if (!authorized(req, repo)) return send(res, 401, { error: 'Invalid credentials in Authorization header' });
      if (decodeURIComponent(m[2]) !== (repo.revision ?? 'main'))
        return send(res, 404, { error: 'Revision not found' });
      send(res, 200, { id: m[1], siblings: listed(repo).map((f) => ({ rfilename: f.path, size: f.size })) });
      return true;
    }
    m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const repo = opts.hf?.[m[1]];
      if (!repo || !authorized(req, repo)) return send(res, repo ? 401 : 404, 'no');
      res.writeHead(302, { location: `/cdn/${m[1]}/${m[3]}` });
      res.end();
      return true;
    }
    m = /^\/cdn\/([^/]+\/[^/]+)\/(.+)$/.exec(url.pathname);
    if (m) {
      const path = m[2].split('/').map(decodeURIComponent).join('/');
      const text = opts.hf?.[m[1]]?.files[path];
      if (text === undefined) return send(res, 404, 'Entry not found', 'text/plain');
      count(`${m[1]}/${path}`);
      send(res, 200, text, 'application/octet-stream');
      return true;
    }
    return false;
  };

  const ms = (req: IncomingMessage, res: ServerResponse, url: URL): boolean => {
    const m = /^\/api\/v1\/models\/([^/]+)\/([^/]+)\/repo(\/files)?$/.exec(url.pathname);
    if (!m) return false;
    const name = `${decodeURIComponent(m[1])}/${decodeURIComponent(m[2])}`;
    const repo = opts.ms?.[name];
    if (!repo) return send(res, 404, { Code: 10010101, Message: 'model not found' });
    if (!authorized(req, repo)) return send(res, 401, { Code: 10010401, Message: 'unauthorized' });
    if ((url.searchParams.get('Revision') ?? 'master') !== (repo.revision ?? 'master'))
      return send(res, 404, { Code: 10010102, Message: 'revision not found' });
    if (m[3]) {
      const files = listed(repo).map((f) => ({
        Name: f.path.split('/').pop(),
        Path: f.path,
        Type: 'blob',
        Size: f.size,
      }));
      send(res, 200, { Code: 200, Data: { Files: [{ Name: 'dir', Path: 'dir', Type: 'tree', Size: 0 }, ...files] } });
      return true;
    }
    const path = url.searchParams.get('FilePath') ?? '';
    const text = repo.files[path];
    if (text === undefined) return send(res, 404, { Code: 10010103, Message: 'file not found' });
    count(`${name}/${path}`);
    send(res, 200, text, 'application/octet-stream');
    return true;
  };

  const server = await serveOnLoopback((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (!hf(req, res, url) && !ms(req, res, url)) send(res, 404, { error: 'no route' });
  });
  return { ...server, fetches };
}
