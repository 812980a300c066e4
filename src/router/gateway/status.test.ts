import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelRoute } from '../store/resources.js';
import type { HTTPRoute } from './httproute.js';
import type { Gateway } from './model.js';
import { desiredGatewayClassStatus, desiredGatewayStatus, desiredHttpRouteParents, routeAttachment } from './status.js';

const g: Gateway = {
  metadata: { name: 'gw', namespace: 'default', generation: 3 },
  spec: {
    gatewayClassName: 'kthena-router',
    listeners: [
      { name: 'http', port: 8081, protocol: 'HTTP' },
      { name: 'alt', port: 8082, protocol: 'HTTP' },
      { name: 'tls', port: 8443, protocol: 'HTTPS' },
    ],
  },
};
const route = (name: string, parentRefs?: ModelRoute['spec']['parentRefs']): ModelRoute => ({
  kind: 'ModelRoute',
  metadata: { name, namespace: 'default', generation: 1 },
  spec: { modelName: name, parentRefs, rules: [{ targetModels: [{ modelServerName: 's' }] }] },
});
const byType = (cs: { type: string; status: string; reason: string }[]) =>
  Object.fromEntries(cs.map((c) => [c.type, `${c.status}/${c.reason}`]));

test('Gateway status: per-listener conditions, attached routes, Programmed only when every listener is served', () => {
  const routes = [route('a', [{ name: 'gw' }]), route('b', [{ name: 'gw', sectionName: 'alt' }]), route('c')];
  const st = desiredGatewayStatus(g, routes, new Map([[8082, 'port 8082 could not be opened: EADDRINUSE']]));
  assert.deepEqual(byType(st.conditions), { Accepted: 'True/Accepted', Programmed: 'False/Invalid' });
  assert.deepEqual(
    st.listeners.map((l) => [l.name, l.attachedRoutes, byType(l.conditions)]),
    [
      ['http', 1, { Accepted: 'True/Accepted', Programmed: 'True/Programmed', ResolvedRefs: 'True/ResolvedRefs' }],
      ['alt', 2, { Accepted: 'True/Accepted', Programmed: 'False/PortUnavailable', ResolvedRefs: 'True/ResolvedRefs' }],
      [
        'tls',
        0,
        { Accepted: 'False/UnsupportedProtocol', Programmed: 'False/Invalid', ResolvedRefs: 'True/ResolvedRefs' },
      ],
    ],
  );
  assert.equal(st.conditions[0].observedGeneration, 3);
  const ok = desiredGatewayStatus(
    { ...g, spec: { ...g.spec, listeners: g.spec.listeners.slice(0, 1) } },
    [],
    new Map(),
  );
  assert.deepEqual(byType(ok.conditions), { Accepted: 'True/Accepted', Programmed: 'True/Programmed' });
});

test('ModelRoute attachment tells the truth: disabled mode, no matching parent, attached', () => {
  assert.equal(routeAttachment(route('plain'), false, [g]), undefined);
  assert.equal(routeAttachment(route('x', [{ name: 'gw' }]), false, [g])?.reason, 'GatewayAPIDisabled');
  const none = routeAttachment(route('x', [{ name: 'missing' }]), true, [g]);
  assert.equal(`${none?.status}/${none?.reason}`, 'False/NoMatchingParent');
  assert.match(none?.message ?? '', /default\/missing/);
  assert.equal(routeAttachment(route('x', [{ name: 'gw', sectionName: 'tls' }]), true, [g])?.status, 'False');
  const ok = routeAttachment(route('x', [{ name: 'gw' }]), true, [g]);
  assert.equal(`${ok?.status}/${ok?.reason}`, 'True/Accepted');
});

test('GatewayClass status: ours is Accepted with its generation; another controller’s is left alone', () => {
  const st = desiredGatewayClassStatus({
    metadata: { generation: 2 },
    spec: { controllerName: 'volcano.sh/kthena-router' },
  });
  assert.deepEqual(byType(st?.conditions ?? []), {
    Accepted: 'True/Accepted',
    SupportedVersion: 'True/SupportedVersion',
  });
  assert.equal(st?.conditions[0].observedGeneration, 2);
  assert.equal(desiredGatewayClassStatus({ metadata: {}, spec: { controllerName: 'example.com/x' } }), undefined);
});

test('HTTPRoute status: a cross-namespace pool without a ReferenceGrant is RefNotPermitted, before existence', () => {
  const r: HTTPRoute = {
    metadata: { name: 'cross', namespace: 'apps', generation: 1 },
    spec: {
      parentRefs: [{ name: 'gw', namespace: 'default' }],
      rules: [
        {
          backendRefs: [
            { group: 'inference.networking.k8s.io', kind: 'InferencePool', name: 'p', namespace: 'default' },
          ],
        },
      ],
    },
  } as HTTPRoute;
  const resolved = (permitted: boolean, exists: boolean) =>
    byType(
      desiredHttpRouteParents(
        r,
        [g],
        () => true,
        () => exists,
        () => permitted,
      )[0].conditions,
    ).ResolvedRefs;
  assert.equal(resolved(false, false), 'False/RefNotPermitted');
  assert.equal(resolved(true, false), 'False/BackendNotFound');
  assert.equal(resolved(true, true), 'True/ResolvedRefs');
  // Without a grant checker, only the route's own namespace is permitted.
  assert.equal(
    byType(
      desiredHttpRouteParents(
        r,
        [g],
        () => true,
        () => true,
      )[0].conditions,
    ).ResolvedRefs,
    'False/RefNotPermitted',
  );
});
