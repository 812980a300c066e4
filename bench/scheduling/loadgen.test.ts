// The live load generator against a small streaming server: SSE parsing (text chunks, the usage tail), the
// concurrency cap, session order, and errors.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { runLoad } from './loadgen.js';

test('runLoad: measures streamed completions, keeps the concurrency cap and session order, reports failures', async () => {
  let active = 0;
  let maxActive = 0;
  const log: string[] = [];
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => {
      body += c.toString();
    });
    req.on('end', () => {
      const b = JSON.parse(body) as { prompt: string; max_tokens: number; stream: boolean };
      assert.equal(b.stream, true);
      if (b.prompt === 'fail') {
        res.writeHead(500, { 'content-type': 'application/json' }).end('{"error":{"message":"boom"}}');
        return;
      }
      active++;
      maxActive = Math.max(maxActive, active);
      log.push(`start ${b.prompt}`);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      let sent = 0;
      const tick = () => {
        if (sent < b.max_tokens) {
          sent++;
          res.write(`data: ${JSON.stringify({ choices: [{ text: 'x' }] })}\n\n`);
          setTimeout(tick, 2);
          return;
        }
        res.write(
          `data: ${JSON.stringify({ choices: [], usage: { prompt_tokens: 10, completion_tokens: sent, prompt_tokens_details: { cached_tokens: 4 } } })}\n\n`,
        );
        res.end('data: [DONE]\n\n');
        log.push(`end ${b.prompt}`);
        active--;
      };
      tick();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const requests = [
      { prompt: 's0t0', maxTokens: 3, cls: 'a', session: 0, turn: 0 },
      { prompt: 'p1', maxTokens: 4, cls: 'b' },
      { prompt: 's0t1', maxTokens: 3, cls: 'a', session: 0, turn: 1 },
      { prompt: 'fail', maxTokens: 3, cls: 'b' },
      { prompt: 'p2', maxTokens: 2, cls: 'b' },
    ];
    const done: number[] = [];
    const out = await runLoad({
      url,
      model: 'm',
      requests,
      gaps: [0, 0, 0, 0, 0],
      maxConcurrency: 2,
      onProgress: (d) => done.push(d),
    });
    assert.deepEqual(done, [1, 2, 3, 4, 5]);
    assert.ok(maxActive <= 2, `at most 2 in flight, saw ${maxActive}`);
    assert.ok(log.indexOf('start s0t1') > log.indexOf('end s0t0'), `turn 1 after turn 0: ${log}`);
    const [t0, p1, , fail, p2] = out.results;
    assert.equal(t0.ok, true);
    assert.equal(t0.outputTokens, 3);
    assert.equal(t0.promptTokens, 10);
    assert.equal(t0.cachedTokens, 4);
    assert.equal(t0.itls.length, 2, 'one gap per token after the first');
    assert.ok(t0.ttft > 0 && t0.ttft <= t0.e2e);
    assert.equal(p1.outputTokens, 4);
    assert.equal(p2.cls, 'b');
    assert.equal(fail.ok, false);
    assert.match(fail.error ?? '', /^HTTP 500: .*boom/);
    assert.ok(out.wallSec > 0);
  } finally {
    server.close();
  }
});
