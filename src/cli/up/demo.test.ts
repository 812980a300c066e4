import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validate } from '../../api/index.js';
import { demoObjects, servedName } from './demo.js';

test('the demo is one valid ModelBooster serving the model under its DNS-label name', () => {
  const objs = demoObjects({ model: 'Qwen/Qwen2.5-0.5B-Instruct', replicas: 2, namespace: 'default' });
  assert.deepEqual(
    objs.map((o) => o.kind),
    ['ModelBooster'],
  );
  const r = validate(objs[0], { strict: true });
  assert.equal(r.errors.length, 0, JSON.stringify(r.errors));
  const spec = objs[0]!.spec as any;
  assert.equal(spec.name, 'qwen2-5-0-5b-instruct');
  assert.equal(spec.backend.modelURI, 'hf://Qwen/Qwen2.5-0.5B-Instruct');
  assert.equal(spec.backend.replicas, 2);
});

test('servedName makes a DNS label of any model id', () => {
  assert.equal(servedName('meta-llama/Llama-3.1-8B-Instruct'), 'llama-3-1-8b-instruct');
  assert.equal(servedName('///'), 'demo-model');
  assert.match(servedName(`org/${'x'.repeat(100)}`), /^x{63}$/);
});
