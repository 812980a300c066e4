import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { EndpointSpec, ModelRoute, ModelServer } from './resources.js';
import { RouterStore, selectorMatches } from './store.js';

const route = (
  name: string,
  modelName: string,
  loras: string[] = [],
  created = '2024-01-01T00:00:00Z',
): ModelRoute => ({
  kind: 'ModelRoute',
  metadata: { name, namespace: 'default', creationTimestamp: created },
  spec: { modelName, loraAdapters: loras, rules: [{ targetModels: [{ modelServerName: 's' }] }] },
});
const server = (name: string, labels: Record<string, string>, ns = 'default'): ModelServer => ({
  kind: 'ModelServer',
  metadata: { name, namespace: ns },
  spec: { inferenceEngine: 'vLLM', workloadSelector: { matchLabels: labels }, workloadPort: { port: 8000 } },
});
const endpoint = (name: string, labels: Record<string, string>, over: Partial<EndpointSpec> = {}): EndpointSpec => ({
  namespace: 'default',
  name,
  address: '10.0.0.1',
  labels,
  ready: true,
  ...over,
});

test('selectors: all labels must match; an empty selector selects nothing', () => {
  assert.equal(selectorMatches({ app: 'a' }, { app: 'a', x: 'y' }), true);
  assert.equal(selectorMatches({ app: 'a', tier: 't' }, { app: 'a' }), false);
  assert.equal(selectorMatches({}, { app: 'a' }), false);
});

test('routes indexed by modelName and LoRA names, oldest first', () => {
  const s = new RouterStore();
  s.replaceAll({
    routes: [route('new', 'm', [], '2024-02-01T00:00:00Z'), route('old', 'm', ['l1'], '2024-01-01T00:00:00Z')],
    servers: [],
    providers: [],
    endpoints: [],
  });
  assert.deepEqual(
    s.view.routesByModel.get('m')!.map((r) => r.metadata.name),
    ['old', 'new'],
  );
  assert.deepEqual(
    s.view.routesByLora.get('l1')!.map((r) => r.metadata.name),
    ['old'],
  );
});

test('endpoints follow selectors, readiness, namespaces and label changes; removed ones are announced', () => {
  const s = new RouterStore();
  const removed: string[] = [];
  s.on('endpoint-removed', (e) => removed.push(e.key));
  s.upsert(server('s', { app: 'a' }));
  s.upsertEndpoint(endpoint('e1', { app: 'a' }));
  s.upsertEndpoint(endpoint('e2', { app: 'b' }));
  s.upsertEndpoint(endpoint('e3', { app: 'a' }, { ready: false }));
  s.upsertEndpoint(endpoint('e4', { app: 'a' }, { namespace: 'other' }));
  const keys = () => (s.view.endpointsByServer.get('default/s') ?? []).map((e) => e.state.key);
  assert.deepEqual(keys(), ['default/e1']);
  const state = s.endpointState('default/e1')!;
  state.inflight = 3;
  s.upsertEndpoint(endpoint('e2', { app: 'a' })); // relabel: e2 joins
  assert.deepEqual(keys(), ['default/e1', 'default/e2']);
  assert.equal(s.endpointState('default/e1'), state, 'runtime state survives unrelated changes');
  s.upsertEndpoint(endpoint('e1', { app: 'z' })); // relabel: e1 leaves
  assert.deepEqual(keys(), ['default/e2']);
  assert.deepEqual(removed, ['default/e1']);
  assert.equal(state.removed, true);
  s.upsert(server('s', { app: 'z' })); // selector change
  assert.deepEqual(keys(), ['default/e1']);
  s.remove('ModelServer', 'default/s');
  assert.equal(s.view.endpointsByServer.get('default/s'), undefined);
  assert.equal(s.endpointStates().length, 0, 'no endpoint without a selecting ModelServer stays');
});

test('an endpoint port overrides workloadPort; a new address is a new endpoint state', () => {
  const s = new RouterStore();
  s.upsert(server('s', { app: 'a' }));
  s.upsertEndpoint(endpoint('e', { app: 'a' }, { port: 9001 }));
  assert.equal(s.view.endpointsByServer.get('default/s')![0].origin, 'http://10.0.0.1:9001');
  const before = s.endpointState('default/e');
  s.upsertEndpoint(endpoint('e', { app: 'a' }, { address: '10.0.0.2' }));
  assert.notEqual(s.endpointState('default/e'), before);
  assert.equal(s.view.endpointsByServer.get('default/s')![0].origin, 'http://10.0.0.2:8000');
});
