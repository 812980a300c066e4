// Portkey's AI gateway (npm @portkey-ai/gateway) as an optional overhead-bench target: a plain OpenAI-compatible
// proxy to the bench upstream, the target given per request by headers (provider openai + custom host). Not a
// dependency of this package: used only when it is present in node_modules, and only if a probe stream succeeds.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Pool } from 'undici';
import { type Child, freePort, start } from './procs.js';

export interface PortkeyTarget {
  url: string;
  child: Child;
  /** Headers every request through Portkey must carry. */
  headers: Record<string, string>;
}

/** Starts the gateway, or explains in one line why it cannot be a target here. */
export async function startPortkey(
  root: string,
  upstreamPort: number,
): Promise<{ ok: true; target: PortkeyTarget } | { ok: false; reason: string }> {
  const main = join(root, 'node_modules/@portkey-ai/gateway/build/start-server.js');
  if (!existsSync(main)) {
    return {
      ok: false,
      reason: 'Portkey gateway not installed (npm install --no-save @portkey-ai/gateway): skipped',
    };
  }
  const port = await freePort();
  const child = start(process.execPath, [main, `--port=${port}`, '--headless'], { NODE_ENV: 'production' });
  const headers = {
    'x-portkey-provider': 'openai',
    'x-portkey-custom-host': `http://127.0.0.1:${upstreamPort}/v1`,
    authorization: 'Bearer bench',
  };
  const url = `http://127.0.0.1:${port}`;
  const pool = new Pool(url);
  let reason = 'did not answer within 60 s';
  try {
    for (const deadline = Date.now() + 60_000; Date.now() < deadline; ) {
      try {
        const r = await pool.request({
          path: '/v1/chat/completions',
          method: 'POST',
          headers: { ...headers, 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'bench', stream: true, messages: [{ role: 'user', content: 'probe' }] }),
        });
        const text = await r.body.text();
        if (r.statusCode === 200 && text.includes('data:')) return { ok: true, target: { url, child, headers } };
        reason = `probe stream answered ${r.statusCode}: ${text.slice(0, 200)}${stderrHint(child)}`;
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 250)); // not listening yet
      }
    }
  } finally {
    await pool.close();
  }
  await child.stop();
  return { ok: false, reason: `Portkey gateway does not proxy here (${reason}): skipped` };
}

function stderrHint(child: Child): string {
  const m = /TypeError: [^\n]*|Error: [^\n]*/.exec(child.output());
  return m ? `; gateway log: ${m[0]}` : '';
}
