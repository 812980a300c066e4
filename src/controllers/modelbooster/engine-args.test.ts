import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  configPort,
  configToArgs,
  connectorType,
  kvTransferConfig,
  loraAdapterNames,
  servedModelName,
} from './engine-args.js';

test('config → flags: keys sorted, _ → -, empty string is a bare flag, bools and numbers printed plainly', () => {
  assert.deepEqual(
    configToArgs({
      'max-model-len': 2048,
      enforce_eager: '',
      trust_remote_code: true,
      'gpu-memory-utilization': 0.9,
      dtype: 'half',
    }),
    [
      '--dtype',
      'half',
      '--enforce-eager',
      '--gpu-memory-utilization',
      '0.9',
      '--max-model-len',
      '2048',
      '--trust-remote-code',
      'true',
    ],
  );
  assert.deepEqual(configToArgs(undefined), []);
  assert.deepEqual(configToArgs({ x: null }), ['--x']);
});

test('kv-transfer-config passes as its string; an object value is passed as JSON', () => {
  const s = '{"kv_connector":"NixlConnector","kv_role":"kv_both"}';
  assert.deepEqual(configToArgs({ 'kv-transfer-config': s }), ['--kv-transfer-config', s]);
  assert.deepEqual(configToArgs({ 'kv-transfer-config': { kv_connector: 'NixlConnector', kv_role: 'kv_both' } }), [
    '--kv-transfer-config',
    s,
  ]);
  assert.deepEqual(kvTransferConfig({ 'kv-transfer-config': s }), {
    kv_connector: 'NixlConnector',
    kv_role: 'kv_both',
  });
  assert.equal(kvTransferConfig({ 'kv-transfer-config': 'not json' }), undefined);
  assert.equal(kvTransferConfig({}), undefined);
});

test('a list is a multi-value flag (lora-modules a=/p b=/q)', () => {
  assert.deepEqual(configToArgs({ 'lora-modules': ['a=/p', 'b=/q'] }), ['--lora-modules', 'a=/p', 'b=/q']);
});

test('port: numbers and numeric strings; anything else is no port', () => {
  assert.equal(configPort({ port: 9000 }), 9000);
  assert.equal(configPort({ port: '9001' }), 9001);
  assert.equal(configPort({ port: 0 }), undefined);
  assert.equal(configPort({ port: 'http' }), undefined);
  assert.equal(configPort(undefined), undefined);
});

test('served-model-name: the first name', () => {
  assert.equal(servedModelName({ 'served-model-name': 'Qwen2.5-0.5B-Instruct' }), 'Qwen2.5-0.5B-Instruct');
  assert.equal(servedModelName({ 'served-model-name': 'a b' }), 'a');
  assert.equal(servedModelName({ 'served-model-name': ['x', 'y'] }), 'x');
  assert.equal(servedModelName({}), undefined);
});

test('connector classes map onto ModelServer kvConnector types', () => {
  for (const [cls, type] of [
    ['MooncakeConnector', 'mooncake'],
    ['MooncakeConnectorV1', 'mooncake'],
    ['NixlConnector', 'nixl'],
    ['LMCacheConnectorV1', 'lmcache'],
    ['Unknown', undefined],
  ] as const)
    assert.equal(connectorType({ kv_connector: cls }), type);
});

test('LoRA adapter names from lora-modules (name=path, JSON, lists) and SGLang lora-paths', () => {
  assert.deepEqual(loraAdapterNames({ 'lora-modules': ['sql=/l/sql', '{"name":"chat","path":"/l/c"}'] }), [
    'sql',
    'chat',
  ]);
  assert.deepEqual(loraAdapterNames({ 'lora-modules': 'a=/x b=/y a=/z' }), ['a', 'b']);
  assert.deepEqual(loraAdapterNames({ 'lora-paths': [{ name: 'n', path: '/p' }] }), ['n']);
  assert.deepEqual(loraAdapterNames({}), []);
});
