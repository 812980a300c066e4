// A scriptable OpenAI-compatible upstream for router tests: real HTTP on an ephemeral loopback port, vLLM-shaped SSE,
// /metrics and /v1/models, and per-request behaviours (errors, hangs, dying mid-stream, slow chunks).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Behaviour =
  | { kind: 'ok'; chunks?: number; chunkDelayMs?: number }
  | { kind: 'status'; status: number; body?: string }
  | { kind: 'hang' }
  | { kind: 'die-after'; chunks: number }
  /** streams `chunks` events, then keeps the connection open and silent (a stalled engine) */
  | { kind: 'stall-after'; chunks: number }
  | { kind: 'reset' };

export interface Received {
  path: string;
  method: string;
  headers: IncomingMessage['headers'];
  body: any;
  /** performance.now() when the request arrived. */
  at: number;
}

export interface FakeEngine {
  name: string;
  url: string;
  port: number;
  received: Received[];
  /** Requests whose response has not finished (open engine slots). */
  active(): number;
  /** Behaviour for the next requests (queue, then `fallback`). */
  next: Behaviour[];
  fallback: Behaviour;
  models: string[];
  metricsText: string;
  close(): Promise<void>;
}

export async function startFakeEngine(name: string, opts: { models?: string[] } = {}): Promise<FakeEngine> {
  let active = 0;
  const sockets = new Set<import('node:net').Socket>();
  const eng: FakeEngine = {
    name,
    url: '',
    port: 0,
    received: [],
    active: () => active,
    next: [],
    fallback: { kind: 'ok' },
    models: opts.models ?? ['base-model'],
    metricsText: '',
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
  const server: Server = createServer((req, res) => void handle(req, res));
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/metrics') {
      res.writeHead(200, { 'content-type': 'text/plain' });
      return res.end(eng.metricsText);
    }
    if (path === '/v1/models' && req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'application/json' });
      // Announced like the engine simulator with its built-in tokenizer, so the router's `tokenizer: auto` computes
      // token ids itself rather than calling /tokenize (which this fake does not serve).
      const data = eng.models.map((id) => ({ id, object: 'model', kthena_sim: { tokenizer: 'simulator' } }));
      return res.end(JSON.stringify({ object: 'list', data }));
    }
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    let body: any;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
    } catch {
      body = undefined;
    }
    eng.received.push({ path, method: req.method ?? '', headers: req.headers, body, at: performance.now() });
    const scripted = req.headers['x-fake'];
    // A per-request behaviour in the x-fake header wins (deterministic under concurrency), then the queue.
    const b: Behaviour = typeof scripted === 'string' ? JSON.parse(scripted) : (eng.next.shift() ?? eng.fallback);
    active++;
    let counted = true;
    const done = () => {
      if (counted) {
        counted = false;
        active--;
      }
    };
    res.on('close', done);
    if (b.kind === 'hang') return;
    if (b.kind === 'reset') return req.socket.destroy();
    if (b.kind === 'status') {
      const text =
        b.body ?? JSON.stringify({ error: { message: `${name} says ${b.status}`, type: 'x', code: b.status } });
      res.writeHead(b.status, { 'content-type': 'application/json', 'x-engine': name });
      return res.end(text);
    }
    const n = b.kind === 'ok' ? (b.chunks ?? 3) : b.chunks;
    const delay = b.kind === 'ok' ? (b.chunkDelayMs ?? 0) : 0;
    const model = body?.model ?? 'unknown';
    const usage = { prompt_tokens: 5, completion_tokens: n, total_tokens: 5 + n };
    if (body?.stream) {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-engine': name });
      res.flushHeaders();
      for (let i = 0; i < n; i++) {
        if (delay) await new Promise((r) => setTimeout(r, delay));
        if (res.destroyed) return;
        const ev = {
          id: 'c1',
          object: 'chat.completion.chunk',
          model,
          choices: [{ index: 0, delta: { content: `t${i} ` } }],
        };
        res.write(`data: ${JSON.stringify(ev)}\n\n`);
      }
      if (b.kind === 'stall-after') return; // silent from here on, connection open
      if (b.kind === 'die-after') {
        // Let the chunks already written reach the wire before the connection dies.
        await new Promise((r) => setTimeout(r, 30));
        return req.socket.destroy();
      }
      if (body.stream_options?.include_usage) {
        res.write(
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', model, choices: [], usage })}\n\n`,
        );
      }
      res.end('data: [DONE]\n\n');
      return;
    }
    if (b.kind === 'die-after' || b.kind === 'stall-after') return req.socket.destroy();
    const text = Array.from({ length: n }, (_, i) => `t${i}`).join(' ');
    const out = {
      id: 'c1',
      object: 'chat.completion',
      model,
      choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }],
      usage,
    };
    if (delay) await new Promise((r) => setTimeout(r, delay * n));
    res.writeHead(200, { 'content-type': 'application/json', 'x-engine': name });
    res.end(JSON.stringify(out));
  }

  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  eng.port = (server.address() as AddressInfo).port;
  eng.url = `http://127.0.0.1:${eng.port}`;
  return eng;
}
