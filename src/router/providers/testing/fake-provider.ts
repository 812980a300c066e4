// A scriptable HTTPS fake of OpenAI-compatible and Anthropic APIs for provider tests, with its own CA generated at
// test time by `openssl` (no certificate is checked in). Real TLS on an ephemeral loopback port; records what it
// received (path, headers, body) so tests can check the allowlist and the credential.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestPki {
  caPem: string;
  certPem: string;
  keyPem: string;
}

let cached: TestPki | undefined;

/** A throwaway CA and a server certificate for 127.0.0.1/localhost signed by it (EC P-256, valid one day). */
export function makeTestPki(): TestPki {
  if (cached) return cached;
  const dir = mkdtempSync(join(tmpdir(), 'kthena-pki-'));
  const ossl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  try {
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    ossl('req', '-x509', ...ec, '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '1', '-subj', '/CN=kthena test CA');
    ossl('req', ...ec, '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=localhost');
    writeFileSync(
      join(dir, 'ext.cnf'),
      'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n',
    );
    ossl(
      'x509',
      '-req',
      '-in',
      'srv.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      'srv.pem',
      '-days',
      '1',
      '-extfile',
      'ext.cnf',
    );
    cached = {
      caPem: readFileSync(join(dir, 'ca.pem'), 'utf8'),
      certPem: readFileSync(join(dir, 'srv.pem'), 'utf8'),
      keyPem: readFileSync(join(dir, 'srv.key'), 'utf8'),
    };
    return cached;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ProviderRequest {
  path: string;
  headers: IncomingMessage['headers'];
  body: any;
}

export type ProviderBehaviour =
  | { kind: 'ok'; text?: string }
  | { kind: 'status'; status: number; body: string; headers?: Record<string, string> }
  | { kind: 'hang' };

export interface FakeProvider {
  url: string;
  received: ProviderRequest[];
  next: ProviderBehaviour[];
  fallback: ProviderBehaviour;
  close(): Promise<void>;
}

const USAGE = { prompt: 11, completion: 3 };

function openaiAnswer(req: ProviderRequest, res: ServerResponse, text: string): void {
  const model = String(req.body?.model ?? '');
  const usage = {
    prompt_tokens: USAGE.prompt,
    completion_tokens: USAGE.completion,
    total_tokens: USAGE.prompt + USAGE.completion,
  };
  if (req.body?.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const words = text.split(' ');
    for (const [i, w] of words.entries()) {
      const chunk = {
        id: 'chatcmpl-fake',
        object: 'chat.completion.chunk',
        created: 1,
        model,
        choices: [
          { index: 0, delta: { content: i ? ` ${w}` : w }, finish_reason: i === words.length - 1 ? 'stop' : null },
        ],
      };
      res.write(`data: ${JSON.stringify(chunk)}\n\n`);
    }
    if (req.body?.stream_options?.include_usage)
      res.write(
        `data: ${JSON.stringify({ id: 'chatcmpl-fake', object: 'chat.completion.chunk', created: 1, model, choices: [], usage })}\n\n`,
      );
    res.end('data: [DONE]\n\n');
    return;
  }
  const body = JSON.stringify({
    id: 'chatcmpl-fake',
    object: 'chat.completion',
    created: 1,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
    usage,
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

/** Anthropic usage: 5 fresh + 4 cache-creation + 2 cache-read input tokens (11 prompt tokens), 3 output tokens. */
const ANTHROPIC_USAGE = { input_tokens: 5, cache_creation_input_tokens: 4, cache_read_input_tokens: 2 };

function anthropicAnswer(req: ProviderRequest, res: ServerResponse, text: string): void {
  const model = String(req.body?.model ?? '');
  if (req.body?.stream) {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    const ev = (type: string, data: object) =>
      res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
    ev('message_start', {
      message: {
        id: 'msg_fake',
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        usage: { ...ANTHROPIC_USAGE, output_tokens: 1 },
      },
    });
    ev('content_block_start', { index: 0, content_block: { type: 'text', text: '' } });
    ev('ping', {});
    for (const [i, w] of text.split(' ').entries())
      ev('content_block_delta', { index: 0, delta: { type: 'text_delta', text: i ? ` ${w}` : w } });
    ev('content_block_stop', { index: 0 });
    ev('message_delta', { delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 3 } });
    ev('message_stop', {});
    res.end();
    return;
  }
  const body = JSON.stringify({
    id: 'msg_fake',
    type: 'message',
    role: 'assistant',
    model,
    content: [{ type: 'text', text }],
    stop_reason: 'end_turn',
    stop_sequence: null,
    usage: { ...ANTHROPIC_USAGE, output_tokens: 3 },
  });
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(body);
}

export async function startFakeProvider(pki: TestPki = makeTestPki()): Promise<FakeProvider> {
  const sockets = new Set<Socket>();
  const fp: FakeProvider = {
    url: '',
    received: [],
    next: [],
    fallback: { kind: 'ok' },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer({ cert: pki.certPem, key: pki.keyPem }, (req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      let body: any;
      try {
        body = JSON.parse(Buffer.concat(parts).toString('utf8'));
      } catch {
        body = undefined;
      }
      const rec: ProviderRequest = { path: req.url ?? '', headers: req.headers, body };
      fp.received.push(rec);
      // A base URL under /hang/ never answers, whatever the queue holds (concurrency-proof hang tests).
      const b: ProviderBehaviour = rec.path.startsWith('/hang/') ? { kind: 'hang' } : (fp.next.shift() ?? fp.fallback);
      if (b.kind === 'hang') return;
      if (b.kind === 'status') {
        res.writeHead(b.status, { 'content-type': 'application/json', ...b.headers });
        res.end(b.body);
        return;
      }
      const text = b.text ?? 'hello from the provider';
      if (rec.path.endsWith('/messages')) anthropicAnswer(rec, res, text);
      else openaiAnswer(rec, res, text);
    });
  });
  server.on('secureConnection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  fp.url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fp;
}
