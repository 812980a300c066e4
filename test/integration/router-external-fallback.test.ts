// examples/router/external-fallback.yaml end to end: simulated vLLM engines in-cluster, the Anthropic provider
// replaced by the local HTTPS fake (its CA trusted through the ca-bundle annotation). In-cluster first; when the
// engines die, requests spill to the provider, translated, and the spill is counted.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type FakeProvider, makeTestPki, startFakeProvider } from '../../src/router/providers/testing/fake-provider.js';
import { metricSum } from '../../src/router/testing/harness.js';
import { type Booted, bootExample } from './router-helpers.js';

let fake: FakeProvider;
let b: Booted;

before(async () => {
  const pki = makeTestPki();
  fake = await startFakeProvider(pki);
  b = await bootExample('external-fallback.yaml', {
    patch: (t) =>
      t
        .replace('https://api.anthropic.com', fake.url)
        .replace(
          '    provider.kthena.io/timeout: 30s',
          `    provider.kthena.io/timeout: 30s\n    provider.kthena.io/ca-bundle: ${Buffer.from(pki.caPem).toString('base64')}`,
        ),
  });
});

after(async () => {
  await b?.close();
  await fake?.close();
});

test('in-cluster first; when the engines are gone the example spills to the Anthropic provider', async () => {
  const local = await b.client.chat.completions.create({
    model: 'chat',
    messages: [{ role: 'user', content: 'hello' }],
    max_tokens: 8,
  });
  assert.ok(local.choices[0].message.content, 'served by the simulated engine');
  assert.equal(fake.received.length, 0, 'the provider is not used while in-cluster works');

  for (const set of b.engines.values()) await Promise.all(set.map((e) => e.close()));
  const stream = await b.client.chat.completions.create({
    model: 'chat',
    messages: [{ role: 'user', content: 'hello again' }],
    stream: true,
    stream_options: { include_usage: true },
  });
  let text = '';
  let usage: number | undefined;
  for await (const c of stream) {
    text += c.choices[0]?.delta?.content ?? '';
    usage = c.usage?.completion_tokens ?? usage;
  }
  assert.equal(text, 'hello from the provider');
  assert.equal(usage, 3);
  const got = fake.received.at(-1)!;
  assert.equal(got.path, '/v1/messages');
  assert.equal(got.headers['x-api-key'], 'replace-me');
  assert.equal(got.body.model, 'claude-sonnet-4-5');
  assert.equal(
    await metricSum(b.h.router, 'kthena_router_fallback_requests_total', {
      model_route: 'default/chat',
      provider: 'default/claude',
      reason: 'failing',
    }),
    1,
  );
});
