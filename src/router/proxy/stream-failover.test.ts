// Faults after a stream's first bytes (#18 items 3, 4, 6) and target failover: real HTTP on loopback, scriptable
// engines (testing/fake-engine.ts), a router with a short stall timeout.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from '../testing/harness.js';

const server = (name: string) =>
  serverYaml(
    name,
    `  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: ${name}}}\n  workloadPort: {port: 8000}\n`,
  );
const chat = { model: 'm', stream: true, max_tokens: 10, messages: [{ role: 'user', content: 'count' }] };
const events = (text: string) =>
  text
    .split('\n\n')
    .filter(Boolean)
    .map((e) => (e === 'data: [DONE]' ? '[DONE]' : JSON.parse(e.slice(6))));
const until = async (cond: () => boolean, what: string) => {
  for (let i = 0; i < 500 && !cond(); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(cond(), what);
};

describe('mid-stream failover, stall timeout and target failover', () => {
  let a: FakeEngine;
  let b: FakeEngine;
  let c: FakeEngine;
  let h: Harness;
  const log = join(tmpdir(), `kthena-stream-failover-${process.pid}.log`);
  before(async () => {
    a = await startFakeEngine('a');
    b = await startFakeEngine('b');
    c = await startFakeEngine('c');
    h = await startHarness(
      {
        'route.yaml': routeYaml(
          'r',
          '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s, weight: 100}, {modelServerName: t, weight: 1}]\n',
        ),
        'server.yaml': `${server('s')}---\n${server('t')}`,
        'eps.yaml': `${endpointYaml('a', a, { app: 's' })}---\n${endpointYaml('b', b, { app: 's' })}---\n${endpointYaml('c', c, { app: 't' })}`,
      },
      {
        routerConfigText: 'scheduler:\n  plugins:\n    Score:\n      enabled: [random]\n',
        rand: () => 0.5, // target s for every request (weights 100:1); failover decides the rest
        streamStallTimeoutMs: 300,
        midStreamFailover: true,
        accessLog: { enabled: true, format: 'json', output: log },
      },
    );
  });
  after(async () => {
    await h.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  });
  const inflight = () => h.router.store.endpointStates().reduce((n, s) => n + s.inflight, 0);

  test('an engine dying mid-stream: the stream continues on the other endpoint from the text already sent', async () => {
    for (const broken of ['die-after', 'stall-after'] as const) {
      // Whichever of a and b goes first breaks after 2 events; the other one continues.
      a.fallback = { kind: broken, chunks: 2 };
      b.fallback = { kind: broken, chunks: 2 };
      a.next = [];
      b.next = [];
      const seenA = a.received.length;
      const seenB = b.received.length;
      const first = () => (a.received.length > seenA ? a : b);
      const go = h.post('/v1/chat/completions', chat);
      await until(() => a.received.length + b.received.length > seenA + seenB, 'first leg sent');
      const other = first() === a ? b : a;
      other.fallback = { kind: 'ok', chunks: 3 };
      const r = await go;
      assert.equal(r.status, 200);
      const evs = events(r.text);
      assert.equal(evs.at(-1), '[DONE]', `${broken}: the client sees a finished stream`);
      assert.equal(
        evs
          .slice(0, -1)
          .map((e: any) => e.choices[0].delta.content)
          .join(''),
        't0 t1 t0 t1 t2 ',
        `${broken}: the first leg's events, then the continuation's`,
      );
      const cont = other.received.at(-1)!.body;
      assert.deepEqual(cont.messages.at(-1), { role: 'assistant', content: 't0 t1 ' });
      assert.equal(cont.continue_final_message, true);
      assert.equal(cont.add_generation_prompt, false);
      assert.equal(cont.max_tokens, 8, 'the budget left after 2 tokens');
      await until(() => inflight() === 0, 'in-flight back to 0');
      other.fallback = { kind: 'ok' };
      first().fallback = { kind: 'ok' };
    }
    // The access log names the pod that finished the stream, not the one ranked first.
    await until(() => true, '');
    const lines = (await readFile(log, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const last = lines.at(-1);
    assert.equal(last.upstream_attempts, 3, 'first leg, its break, the continuation');
    assert.ok(['a', 'b'].includes(last.selected_pod));
  });

  test('a stream that stalls with nowhere to continue ends with an SSE error event within the stall timeout', async () => {
    a.fallback = { kind: 'stall-after', chunks: 1 };
    b.fallback = { kind: 'stall-after', chunks: 1 };
    const r = await h.post('/v1/chat/completions', chat);
    const evs = events(r.text);
    assert.equal(evs.at(-1), '[DONE]');
    assert.equal((evs.at(-2) as any).error.code, 'upstream_stream_failed');
    await until(() => inflight() === 0, 'in-flight back to 0');
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
  });

  test('a stalled engine before the first byte fails over; a target with no working endpoint fails over to the next target', async () => {
    for (const [stuck, fine] of [
      [a, b],
      [b, a],
    ]) {
      stuck.fallback = { kind: 'hang' };
      fine.fallback = { kind: 'ok' };
      const r = await h.post('/v1/chat/completions', chat);
      assert.equal(r.status, 200);
      assert.equal(events(r.text).at(-1), '[DONE]');
    }
    // Every endpoint of target s fails: the rule's other target serves.
    a.fallback = { kind: 'status', status: 503 };
    b.fallback = { kind: 'reset' };
    const before = c.received.length;
    const r = await h.post('/v1/chat/completions', { ...chat, stream: false });
    assert.equal(r.status, 200, r.text);
    assert.equal(c.received.length, before + 1);
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
    await until(() => inflight() === 0, 'in-flight back to 0');
  });
});
