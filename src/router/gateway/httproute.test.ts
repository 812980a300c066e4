import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type HTTPRoute, type HttpRequestInfo, pickPool, selectHttpRoute } from './httproute.js';

const req = (o: Partial<HttpRequestInfo> & { headers?: Record<string, string> } = {}): HttpRequestInfo => ({
  host: o.host ?? 'gw.example.com',
  path: o.path ?? '/v1/chat/completions',
  method: o.method ?? 'POST',
  header: (n) => o.headers?.[n],
  query: o.query ?? new URLSearchParams(),
});
const pool = (name: string, weight?: number) => ({
  group: 'inference.networking.k8s.io',
  kind: 'InferencePool',
  name,
  weight,
});
const route = (name: string, rules: HTTPRoute['spec']['rules'], extra: Partial<HTTPRoute['spec']> = {}): HTTPRoute => ({
  metadata: { name, namespace: 'default', creationTimestamp: '2026-01-01T00:00:00Z' },
  spec: { parentRefs: [{ name: 'gw' }], rules, ...extra },
});

test('method, header and query matches are honoured (upstream never matched them)', () => {
  const r = route('r', [
    { matches: [{ headers: [{ name: 'X-Tier', value: 'gold' }] }], backendRefs: [pool('gold')] },
    { matches: [{ method: 'GET' }], backendRefs: [pool('get')] },
    {
      matches: [{ queryParams: [{ name: 'v', type: 'RegularExpression', value: '[0-9]+' }] }],
      backendRefs: [pool('q')],
    },
    { backendRefs: [pool('default')] },
  ]);
  const pick = (i: Partial<HttpRequestInfo> & { headers?: Record<string, string> }) =>
    selectHttpRoute([r], req(i))?.backends[0].name;
  assert.equal(pick({ headers: { 'x-tier': 'gold' } }), 'gold');
  assert.equal(pick({ headers: { 'x-tier': 'silver' } }), 'default');
  assert.equal(pick({ method: 'GET' }), 'get');
  assert.equal(pick({ query: new URLSearchParams('v=12') }), 'q');
  assert.equal(pick({ query: new URLSearchParams('v=12a') }), 'default', 'regex matches the whole value');
});

test('precedence: exact host over wildcard, Exact path over the longest prefix, segment-aware prefixes', () => {
  const wild = route('wild', [{ backendRefs: [pool('wild')] }], { hostnames: ['*.example.com'] });
  const exact = route('exact', [{ backendRefs: [pool('exact')] }], { hostnames: ['gw.example.com'] });
  assert.equal(selectHttpRoute([wild, exact], req())?.route.metadata.name, 'exact');
  assert.equal(selectHttpRoute([wild, exact], req({ host: 'other.example.com:8080' }))?.route.metadata.name, 'wild');
  assert.equal(selectHttpRoute([exact], req({ host: 'nope.org' })), undefined);
  const paths = route('p', [
    { matches: [{ path: { type: 'PathPrefix', value: '/v1' } }], backendRefs: [pool('v1')] },
    { matches: [{ path: { type: 'PathPrefix', value: '/v1/chat' } }], backendRefs: [pool('chat')] },
    { matches: [{ path: { type: 'Exact', value: '/v1/chat/completions' } }], backendRefs: [pool('exact')] },
  ]);
  assert.equal(selectHttpRoute([paths], req())?.backends[0].name, 'exact');
  assert.equal(selectHttpRoute([paths], req({ path: '/v1/chat/x' }))?.backends[0].name, 'chat');
  assert.equal(selectHttpRoute([paths], req({ path: '/v1/chatty' }))?.backends[0].name, 'v1');
  assert.equal(selectHttpRoute([paths], req({ path: '/v2' })), undefined);
});

test('InferencePool backends only, weighted, zero weights skipped', () => {
  const backends = [{ kind: 'Service', name: 'svc' }, pool('a', 1), pool('b', 3), pool('z', 0)];
  assert.equal(pickPool(backends, () => 0)?.name, 'a');
  assert.equal(pickPool(backends, () => 0.3)?.name, 'b');
  assert.equal(pickPool(backends, () => 0.999)?.name, 'b');
  assert.equal(
    pickPool([{ kind: 'Service', name: 'svc' }, pool('z', 0)], () => 0),
    undefined,
  );
});
