import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MAX_SESSION_ID_LENGTH, sessionIdOf } from '../../session/session-id.js';
import { SessionMap } from '../../session/session-map.js';
import { RouterMetrics } from '../../telemetry/metrics.js';
import { ctxFor, ep, seeded } from '../../testing/fixtures.js';
import { parseSessionArgs, SessionAffinityPlugin, sessionAffinityOf } from './session-affinity.js';

test('session map: idle TTL, LRU bound, re-pin refreshes', () => {
  let now = 0;
  const m = new SessionMap(2, 100, () => now);
  m.set('a', 'e1');
  m.set('b', 'e2');
  now = 50;
  m.set('a', 'e1'); // refresh a
  m.set('c', 'e3'); // evicts b (least recently pinned)
  assert.equal(m.get('b'), undefined);
  assert.equal(m.get('a'), 'e1');
  now = 149;
  assert.equal(m.get('a'), 'e1');
  now = 150;
  assert.equal(m.get('a'), undefined, 'idle for the TTL: gone');
  assert.equal(m.deleteValue('e3'), 1);
  assert.equal(m.size, 0);
});

test('session map memory stays bounded under many distinct sessions', () => {
  const m = new SessionMap(1000, 60_000, () => 0);
  for (let i = 0; i < 50_000; i++) m.set(`s${i}`, 'e');
  assert.equal(m.size, 1000);
});

test('session id from header, cookie or an unverified JWT claim; oversized ids are ignored', () => {
  const src = { header: 'x-session-id', cookie: 'sid', jwtClaim: 'conv' };
  assert.equal(sessionIdOf({ 'x-session-id': ' abc ' }, src), 'abc');
  assert.equal(sessionIdOf({ cookie: 'a=1; sid="x%20y"; b=2' }, src), 'x y');
  const payload = Buffer.from(JSON.stringify({ sub: 'u', conv: 'c-42' })).toString('base64url');
  assert.equal(sessionIdOf({ authorization: `Bearer eyJhbGciOiJIUzI1NiJ9.${payload}.sig` }, src), 'c-42');
  assert.equal(sessionIdOf({ authorization: 'Bearer not-a-jwt' }, src), undefined);
  assert.equal(sessionIdOf({ authorization: 'Bearer a.%%%.b' }, src), undefined);
  assert.equal(
    sessionIdOf({ authorization: `Bearer x.${Buffer.from('[1]').toString('base64url')}.y` }, src),
    undefined,
  );
  assert.equal(sessionIdOf({ 'x-session-id': 'x'.repeat(MAX_SESSION_ID_LENGTH + 1) }, src), undefined);
  assert.equal(sessionIdOf({}, src), undefined);
});

test('session args: validation names the key', () => {
  assert.throws(() => parseSessionArgs({ ttl: 'soon' }), /ttl/);
  assert.throws(() => parseSessionArgs({ header: 'bad header' }), /header/);
  assert.throws(() => parseSessionArgs({ maxSessions: 0 }), /maxSessions/);
  assert.throws(() => parseSessionArgs({ bogus: 1 }), /unknown argument "bogus"/);
  assert.throws(() => parseSessionArgs({ header: '' }), /at least one/);
  assert.equal(parseSessionArgs({ header: 'X-Conv', ttl: '5m' }).header, 'x-conv');
});

function plugin(over: Record<string, unknown> = {}) {
  let now = 0;
  const p = new SessionAffinityPlugin(
    parseSessionArgs({ maxWaitingRequests: 5, maxInflight: 4, ...over }),
    { metrics: new RouterMetrics(), rand: seeded(1) },
    () => now,
  );
  return { p, advance: (ms: number) => (now += ms) };
}

const req = (sid: string | undefined, user?: string) =>
  ctxFor('m', '', { headers: sid ? { 'x-session-id': sid } : {}, serverKey: 'ns/srv', user });

test('pinned endpoint wins; yields when gone, overloaded, or after the TTL; re-pins where served', () => {
  const { p, advance } = plugin({ ttl: '1m' });
  const a = ep('a');
  const b = ep('b');
  const c = ep('c');
  assert.deepEqual(Array.from(p.score(req('s1'), [a, b, c])), [0, 0, 0], 'new session: no preference');
  p.postSchedule(req('s1'), b);
  assert.deepEqual(Array.from(p.score(req('s1'), [a, b, c])), [0, 100, 0]);
  assert.deepEqual(Array.from(p.score(req('s1'), [a, c])), [0, 0], 'pinned endpoint gone or filtered out');
  b.state.metrics.waiting = 5;
  assert.deepEqual(Array.from(p.score(req('s1'), [a, b, c])), [0, 0, 0], 'overloaded (engine queue)');
  b.state.metrics.waiting = 0;
  b.state.inflight = 4;
  assert.deepEqual(Array.from(p.score(req('s1'), [a, b, c])), [0, 0, 0], 'overloaded (router in-flight)');
  b.state.inflight = 0;
  p.postSchedule(req('s1'), c);
  assert.deepEqual(Array.from(p.score(req('s1'), [a, b, c])), [0, 0, 100], 're-pinned where it was served');
  assert.deepEqual(Array.from(p.score(req(undefined), [a, b, c])), [0, 0, 0], 'no session id');
  advance(60_000);
  assert.deepEqual(Array.from(p.score(req('s1'), [a, b, c])), [0, 0, 0], 'expired');
});

test('sessions are scoped by user: the same id from another user is another session', () => {
  const { p } = plugin();
  const a = ep('a');
  const b = ep('b');
  p.postSchedule(req('s', 'alice'), a);
  assert.deepEqual(Array.from(p.score(req('s', 'alice'), [a, b])), [100, 0]);
  assert.deepEqual(Array.from(p.score(req('s', 'mallory'), [a, b])), [0, 0]);
});

test('endpoint removal drops its sessions; the primitive is reachable for PD pairing', () => {
  const { p } = plugin();
  const a = ep('a');
  p.postSchedule(req('s'), a);
  p.onEndpointRemoved(a.state);
  assert.deepEqual(Array.from(p.score(req('s'), [a])), [0]);
  const api = sessionAffinityOf([p])!;
  const ctx = req('conv-7');
  const key = api.pinnedKey(ctx)!;
  api.pin(key, 'prefill-0|decode-3');
  assert.equal(api.pinned(key), 'prefill-0|decode-3');
  assert.equal(api.pinnedKey(req(undefined)), undefined);
  assert.equal(sessionAffinityOf([]), undefined);
});
