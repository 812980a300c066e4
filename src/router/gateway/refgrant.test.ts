import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type ReferenceGrant, referencePermitted } from './refgrant.js';

const route = { group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' };
const pool = (namespace: string, name = 'p') => ({
  group: 'inference.networking.k8s.io',
  kind: 'InferencePool',
  namespace,
  name,
});
const grant = (ns: string, spec: ReferenceGrant['spec']): ReferenceGrant => ({
  metadata: { namespace: ns, name: 'g' },
  spec,
});
const fromApps = [{ group: 'gateway.networking.k8s.io', kind: 'HTTPRoute', namespace: 'apps' }];

test('same namespace needs no grant; another namespace needs one there naming both ends', () => {
  assert.equal(referencePermitted([], route, pool('apps')), true);
  assert.equal(referencePermitted([], route, pool('models')), false);
  const ok = grant('models', { from: fromApps, to: [{ group: 'inference.networking.k8s.io', kind: 'InferencePool' }] });
  assert.equal(referencePermitted([ok], route, pool('models')), true);
});

test('a grant in the wrong namespace, for another kind, namespace or name permits nothing', () => {
  const to = [{ group: 'inference.networking.k8s.io', kind: 'InferencePool' }];
  assert.equal(
    referencePermitted([grant('apps', { from: fromApps, to })], route, pool('models')),
    false,
    'grant in the route namespace',
  );
  assert.equal(
    referencePermitted(
      [grant('models', { from: [{ ...fromApps[0], namespace: 'other' }], to })],
      route,
      pool('models'),
    ),
    false,
  );
  assert.equal(
    referencePermitted([grant('models', { from: [{ ...fromApps[0], kind: 'GRPCRoute' }], to })], route, pool('models')),
    false,
  );
  assert.equal(
    referencePermitted(
      [grant('models', { from: fromApps, to: [{ group: '', kind: 'Service' }] })],
      route,
      pool('models'),
    ),
    false,
  );
  const named = grant('models', { from: fromApps, to: [{ ...to[0], name: 'only-this' }] });
  assert.equal(referencePermitted([named], route, pool('models', 'p')), false);
  assert.equal(referencePermitted([named], route, pool('models', 'only-this')), true);
  assert.equal(referencePermitted([grant('models', {})], route, pool('models')), false, 'an empty grant');
});
