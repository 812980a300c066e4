// The router over loopback in front of the engine simulator, driven by the official openai npm client:
// every route shape in examples/router/shapes, streaming and non-streaming, header/URI/body matching, LoRA,
// and the weighted split measured statistically.
import assert from 'node:assert/strict';
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { bootExample, EXAMPLES, servedBy, withinBinomial } from './router-helpers.js';

const msg = [{ role: 'user' as const, content: 'Say hello to the router' }];

describe('every route shape in examples/router/shapes serves chat, streaming and not', async () => {
  const files = (await readdir(join(EXAMPLES, 'shapes'))).filter((f) => f.endsWith('.yaml')).sort();
  for (const file of files) {
    test(file, async () => {
      const b = await bootExample(`shapes/${file}`);
      try {
        const names = b.docs
          .filter((d) => d?.kind === 'ModelRoute')
          .flatMap((d) => [d.spec.modelName, ...(d.spec.loraAdapters ?? [])])
          .filter(Boolean);
        assert.ok(names.length > 0);
        const listed = (await b.client.models.list()).data.map((m) => m.id);
        for (const model of names) {
          assert.ok(listed.includes(model), `${model} in /v1/models`);
          const r = await b.client.chat.completions.create({ model, messages: msg, max_tokens: 8 });
          assert.equal(r.object, 'chat.completion');
          assert.ok(r.choices[0].message.content);
          assert.ok(r.usage && r.usage.completion_tokens > 0);
          const stream = await b.client.chat.completions.create({ model, messages: msg, max_tokens: 8, stream: true });
          let text = '';
          let usageChunks = 0;
          for await (const c of stream) {
            text += c.choices[0]?.delta?.content ?? '';
            if (c.usage) usageChunks++;
          }
          assert.ok(text.length > 0, `${model}: streamed text`);
          assert.equal(usageChunks, 0, 'usage chunk hidden from a client that did not ask');
          const withUsage = await b.client.chat.completions.create({
            model,
            messages: msg,
            max_tokens: 8,
            stream: true,
            stream_options: { include_usage: true },
          });
          let usage: { completion_tokens: number } | undefined | null;
          for await (const c of withUsage) if (c.usage) usage = c.usage;
          assert.ok(usage && usage.completion_tokens > 0, 'usage delivered when asked');
        }
      } finally {
        await b.close();
      }
    });
  }
});

test('multi-models: header rule, then a 70/30 canary measured statistically, then 50:30', async () => {
  const b = await bootExample('shapes/multi-models.yaml');
  try {
    const premium = await b.client.chat.completions.create(
      { model: 'deepseek-multi-models', messages: msg, max_tokens: 4 },
      { headers: { 'user-type': 'premium' } },
    );
    assert.equal(premium.model, 'deepseek-ai/DeepSeek-R1-Distill-Qwen-7B');
    const plain = await b.client.chat.completions.create({
      model: 'deepseek-multi-models',
      messages: msg,
      max_tokens: 4,
    });
    assert.equal(plain.model, 'deepseek-ai/DeepSeek-R1-Distill-Qwen-1.5B');
    const n = 200;
    const run = async () => {
      const before = await servedBy(b.h);
      for (let i = 0; i < n; i += 5) {
        await Promise.all(
          Array.from({ length: 5 }, () =>
            b.client.completions.create({ model: 'deepseek-multi-models', prompt: 'x', max_tokens: 1 }),
          ),
        );
      }
      const after = await servedBy(b.h);
      return (after['default/deepseek-r1-1-5b-v1'] ?? 0) - (before['default/deepseek-r1-1-5b-v1'] ?? 0);
    };
    const v1 = await run();
    assert.ok(withinBinomial(v1, n, 0.7), `70/30: v1 got ${v1} of ${n}`);
    const text = (await import('node:fs/promises')).readFile(join(b.h.dir, 'example.yaml'), 'utf8');
    await b.h.write('example.yaml', (await text).replace('weight: 70', 'weight: 50'));
    await b.h.reload();
    const v1b = await run();
    assert.ok(withinBinomial(v1b, n, 50 / 80), `50:30: v1 got ${v1b} of ${n}`);
  } finally {
    await b.close();
  }
});

test('uri and body rules: completions API, a regex header, and the default rule pick different servers', async () => {
  const b = await bootExample('shapes/uri-and-body.yaml');
  try {
    const comp = await b.client.completions.create({ model: 'qwen-by-path', prompt: 'hi', max_tokens: 2 });
    assert.equal(comp.model, 'Qwen/Qwen2.5-0.5B');
    const beta = await b.client.chat.completions.create(
      { model: 'qwen-by-path', messages: msg, max_tokens: 2 },
      { headers: { 'x-client': 'beta-42' } },
    );
    const chat = await b.client.chat.completions.create(
      { model: 'qwen-by-path', messages: msg, max_tokens: 2 },
      { headers: { 'x-client': 'beta-x' } },
    );
    const served = await servedBy(b.h);
    assert.equal(served['default/qwen-completions'], 1);
    assert.equal(served['default/qwen-beta'], 1);
    assert.equal(served['default/qwen-chat'], 1);
    assert.equal(beta.model, 'Qwen/Qwen2.5-0.5B-Instruct');
    assert.equal(chat.model, 'Qwen/Qwen2.5-0.5B-Instruct');
    // The SGLang server's engine is scraped with SGLang metric names.
    const st = b.h.router.store.endpointStates().find((s) => s.name.startsWith('qwen-beta'))!;
    assert.equal(st.engine, 'SGLang');
  } finally {
    await b.close();
  }
});

test('LoRA adapters reach the engine unchanged and unknown adapters are 404', async () => {
  const b = await bootExample('shapes/lora.yaml');
  try {
    const r = await b.client.chat.completions.create({ model: 'lora-B', messages: msg, max_tokens: 2 });
    assert.equal(r.model, 'lora-B');
    await assert.rejects(
      b.client.chat.completions.create({ model: 'lora-C', messages: msg, max_tokens: 2 }),
      (e: { status?: number; code?: string }) => e.status === 404 && e.code === 'route_not_found',
    );
  } finally {
    await b.close();
  }
});
