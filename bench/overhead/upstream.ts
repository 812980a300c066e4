// A deterministic OpenAI-style SSE upstream for the overhead benchmark: every stream sends `chunks` events,
// `intervalMs` apart (the first at once), then a usage chunk if asked and [DONE]. It also answers /metrics, /v1/models
// and /tokenize (fixed ids) so the router's scraper and KV awareness are exercised as in production. Run as its own
// process:
//   tsx bench/overhead/upstream.ts PORT CHUNKS INTERVAL_MS
import { createServer } from 'node:http';

const [port, chunks, intervalMs] = process.argv.slice(2).map(Number);
const event = (i: number) =>
  `data: ${JSON.stringify({ id: 'cmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [{ index: 0, delta: { content: `tok${i} ` }, finish_reason: null }] })}\n\n`;
const EVENTS = Array.from({ length: chunks }, (_, i) => Buffer.from(event(i)));
const USAGE = Buffer.from(
  `data: ${JSON.stringify({ id: 'cmpl-bench', object: 'chat.completion.chunk', created: 0, model: 'bench', choices: [], usage: { prompt_tokens: 8, completion_tokens: chunks, total_tokens: 8 + chunks } })}\n\n`,
);
const DONE = Buffer.from('data: [DONE]\n\n');

const server = createServer((req, res) => {
  if (req.url === '/metrics') {
    res.writeHead(200, { 'content-type': 'text/plain' });
    return res.end('vllm:num_requests_running 0\nvllm:num_requests_waiting 0\nvllm:kv_cache_usage_perc 0.1\n');
  }
  if (req.url === '/tokenize') {
    // As vLLM: the router's KV awareness asks the engine for token ids when it has no tokenizer for the model. Before
    // this answer the bench upstream streamed a whole generation here, and every router request waited for it.
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"tokens":[1,2,3,4,5,6,7,8],"count":8,"max_model_len":4096}');
  }
  if (req.url === '/v1/models') {
    res.writeHead(200, { 'content-type': 'application/json' });
    return res.end('{"object":"list","data":[{"id":"bench","object":"model"}]}');
  }
  const body: Buffer[] = [];
  req.on('data', (c: Buffer) => body.push(c));
  req.on('end', () => {
    let wantUsage = false;
    try {
      wantUsage = JSON.parse(Buffer.concat(body).toString()).stream_options?.include_usage === true;
    } catch {
      // a malformed body still gets a stream; this is a load generator's partner, not a validator
    }
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    let i = 0;
    const tick = () => {
      if (res.destroyed) return;
      res.write(EVENTS[i++]);
      if (i < chunks) setTimeout(tick, intervalMs);
      else {
        if (wantUsage) res.write(USAGE);
        res.end(DONE);
      }
    };
    tick();
  });
});
server.keepAliveTimeout = 60_000;
server.listen(port, '127.0.0.1', () => process.stdout.write('ready\n'));
process.on('SIGTERM', () => process.exit(0));
