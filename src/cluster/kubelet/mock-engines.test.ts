import assert from 'node:assert/strict';
import { test } from 'node:test';
import { imageRepository } from './launch-plan.js';
import { mockEngineArgv } from './mock-engines.js';

const argv = (c: any) => mockEngineArgv(c, imageRepository(c.image), '127.9.0.2');

test("upstream's mocker images serve MODEL_NAME on the engine's default port", () => {
  assert.deepEqual(
    argv({
      name: 'e',
      image: 'ghcr.io/faust-benchou/dynamo-mocker-vllm:latest',
      env: [{ name: 'MODEL_NAME', value: 'ds/1.5b' }],
    }),
    ['engine-sim', '--engine', 'vllm', '--host', '127.9.0.2', '--port', '8000', '--model', 'ds/1.5b'],
  );
  assert.deepEqual(
    argv({
      name: 'e',
      image: 'ghcr.io/faust-benchou/sglang-mock:latest',
      command: ['python3', 'sglang_app.py'],
      ports: [{ containerPort: 30000 }],
      env: [{ name: 'MODEL_NAME', value: 'llama' }],
    }),
    ['engine-sim', '--engine', 'sglang', '--host', '127.9.0.2', '--port', '30000', '--model', 'llama'],
  );
});

test('llm-d-inference-sim takes its vLLM flags; unknown ones are ignored', () => {
  assert.deepEqual(
    argv({
      name: 'e',
      image: 'ghcr.io/llm-d/llm-d-inference-sim:v0.5.0',
      args: ['--model', 'm', '--served-model-name', 'a', 'b', '--port=8200', '--mode', 'random', '--max-num-seqs', '7'],
    }),
    [
      'engine-sim',
      '--engine',
      'vllm',
      '--host',
      '127.9.0.2',
      '--port',
      '8200',
      '--model',
      'm',
      '--served-model-name',
      'a',
      'b',
      '--max-num-seqs',
      '7',
    ],
  );
});

test('other images are not mocks', () => {
  assert.equal(argv({ name: 'e', image: 'vllm/vllm-openai:v0.10.0' }), null);
  assert.equal(argv({ name: 'e', image: 'nginx' }), null);
});
