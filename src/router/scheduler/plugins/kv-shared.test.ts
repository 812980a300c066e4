import assert from 'node:assert/strict';
import { test } from 'node:test';
import { awarenessOptions } from './kv-shared.js';

test('tokenizer arguments: auto by default, simulator as an alias of local, tokenizers a map of paths', () => {
  assert.equal(awarenessOptions({}).tokenizer, 'auto');
  assert.equal(awarenessOptions({ tokenizer: 'simulator' }).tokenizer, 'local');
  assert.equal(awarenessOptions({ tokenizer: 'remote' }).tokenizer, 'remote');
  assert.deepEqual(awarenessOptions({ tokenizers: { 'Qwen/Qwen3-0.6B': '/models/qwen3' } }).tokenizers, {
    'Qwen/Qwen3-0.6B': '/models/qwen3',
  });
  assert.throws(
    () => awarenessOptions({ tokenizer: 'hf' }),
    /tokenizer must be "auto", "local" \(or "simulator"\) or "remote"/,
  );
  assert.throws(() => awarenessOptions({ tokenizers: ['/models/qwen3'] }), /tokenizers must map model names/);
  assert.throws(() => awarenessOptions({ tokenizers: { m: '' } }), /tokenizers must map model names/);
});
