import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterStore } from '../store/store.js';
import { desiredRouteStatus, desiredServerStatus, statusFingerprint, withTransitionTimes } from './kube-status.js';

const server = {
  kind: 'ModelServer' as const,
  metadata: { name: 'ms', namespace: 'a', generation: 3 },
  spec: {
    inferenceEngine: 'vLLM' as const,
    workloadSelector: { matchLabels: { app: 'x' } },
    workloadPort: { port: 8000 },
  },
};
const route = (name: string, created: string, target = 'ms') => ({
  kind: 'ModelRoute' as const,
  metadata: { name, namespace: 'a', generation: 2, creationTimestamp: created },
  spec: { modelName: 'm', rules: [{ targetModels: [{ modelServerName: target }] }] },
});

test('ModelServer status counts ready endpoints and carries observedGeneration', () => {
  const store = new RouterStore();
  store.upsert(server);
  let s = desiredServerStatus(server, undefined, store.view);
  assert.equal(s.readyEndpoints, 0);
  assert.deepEqual(
    s.conditions.map((c) => [c.type, c.status, c.reason, c.observedGeneration]),
    [['Ready', 'False', 'NoReadyEndpoints', 3]],
  );
  store.upsertEndpoint({ namespace: 'a', name: 'p', address: '10.0.0.1', labels: { app: 'x' }, ready: true });
  store.upsertEndpoint({ namespace: 'b', name: 'p', address: '10.0.0.2', labels: { app: 'x' }, ready: true });
  s = desiredServerStatus(server, undefined, store.view);
  assert.equal(s.readyEndpoints, 1, 'a pod in another namespace does not count');
  assert.equal(s.conditions[0].status, 'True');
  s = desiredServerStatus(server, ['spec.workloadPort.port: required'], store.view);
  assert.deepEqual([s.conditions[0].status, s.conditions[0].reason], ['False', 'Invalid']);
});

test('ModelRoute status: Accepted, Conflicted (naming the older route), BackendNotFound, Invalid', () => {
  const store = new RouterStore();
  store.upsert(server);
  const old = route('old', '2026-01-01T00:00:00Z');
  const newer = route('new', '2026-02-01T00:00:00Z', 'gone');
  store.upsert(old);
  store.upsert(newer);
  const a = desiredRouteStatus(old, undefined, store.view);
  assert.deepEqual(
    a.conditions.map((c) => `${c.type}=${c.status}/${c.reason}`),
    ['Accepted=True/Accepted', 'ResolvedRefs=True/ResolvedRefs'],
  );
  const b = desiredRouteStatus(newer, undefined, store.view);
  assert.equal(b.conditions[0].reason, 'Conflicted');
  assert.match(b.conditions[0].message, /a\/old/);
  assert.equal(b.conditions[1].reason, 'BackendNotFound');
  assert.match(b.conditions[1].message, /ModelServer a\/gone/);
  const c = desiredRouteStatus(old, ['spec.rules[0].modelMatch.uri.regex: does not compile'], store.view);
  assert.deepEqual(
    c.conditions.map((x) => `${x.type}=${x.status}/${x.reason}`),
    ['Accepted=False/Invalid', 'ResolvedRefs=False/Invalid'],
  );
  assert.match(c.conditions[0].message, /regex/);
});

test('fingerprints ignore lastTransitionTime and condition order; transition times survive unchanged statuses', () => {
  const store = new RouterStore();
  store.upsert(server);
  const d = desiredServerStatus(server, undefined, store.view);
  const stored = withTransitionTimes(d, undefined, '2026-01-01T00:00:00.000Z');
  assert.equal(stored.conditions[0].lastTransitionTime, '2026-01-01T00:00:00.000Z');
  assert.equal(statusFingerprint(stored), statusFingerprint(d));
  const again = withTransitionTimes(d, stored, '2026-03-01T00:00:00.000Z');
  assert.equal(again.conditions[0].lastTransitionTime, '2026-01-01T00:00:00.000Z', 'unchanged status keeps its time');
  const flipped = withTransitionTimes(
    { ...d, conditions: [{ ...d.conditions[0], status: 'True' as const }] },
    stored,
    'T2',
  );
  assert.equal(flipped.conditions[0].lastTransitionTime, 'T2');
  assert.notEqual(statusFingerprint(flipped), statusFingerprint(stored));
  assert.notEqual(statusFingerprint({ ...d, readyEndpoints: 2 }), statusFingerprint(d));
  assert.equal(statusFingerprint(undefined), 'null');
});
