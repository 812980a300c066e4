// The debug listener's front: /console/ (a static page shipped in the package's console/ folder), its JSON
// (/console/api/state), and the /debug/* views, all behind one access check (access.ts).
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { type ConsoleExposure, decideAccess } from './access.js';
import type { ConsoleStateBuilder } from './state.js';

/** The page's files: <package>/console, four levels up from this file in src/ and in dist/ alike. */
export const CONSOLE_ASSETS_DIR = join(import.meta.dirname, '..', '..', '..', '..', 'console');

const ASSETS: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;

export interface DebugListenerOptions {
  exposure?: ConsoleExposure;
  state: ConsoleStateBuilder;
  debug: Handler;
  assetsDir?: string;
}

function json(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json',
    'content-length': Buffer.byteLength(text),
    'cache-control': 'no-store',
    ...extra,
  });
  res.end(text);
}

export function debugListener(o: DebugListenerOptions): Handler {
  const dir = o.assetsDir ?? CONSOLE_ASSETS_DIR;
  return (req, res) => {
    const path = (req.url ?? '/').split('?', 1)[0];
    if (path === '/' || path === '/console') {
      res.writeHead(302, { location: '/console/' }).end();
      return;
    }
    if (path.startsWith('/console/') && !path.startsWith('/console/api/')) {
      // The page itself holds no data, so it loads without a token and asks for one when the API answers 401.
      if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 405, { error: 'only GET is supported' });
      return void serveAsset(res, dir, path.slice('/console/'.length) || 'index.html');
    }
    const verdict = decideAccess(o.exposure, req.headers.authorization);
    if (!verdict.ok) return json(res, verdict.status, { error: verdict.message }, { 'www-authenticate': 'Bearer' });
    if (path === '/console/api/state') {
      if (req.method !== 'GET') return json(res, 405, { error: 'only GET is supported' });
      o.state.build().then(
        (s) => json(res, 200, s),
        (e: unknown) => json(res, 500, { error: (e as Error).message }),
      );
      return;
    }
    if (path.startsWith('/console/api/')) return json(res, 404, { error: `no console API at ${path}` });
    o.debug(req, res);
  };
}

async function serveAsset(res: ServerResponse, dir: string, name: string): Promise<void> {
  const type = ASSETS[name];
  if (!type) return json(res, 404, { error: `no console file ${name}` });
  try {
    const body = await readFile(join(dir, name));
    res.writeHead(200, { 'content-type': type, 'content-length': body.length, 'cache-control': 'no-cache' });
    res.end(body);
  } catch (e) {
    json(res, 500, { error: `console file ${name} is missing from the package: ${(e as Error).message}` });
  }
}
