import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLoopback, type Opts, parseLoraModules, toEngineOptions } from './engine-sim.js';

const base: Opts = {
  port: 0,
  host: '127.0.0.1',
  engine: 'vllm',
  profile: 'llama-3.1-8b-h100',
  replicas: 1,
  speedup: 1,
  seed: 0,
  enablePrefixCaching: true,
  kvEventsFormat: 'array',
};

test('--lora-modules: name=path, several per value, and vLLM JSON', () => {
  assert.deepEqual(parseLoraModules(['a=/x/a b=/x/b', '{"name":"c","path":"/x/c"}']), {
    a: '/x/a',
    b: '/x/b',
    c: '/x/c',
  });
  for (const bad of [['noequals'], ['=path'], ['name='], ['{"name":1}'], ['{broken']])
    assert.throws(() => parseLoraModules(bad), /lora-modules/, bad[0]);
});

test('vLLM JSON configs map onto engine options', () => {
  const o = toEngineOptions('org/model', {
    ...base,
    kvEventsConfig: '{"enable_kv_cache_events": true, "publisher": "zmq", "endpoint": "tcp://*:6000", "topic": "kv"}',
    kvTransferConfig: '{"kv_connector":"NixlConnector","kv_role":"kv_producer"}',
  });
  assert.equal(o.model, 'org/model');
  assert.equal(o.kvEventsEndpoint, 'tcp://*:6000');
  assert.equal(o.kvEventsTopic, 'kv');
  assert.equal(o.role, 'prefill');
  assert.equal(toEngineOptions(undefined, { ...base, kvTransferConfig: '{"kv_role":"kv_consumer"}' }).role, 'decode');
  assert.equal(
    toEngineOptions(undefined, { ...base, kvEventsConfig: '{"enable_kv_cache_events": false}' }).kvEventsEndpoint,
    undefined,
  );
  assert.equal(toEngineOptions(undefined, base).model, 'sim-model');
  assert.equal(toEngineOptions(undefined, { ...base, model: 'x', modelPath: 'y' }).model, 'x');
});

test('malformed JSON flags are rejected with the flag name', () => {
  for (const [k, v] of [
    ['kvEventsConfig', '{'],
    ['kvEventsConfig', 'null'],
    ['kvEventsConfig', '[1]'],
    ['kvTransferConfig', 'nope'],
    ['kvTransferConfig', '5'],
    ['kvTransferConfig', '{"kv_role":"kv_sideways"}'],
  ] as const)
    assert.throws(() => toEngineOptions(undefined, { ...base, [k]: v }), /config/, `${k}=${v}`);
});

test('isLoopback: 127/8, ::1 and localhost only', () => {
  for (const h of ['127.0.0.1', '127.45.0.2', '::1', 'localhost']) assert.equal(isLoopback(h), true, h);
  for (const h of ['0.0.0.0', '::', '10.0.0.5', '128.0.0.1']) assert.equal(isLoopback(h), false, h);
});

test('--enable-admin reaches the engine options; off unless given', () => {
  assert.equal(toEngineOptions(undefined, base).enableAdmin, false);
  assert.equal(toEngineOptions(undefined, { ...base, enableAdmin: true }).enableAdmin, true);
});
