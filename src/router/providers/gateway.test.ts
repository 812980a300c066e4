// External providers end to end over loopback: the router (file source) in front of a local HTTPS fake provider with
// its own CA, driven by the official `openai` client. OpenAI passthrough and Anthropic translation, streaming and not,
// the header allowlist, usage accounting, error mapping, timeouts, and credentials never leaking.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, test } from 'node:test';
import OpenAI from 'openai';
import { pino } from 'pino';
import { request } from 'undici';
import { type Harness, metricSum, routeYaml, startHarness } from '../testing/harness.js';
import { type FakeProvider, makeTestPki, startFakeProvider } from './testing/fake-provider.js';

const SECRET = 'sk-test-7f3a9c1e5b2d4f60';
const CLIENT_KEY = 'client-key-must-not-reach-the-provider';
const pki = makeTestPki();
const caB64 = Buffer.from(pki.caPem).toString('base64');

let fake: FakeProvider;
let h: Harness;
const logLines: string[] = [];
const accessLogFile = join(tmpdir(), `kthena-provider-access-${process.pid}.log`);

const secret = (name: string, data: Record<string, string>, labelled = true) => `apiVersion: v1
kind: Secret
metadata:
  name: ${name}
  namespace: default
  ${labelled ? 'labels: {networking.serving.volcano.sh/external-model-provider-credential: "true"}' : ''}
stringData: ${JSON.stringify(data)}
`;

const provider = (
  name: string,
  spec: string,
  annotations: Record<string, string> = {},
) => `apiVersion: networking.serving.volcano.sh/v1alpha1
kind: ExternalModelProvider
metadata:
  name: ${name}
  namespace: default
  annotations: ${JSON.stringify({ 'provider.kthena.io/ca-bundle': caB64, ...annotations })}
spec:
${spec}`;

const route = (model: string, target: string) =>
  routeYaml(
    model,
    `  modelName: ${model}\n  rules:\n    - targetModels:\n        - externalModelProviderName: ${target}\n`,
  );

before(async () => {
  fake = await startFakeProvider(pki);
  const files: Record<string, string> = {
    'secrets.yaml': `${secret('openai-key', { 'api-key': `  ${SECRET}\n` })}---\n${secret('unlabelled', { 'api-key': 'x' }, false)}`,
    'openai.yaml': `${provider(
      'openai',
      `  providerType: OpenAI
  baseURL: ${fake.url}
  model: gpt-upstream
  auth: {secretRef: {name: openai-key, key: api-key}}
  headers: {X-Team: serving}
`,
      { 'provider.kthena.io/forward-headers': 'OpenAI-Beta' },
    )}---\n${route('chat-openai', 'openai')}`,
    'anthropic.yaml': `${provider(
      'claude',
      `  providerType: Anthropic
  baseURL: ${fake.url}
  model: claude-upstream
  auth: {secretRef: {name: openai-key, key: api-key}}
`,
    )}---\n${route('chat-claude', 'claude')}`,
    'slow.yaml': `${provider('slow', `  baseURL: ${fake.url}/hang\n`, { 'provider.kthena.io/timeout': '400ms' })}---\n${route('chat-slow', 'slow')}`,
    'broken.yaml': `${provider('nokey', `  baseURL: ${fake.url}\n  auth: {secretRef: {name: missing, key: api-key}}\n`)}---\n${route('chat-nokey', 'nokey')}---\n${provider(
      'unlabelled',
      `  baseURL: ${fake.url}\n  auth: {secretRef: {name: unlabelled, key: api-key}}\n`,
    )}---\n${route('chat-unlabelled', 'unlabelled')}---\n${provider('untrusted', `  baseURL: ${fake.url}\n`, {
      'provider.kthena.io/ca-bundle': Buffer.from(makeOtherCa()).toString('base64'),
    })}---\n${route('chat-untrusted', 'untrusted')}`,
  };
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logLines.push(String(chunk));
      cb();
    },
  });
  h = await startHarness(files, {
    logger: pino({ level: 'debug' }, sink),
    accessLog: { enabled: true, format: 'json', output: accessLogFile },
  });
});

