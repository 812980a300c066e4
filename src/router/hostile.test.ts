// Bad and hostile input on the inference port: right status, OpenAI-style body, and the router keeps serving.
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from './testing/fake-engine.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from './testing/harness.js';

function raw(port: number, data: string, waitMs = 0): Promise<string> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    let out = '';
    s.on('data', (d) => {
      out += d.toString();
    });
    s.on('close', () => resolve(out));
    s.on('error', () => resolve(out));
    s.write(data);
    if (waitMs === 0) s.end();
  });
}

describe('hostile input', () => {
  let eng: FakeEngine;
  let h: Harness;
  before(async () => {
    eng = await startFakeEngine('a');
    h = await startHarness(
      {
        'r.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
        's.yaml': serverYaml(
          's',
          '  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s}}\n  workloadPort: {port: 8000}\n',
        ),
        'e.yaml': endpointYaml('a', eng, { app: 's' }),
      },
      { maxBodyBytes: 1024, bodyTimeoutMs: 200 },
    );
  });
  after(async () => {
    await h.close();
    await eng.close();
  });
  const stillServing = async () => {
    const r = await h.post('/v1/completions', { model: 'm', prompt: 'ok' });
    assert.equal(r.status, 200);
  };

  test('body over the limit → 413 body_too_large', async () => {
    const r = await h.post('/v1/completions', { model: 'm', prompt: 'x'.repeat(5000) });
    assert.equal(r.status, 413);
    assert.equal(r.json.error.code, 'body_too_large');
    await stillServing();
  });

  test('a client that never finishes its body → 408 request_timeout', async () => {
    const out = await raw(
      h.router.port,
      'POST /v1/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"model":',
      1,
    );
    assert.match(out, /^HTTP\/1\.1 408/);
    assert.match(out, /"code":"request_timeout"/);
    await stillServing();
  });

  test('malformed HTTP and oversized headers get 400/431 with an error body', async () => {
    const bad = await raw(h.router.port, 'NOT HTTP AT ALL\r\n\r\n');
    assert.match(bad, /^HTTP\/1\.1 400/);
    assert.match(bad, /"error":\{/);
    const big = await raw(h.router.port, `GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: ${'a'.repeat(20_000)}\r\n\r\n`);
    assert.match(big, /^HTTP\/1\.1 431/);
    await stillServing();
  });

  test('wrong types in the body are handled without crashing', async () => {
    for (const body of [
      { model: 42, prompt: 'x' },
      { model: 'm', messages: 'not a list' },
      { model: 'm', prompt: { nested: true } },
      { model: 'm', stream: 'yes', prompt: 'x' },
      { model: 'm', stream: true, stream_options: 'bad', messages: [{ role: 'user', content: 'x' }] },
    ]) {
      const r = await h.post('/v1/chat/completions', body);
      assert.ok([200, 400, 404].includes(r.status), `${JSON.stringify(body)} → ${r.status}`);
      if (r.status !== 200) assert.equal(typeof r.json.error.code, 'string');
    }
    const deep = `${'['.repeat(500)}${']'.repeat(500)}`;
    assert.equal((await h.post('/v1/chat/completions', deep)).status, 400);
    await stillServing();
  });

  test('unknown paths and methods', async () => {
    const r = await request(`${h.router.url}/v2/anything`, { method: 'DELETE' });
    assert.equal(r.statusCode, 404);
    assert.equal(((await r.body.json()) as any).error.code, 'not_found');
    const m = await request(`${h.router.url}/v1/completions`, { method: 'PUT', body: '{}' });
    assert.equal(m.statusCode, 405);
    await m.body.dump();
  });
});

describe('hostile input within the size limit', () => {
  let eng: FakeEngine;
  let h: Harness;
  before(async () => {
    eng = await startFakeEngine('a');
    h = await startHarness({
      'r.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
      's.yaml': serverYaml(
        's',
        '  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s}}\n  workloadPort: {port: 8000}\n',
      ),
      'e.yaml': endpointYaml('a', eng, { app: 's' }),
    });
  });
  after(async () => {
    await h.close();
    await eng.close();
  });

  test('a deeply nested object inside a valid request is a 400 naming the limit, not a 500 with an internal message', async () => {
    // 8,000 levels inside an otherwise valid chat body: parses fine, but every recursive walk after it would overflow.
    const deep = `{"model":"m","messages":[{"role":"user","content":"x"}],"metadata":${'['.repeat(8000)}${']'.repeat(8000)}}`;
    const r = await h.post('/v1/chat/completions', deep);
    assert.equal(r.status, 400);
    assert.equal(r.json.error.code, 'invalid_json');
    assert.match(r.json.error.message, /nest deeper than 128 levels/);
    assert.doesNotMatch(r.json.error.message, /call stack/);
    // Brackets inside strings do not count.
    const inString = JSON.stringify({ model: 'm', messages: [{ role: 'user', content: '['.repeat(8000) }] });
    assert.notEqual((await h.post('/v1/chat/completions', inString)).status, 400);
    assert.equal((await h.post('/v1/completions', { model: 'm', prompt: 'ok' })).status, 200, 'still serving');
  });
});
