// PD grouping: roles by labels (decode first), groups by the groupKey label value, unclassified endpoints apart.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ep } from '../testing/fixtures.js';
import { buildPdTopology } from './pd-topology.js';
import { RouterStore } from './store.js';

const pd = { groupKey: 'group', prefillLabels: { role: 'prefill' }, decodeLabels: { role: 'decode' } };

function labelled(name: string, labels: Record<string, string>) {
  const e = ep(name);
  e.state.labels = labels;
  return e;
}

test('endpoints split into groups and roles; decode wins when both match; no label → unclassified', () => {
  const t = buildPdTopology(pd, [
    labelled('p-a', { group: 'a', role: 'prefill' }),
    labelled('d-a', { group: 'a', role: 'decode' }),
    labelled('p-b', { group: 'b', role: 'prefill' }),
    labelled('d-b', { group: 'b', role: 'decode' }),
    labelled('d-b2', { group: 'b', role: 'decode' }),
    labelled('nogroup', { role: 'decode' }),
    labelled('norole', { group: 'a', role: 'other' }),
  ]);
  assert.deepEqual([...t.groups.keys()], ['a', 'b']);
  assert.deepEqual(
    t.groups.get('b')?.decode.map((e) => e.state.name),
    ['d-b', 'd-b2'],
  );
  assert.deepEqual(
    t.groups.get('a')?.prefill.map((e) => e.state.name),
    ['p-a'],
  );
  assert.deepEqual(
    t.decode.map((e) => e.state.name),
    ['d-a', 'd-b', 'd-b2'],
  );
  assert.deepEqual(
    t.prefill.map((e) => e.state.name),
    ['p-a', 'p-b'],
  );
  assert.deepEqual(
    t.unclassified.map((e) => e.state.name),
    ['nogroup', 'norole'],
  );
  assert.equal(t.groupOf.get('default/d-b2'), 'b');

  const both = buildPdTopology({ groupKey: 'g', prefillLabels: { x: '1' }, decodeLabels: { y: '1' } }, [
    labelled('both', { g: '0', x: '1', y: '1' }),
  ]);
  assert.equal(both.decode.length, 1, 'decode is checked first (upstream)');
  const empty = buildPdTopology({ groupKey: 'g', prefillLabels: {}, decodeLabels: {} }, [labelled('e', { g: '0' })]);
  assert.equal(empty.unclassified.length, 1, 'empty role selectors mark nothing');
});

test('the store keeps a PD topology per pdGroup ModelServer, rebuilt as endpoints come and go', () => {
  const store = new RouterStore();
  store.upsert({
    kind: 'ModelServer',
    metadata: { name: 'pd', namespace: 'default' },
    spec: {
      inferenceEngine: 'vLLM',
      workloadSelector: { matchLabels: { app: 'x' }, pdGroup: pd },
      workloadPort: { port: 8000 },
    },
  });
  store.upsert({
    kind: 'ModelServer',
    metadata: { name: 'plain', namespace: 'default' },
    spec: { inferenceEngine: 'vLLM', workloadSelector: { matchLabels: { app: 'x' } }, workloadPort: { port: 8000 } },
  });
  const add = (name: string, labels: Record<string, string>) =>
    store.upsertEndpoint({ namespace: 'default', name, address: '127.0.0.1', port: 9000, labels, ready: true });
  add('p0', { app: 'x', group: 'g0', role: 'prefill' });
  add('d0', { app: 'x', group: 'g0', role: 'decode' });
  assert.equal(store.view.pdByServer.has('default/plain'), false);
  const t = store.view.pdByServer.get('default/pd');
  assert.deepEqual(
    t?.groups.get('g0')?.prefill.map((e) => e.state.name),
    ['p0'],
  );
  store.remove('Endpoint', 'default/p0');
  assert.equal(store.view.pdByServer.get('default/pd')?.prefill.length, 0);
  assert.equal(store.view.pdByServer.get('default/pd')?.decode.length, 1);
});
