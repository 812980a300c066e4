import assert from 'node:assert/strict';
import { test } from 'node:test';
import { localKthenaArgs } from './kthena-args.js';

test('servers listen on the pod IP unless --host is given', () => {
  assert.deepEqual(localKthenaArgs(['controller-manager', '--port=8080'], '127.1.0.2'), [
    'controller-manager',
    '--port=8080',
    '--host',
    '127.1.0.2',
  ]);
  assert.deepEqual(localKthenaArgs(['engine-sim', '--host=0.0.0.0'], '127.1.0.2'), ['engine-sim', '--host=0.0.0.0']);
  assert.deepEqual(localKthenaArgs(['validate', '-f', 'x'], '127.1.0.2'), ['validate', '-f', 'x']);
});

test("the router's debug port becomes ephemeral unless disabled", () => {
  assert.deepEqual(localKthenaArgs(['router', '--debug-port=15000', '--host=h'], 'ip'), [
    'router',
    '--host=h',
    '--debug-port=0',
  ]);
  assert.deepEqual(localKthenaArgs(['router', '--debug-port', '15000', '--host=h'], 'ip'), [
    'router',
    '--host=h',
    '--debug-port=0',
  ]);
  assert.deepEqual(localKthenaArgs(['router', '--debug-port=-1', '--host=h'], 'ip'), [
    'router',
    '--debug-port=-1',
    '--host=h',
  ]);
});
