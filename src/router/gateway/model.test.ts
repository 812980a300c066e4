import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ModelRoute } from '../store/resources.js';
import { type Gateway, listenerProblem, listenersByPort, routeBindsTo, selectListener } from './model.js';

const gw = (name: string, listeners: Gateway['spec']['listeners'], ns = 'default', cls = 'kthena-router'): Gateway => ({
  metadata: { name, namespace: ns },
  spec: { gatewayClassName: cls, listeners },
});

const route = (parentRefs?: ModelRoute['spec']['parentRefs'], ns = 'default'): ModelRoute => ({
  kind: 'ModelRoute',
  metadata: { name: 'r', namespace: ns },
  spec: { modelName: 'm', parentRefs, rules: [{ targetModels: [{ modelServerName: 's' }] }] },
});

test('one port per distinct listener port; other classes and non-HTTP listeners are not served', () => {
  const ports = listenersByPort([
    gw('a', [
      { name: 'http', port: 8081, protocol: 'HTTP' },
      { name: 'tls', port: 8443, protocol: 'HTTPS' },
    ]),
    gw('b', [{ name: 'web', port: 8081, protocol: 'HTTP', hostname: 'b.example.com' }]),
    gw('c', [{ name: 'x', port: 9000, protocol: 'HTTP' }], 'default', 'istio'),
  ]);
  assert.deepEqual([...ports.keys()], [8081]);
  assert.deepEqual(
    ports.get(8081)?.map((l) => `${l.gateway}#${l.listener}`),
    ['default/a#http', 'default/b#web'],
  );
  assert.equal(listenerProblem({ name: 't', port: 1, protocol: 'TLS' })?.reason, 'UnsupportedProtocol');
  assert.equal(listenerProblem({ name: 't', port: 0, protocol: 'HTTP' })?.reason, 'PortUnavailable');
});

test('Host selects exact, then the longest wildcard, then a listener without hostname', () => {
  const ls = [
    { gateway: 'd/any', listener: 'any', port: 1 },
    { gateway: 'd/w', listener: 'w', port: 1, hostname: '*.example.com' },
    { gateway: 'd/w2', listener: 'w2', port: 1, hostname: '*.api.example.com' },
    { gateway: 'd/e', listener: 'e', port: 1, hostname: 'Exact.example.com' },
  ];
  assert.equal(selectListener(ls, 'exact.example.com:8080')?.listener, 'e');
  assert.equal(selectListener(ls, 'x.api.example.com')?.listener, 'w2');
  assert.equal(selectListener(ls, 'x.example.com')?.listener, 'w');
  assert.equal(selectListener(ls, 'example.com')?.listener, 'any'); // a wildcard needs a label before it
  assert.equal(selectListener(ls.slice(1), 'other.org'), undefined);
  assert.equal(selectListener([{ gateway: 'd/any', listener: 'a', port: 1 }], '[::1]:80')?.listener, 'a');
});

test('parentRefs bind a route to the Gateways they name, with sectionName and port checked', () => {
  const g = gw('gw', [{ name: 'http', port: 8081, protocol: 'HTTP' }]);
  const other = gw('gw', [{ name: 'http', port: 8081, protocol: 'HTTP' }], 'team');
  const of = (k: string) => ({ 'default/gw': g, 'team/gw': other })[k];
  assert.equal(routeBindsTo(route([{ name: 'gw' }]), 'default/gw', of), true);
  assert.equal(routeBindsTo(route([{ name: 'gw' }]), 'team/gw', of), false);
  assert.equal(routeBindsTo(route([{ name: 'gw', namespace: 'team' }]), 'team/gw', of), true);
  assert.equal(routeBindsTo(route([{ name: 'gw' }]), undefined, of), false, 'not on the plain port');
  assert.equal(routeBindsTo(route([{ name: 'gw', sectionName: 'nope' }]), 'default/gw', of), false);
  assert.equal(routeBindsTo(route([{ name: 'gw', port: 9999 }]), 'default/gw', of), false);
  assert.equal(routeBindsTo(route([{ name: 'gw', port: 8081, sectionName: 'http' }]), 'default/gw', of), true);
  assert.equal(routeBindsTo(route([{ name: 'gw', kind: 'Service', group: '' }]), 'default/gw', of), false);
  // no parentRefs: the plain port, and Gateways of the route's own namespace
  assert.equal(routeBindsTo(route(), undefined, of), true);
  assert.equal(routeBindsTo(route(), 'default/gw', of), true);
  assert.equal(routeBindsTo(route(), 'team/gw', of), false);
});
