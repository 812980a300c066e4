import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  apiVersionOf,
  HYPERNODES,
  LEASES,
  MODEL_ROUTES,
  NAMESPACES,
  NODES,
  objectKey,
  PODGROUPS,
  PODS,
  resourcePath,
} from './resource.js';

test('core group resources live under /api/v1', () => {
  assert.equal(resourcePath(PODS), '/api/v1/pods');
  assert.equal(resourcePath(PODS, 'ns1'), '/api/v1/namespaces/ns1/pods');
  assert.equal(resourcePath(PODS, 'ns1', 'p'), '/api/v1/namespaces/ns1/pods/p');
  assert.equal(resourcePath(PODS, 'ns1', 'p', 'status'), '/api/v1/namespaces/ns1/pods/p/status');
  assert.equal(resourcePath(NAMESPACES, undefined, 'kube-system'), '/api/v1/namespaces/kube-system');
});

test('named groups live under /apis/<group>/<version>', () => {
  assert.equal(
    resourcePath(LEASES, 'kube-system', 'l'),
    '/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/l',
  );
  assert.equal(resourcePath(PODGROUPS, 'a'), '/apis/scheduling.volcano.sh/v1beta1/namespaces/a/podgroups');
  assert.equal(resourcePath(MODEL_ROUTES), '/apis/networking.serving.volcano.sh/v1alpha1/modelroutes');
});

test('cluster-scoped resources ignore the namespace', () => {
  assert.equal(resourcePath(NODES, 'ignored', 'n1'), '/api/v1/nodes/n1');
  assert.equal(resourcePath(HYPERNODES, 'x', 'h'), '/apis/topology.volcano.sh/v1alpha1/hypernodes/h');
});

test('names are URL-encoded and bad combinations are refused', () => {
  assert.equal(resourcePath(PODS, 'n s', 'a/b'), '/api/v1/namespaces/n%20s/pods/a%2Fb');
  assert.throws(() => resourcePath(PODS, 'ns', undefined, 'status'), /needs an object name/);
  assert.throws(() => resourcePath(PODS, 'ns', ''), /empty name/);
});

test('apiVersionOf and objectKey', () => {
  assert.equal(apiVersionOf(PODS), 'v1');
  assert.equal(apiVersionOf(LEASES), 'coordination.k8s.io/v1');
  assert.equal(objectKey({ metadata: { namespace: 'a', name: 'b' } }), 'a/b');
  assert.equal(objectKey({ metadata: { name: 'n1' } }), 'n1');
});
