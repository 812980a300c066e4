import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  formatSelector,
  groupName,
  parseOrdinal,
  podName,
  roleId,
  serviceName,
  statusLabelSelector,
} from './naming.js';

test('names follow <ms>-<g>-<role>-<r>-<k>', () => {
  assert.equal(groupName('llama', 2), 'llama-2');
  assert.equal(roleId('prefill', 1), 'prefill-1');
  assert.equal(podName('llama', 2, 'prefill', 1, 0), 'llama-2-prefill-1-0');
  assert.equal(podName('llama', 2, 'prefill', 1, 3), 'llama-2-prefill-1-3');
  assert.equal(serviceName('llama', 0, 'decode', 0), 'llama-0-decode-0-0');
});

test('ordinals parse with (.*)-([0-9]+)$', () => {
  assert.deepEqual(parseOrdinal('llama-12'), { parent: 'llama', ordinal: 12 });
  assert.deepEqual(parseOrdinal('my-model-3-prefill-0'), { parent: 'my-model-3-prefill', ordinal: 0 });
  assert.equal(parseOrdinal('llama'), undefined);
  assert.equal(parseOrdinal('llama-'), undefined);
  assert.equal(parseOrdinal('llama-99999999999999999999'), undefined);
});

test('status label selector has sorted keys and selects the first role entry', () => {
  assert.equal(
    statusLabelSelector('m', 'prefill'),
    'modelserving.volcano.sh/entry=true,modelserving.volcano.sh/name=m,modelserving.volcano.sh/role=prefill,modelserving.volcano.sh/role-id=prefill-0',
  );
  assert.equal(formatSelector({ b: '2', a: '1' }), 'a=1,b=2');
});