after(async () => {
  await h?.close();
  await fake?.close();
  await rm(accessLogFile, { force: true });
});

/** A CA that did not sign the fake provider's certificate (the trust test). */
function makeOtherCa(): string {
  return execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-keyout',
      '/dev/null',
      '-days',
      '1',
      '-subj',
      '/CN=other CA',
    ],
    { stdio: ['ignore', 'pipe', 'ignore'] },
  ).toString();
}

const client = () =>
  new OpenAI({
    baseURL: `${h.router.url}/v1`,
    apiKey: CLIENT_KEY,
    maxRetries: 0,
    defaultHeaders: {
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      cookie: 'session=abc',
      'x-internal-secret': 'do-not-forward',
      'openai-beta': 'assistants=v2',
    },
  });

async function accessLog(): Promise<any[]> {
  const text = await readFile(accessLogFile, 'utf8').catch(() => '');
  return text
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l));
}

test('OpenAI provider, non-streaming: model rewritten, router credential, only allowlisted headers, usage accounted', async () => {
  const before = fake.received.length;
  const r = await client().chat.completions.create({
    model: 'chat-openai',
    messages: [{ role: 'user', content: 'hi there' }],
  });
  assert.equal(r.choices[0].message.content, 'hello from the provider');
  assert.equal(r.usage?.completion_tokens, 3);
  const got = fake.received[before];
  assert.equal(got.path, '/v1/chat/completions');
  assert.equal(got.body.model, 'gpt-upstream');
  assert.equal(got.headers.authorization, `Bearer ${SECRET}`, 'trimmed secret value as Bearer token');
  assert.equal(got.headers.traceparent, '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
  assert.equal(got.headers['openai-beta'], 'assistants=v2', 'forward-headers annotation extends the allowlist');
  assert.equal(got.headers['x-team'], 'serving', 'static header');
  assert.equal(got.headers.cookie, undefined);
  assert.equal(got.headers['x-internal-secret'], undefined);
  assert.ok(!JSON.stringify(got.headers).includes(CLIENT_KEY), "the client's key never reaches the provider");
  const labels = { backend_type: 'external_provider', backend_name: 'default/openai', token_type: 'output' };
  assert.ok((await metricSum(h.router, 'kthena_router_tokens_total', labels)) >= 3);
});

test('OpenAI provider, streaming: include_usage injected, usage chunk hidden unless asked, output tokens accounted', async () => {
  const before = fake.received.length;
  const stream = await client().chat.completions.create({
    model: 'chat-openai',
    messages: [{ role: 'user', content: 'stream please' }],
    stream: true,
  });
  let text = '';
  let sawUsage = false;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) sawUsage = true;
  }
  assert.equal(text, 'hello from the provider');
  assert.equal(sawUsage, false, 'client did not ask for usage');
  assert.equal(fake.received[before].body.stream_options.include_usage, true);

  const s2 = await client().chat.completions.create({
    model: 'chat-openai',
    messages: [{ role: 'user', content: 'with usage' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let usage: OpenAI.CompletionUsage | undefined;
  for await (const c of s2) usage = c.usage ?? usage;
  assert.equal(usage?.prompt_tokens, 11);
  const log = (await accessLog()).filter((e) => e.backend_name === 'default/openai');
  assert.ok(log.some((e) => e.output_tokens === 3 && e.upstream_model === 'gpt-upstream'));
});

test('Anthropic provider, non-streaming: chat request translated to /v1/messages and back, usage summed', async () => {
  const before = fake.received.length;
  const r = await client().chat.completions.create({
    model: 'chat-claude',
    messages: [
      { role: 'system', content: 'be brief' },
      { role: 'user', content: 'hi' },
    ],
    max_tokens: 50,
    stop: 'END',
  });
  const got = fake.received[before];
  assert.equal(got.path, '/v1/messages');
  assert.equal(got.headers['x-api-key'], SECRET);
  assert.equal(got.headers.authorization, undefined);
  assert.equal(got.headers['anthropic-version'], '2023-06-01');
  assert.deepEqual(got.body, {
    model: 'claude-upstream',
    messages: [{ role: 'user', content: [{ type: 'text', text: 'hi' }] }],
    max_tokens: 50,
    system: 'be brief',
    stop_sequences: ['END'],
  });
  assert.equal(r.object, 'chat.completion');
  assert.equal(r.choices[0].message.content, 'hello from the provider');
  assert.equal(r.choices[0].finish_reason, 'stop');
  // 5 input + 4 cache creation + 2 cache read.
  assert.deepEqual(
    [
      r.usage?.prompt_tokens,
      r.usage?.completion_tokens,
      r.usage?.total_tokens,
      r.usage?.prompt_tokens_details?.cached_tokens,
    ],
    [11, 3, 14, 2],
  );
});

test('Anthropic provider, streaming: SSE translated to chat.completion.chunk, usage chunk when asked', async () => {
  const stream = await client().chat.completions.create({
    model: 'chat-claude',
    messages: [{ role: 'user', content: 'stream' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  let finish: string | null | undefined;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? '';
    finish = c.choices[0]?.finish_reason ?? finish;
    usage = c.usage ?? usage;
  }
  assert.equal(text, 'hello from the provider');
  assert.equal(finish, 'stop');
  assert.equal(usage?.prompt_tokens, 11);
  assert.equal(usage?.completion_tokens, 3);
  const log = (await accessLog()).filter((e) => e.backend_name === 'default/claude');
  assert.ok(log.some((e) => e.output_tokens === 3));
});

test('Anthropic provider, native /v1/messages: bytes passed through, usage read from the stream', async () => {
  const before = await metricSum(h.router, 'kthena_router_tokens_total', {
    backend_name: 'default/claude',
    token_type: 'output',
  });
  const res = await request(`${h.router.url}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': CLIENT_KEY },
    body: JSON.stringify({
      model: 'chat-claude',
      max_tokens: 20,
      stream: true,
      messages: [{ role: 'user', content: 'x' }],
    }),
  });
  const text = await res.body.text();
  assert.equal(res.statusCode, 200);
  assert.match(text, /event: message_stop/);
  assert.ok(!fake.received.at(-1)!.headers['x-api-key']?.includes(CLIENT_KEY));
  const afterSum = await metricSum(h.router, 'kthena_router_tokens_total', {
    backend_name: 'default/claude',
    token_type: 'output',
  });
  assert.equal(afterSum - before, 3);
});

test('unsupported path for the provider type → 400 with the supported list', async () => {
  const r = await h.post('/v1/messages', { model: 'chat-openai', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 400);
  assert.equal(r.json.error.code, 'provider_unsupported_path');
  assert.match(r.json.error.message, /\/v1\/chat\/completions/);
});

test('provider 401 / 429 / 500 / 400 are mapped to clear OpenAI-style errors; an echoed key is redacted', async () => {
  const cases: [number, string, number, string][] = [
    [
      401,
      `{"error":{"message":"Incorrect API key provided: ${SECRET}","type":"invalid_request_error"}}`,
      502,
      'provider_auth_failed',
    ],
    [429, '{"error":{"message":"slow down","type":"rate_limit_error"}}', 429, 'provider_rate_limited'],
    [500, 'upstream exploded', 502, 'provider_error'],
    [400, '{"error":{"message":"bad temperature","type":"invalid_request_error"}}', 400, 'provider_rejected_request'],
  ];
  for (const [status, body, want, code] of cases) {
    fake.next.push({ kind: 'status', status, body, headers: status === 429 ? { 'retry-after': '7' } : {} });
    const r = await h.post('/v1/chat/completions', {
      model: 'chat-openai',
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(r.status, want, `provider ${status}`);
    assert.equal(r.json.error.code, code);
    assert.ok(r.json.error.type);
    assert.ok(!r.text.includes(SECRET), 'the credential is never echoed to the client');
    if (status === 401) assert.match(r.json.error.message, /rejected the router's credential.*\[redacted\]/);
    if (status === 429) assert.equal(r.headers['retry-after'], '7');
    if (status === 400) assert.match(r.json.error.message, /bad temperature/);
  }
  // The router keeps serving after every error.
  const ok = await h.post('/v1/chat/completions', { model: 'chat-openai', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(ok.status, 200);
});

test('hostile input: untranslatable chat for Anthropic → 400; a provider answering garbage → 502; router keeps serving', async () => {
  const before = fake.received.length;
  const n2 = await h.post('/v1/chat/completions', {
    model: 'chat-claude',
    n: 2,
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(n2.status, 400);
  assert.equal(n2.json.error.code, 'provider_bad_request');
  assert.match(n2.json.error.message, /n: only 1/);
  const role = await h.post('/v1/chat/completions', {
    model: 'chat-claude',
    messages: [{ role: 'wizard', content: 'x' }],
  });
  assert.equal(role.status, 400);
  assert.match(role.json.error.message, /messages\[0\]\.role/);
  assert.equal(fake.received.length, before, 'nothing untranslatable reaches the provider');
  fake.next.push({ kind: 'status', status: 200, body: '{"truncated": ' });
  const garbage = await h.post('/v1/chat/completions', {
    model: 'chat-claude',
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(garbage.status, 502);
  assert.equal(garbage.json.error.code, 'provider_unreachable');
  assert.match(garbage.json.error.message, /invalid JSON/);
  const ok = await h.post('/v1/chat/completions', { model: 'chat-claude', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(ok.status, 200);
  assert.equal(ok.json.choices[0].message.content, 'hello from the provider');
});

test('a provider that hangs: 504 OpenAI-style after the timeout; other requests are unaffected meanwhile', async () => {
  const slow = h.post('/v1/chat/completions', { model: 'chat-slow', messages: [{ role: 'user', content: 'x' }] });
  const others = await Promise.all(
    [1, 2, 3].map(() =>
      h.post('/v1/chat/completions', { model: 'chat-openai', messages: [{ role: 'user', content: 'x' }] }),
    ),
  );
  for (const o of others) assert.equal(o.status, 200);
  const r = await slow;
  assert.equal(r.status, 504);
  assert.equal(r.json.error.code, 'provider_timeout');
  assert.match(r.json.error.message, /did not answer within 400 ms/);
  assert.equal(
    await metricSum(h.router, 'kthena_router_external_provider_requests_total', {
      provider: 'default/slow',
      outcome: 'timeout',
    }),
    1,
  );
});

test('bad credential references and an untrusted certificate fail clearly without a crash', async () => {
  const missing = await h.post('/v1/chat/completions', {
    model: 'chat-nokey',
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(missing.status, 503);
  assert.equal(missing.json.error.code, 'provider_not_ready');
  assert.match(missing.json.error.message, /Secret default\/missing not found/);
  const unlabelled = await h.post('/v1/chat/completions', {
    model: 'chat-unlabelled',
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(unlabelled.status, 503);
  assert.match(unlabelled.json.error.message, /lacks the label/);
  const untrusted = await h.post('/v1/chat/completions', {
    model: 'chat-untrusted',
    messages: [{ role: 'user', content: 'x' }],
  });
  assert.equal(untrusted.status, 502);
  assert.equal(untrusted.json.error.code, 'provider_unreachable');
  assert.match(untrusted.json.error.message, /certificate|CERT|verify/i);
});

test('credentials never appear in logs, access log, metrics or debug dumps', async () => {
  const metrics = await h.router.metrics.registry.metrics();
  const debug: string[] = [];
  for (const p of ['/debug/config_dump/modelroutes', '/debug/config_dump/modelservers', '/debug/config_dump/pods']) {
    const r = await request(`http://127.0.0.1:${h.router.debugPort}${p}`);
    debug.push(await r.body.text());
  }
  const access = await readFile(accessLogFile, 'utf8');
  assert.ok(access.length > 0 && logLines.length > 0, 'something was logged');
  for (const [what, text] of [
    ['process log', logLines.join('')],
    ['access log', access],
    ['metrics', metrics],
    ['debug dumps', debug.join('')],
  ] as const) {
    assert.ok(!text.includes(SECRET), `${what} must not contain the provider credential`);
    assert.ok(!text.includes(CLIENT_KEY), `${what} must not contain the client's key`);
  }
});
