import assert from 'node:assert/strict';
import { test } from 'node:test';
import { RouterError } from '../errors.js';
import type { ServerEndpoint } from '../store/store.js';
import { ScaleFromZeroGate, type Timers } from './scale-from-zero.js';

/** Timers that fire only when the test says so. */
function manualTimers() {
  const pending = new Map<number, () => void>();
  let seq = 0;
  const t: Timers & { fireAll(): void; count(): number } = {
    setTimeout: (fn) => {
      pending.set(++seq, fn);
      return seq;
    },
    clearTimeout: (h) => pending.delete(h as number),
    fireAll: () => {
      for (const [k, fn] of [...pending]) {
        pending.delete(k);
        fn();
      }
    },
    count: () => pending.size,
  };
  return t;
}

const ep = { key: 'ns/pod-a' } as unknown as ServerEndpoint;
const annotated = { metadata: { annotations: { 'autoscaling.kthena.io/scale-to-zero': 'true' } } };

function setup(maxQueue = 2) {
  const eps = new Map<string, ServerEndpoint[]>();
  const demand: string[] = [];
  const ends: string[] = [];
  const timers = manualTimers();
  const gate = new ScaleFromZeroGate({
    maxWaitMs: 5000,
    maxQueue,
    endpointsOf: (k) => eps.get(k) ?? [],
    signalDemand: (k) => demand.push(k),
    timers,
    onWaitEnd: (o) => ends.push(o),
  });
  return { gate, eps, demand, ends, timers };
}

test('endpoints present: returned at once, nothing held, no demand', () => {
  const { gate, eps, demand } = setup();
  eps.set('ns/s', [ep]);
  assert.deepEqual(gate.endpoints('ns/s', annotated, new AbortController().signal), [ep]);
  assert.deepEqual(demand, []);
});

test('a server that is not scalable to zero answers 503 at once, as upstream', () => {
  const { gate, demand } = setup();
  assert.throws(
    () => gate.endpoints('ns/s', { metadata: {} }, new AbortController().signal),
    (e: unknown) => e instanceof RouterError && e.status === 503 && e.code === 'no_available_endpoints',
  );
  assert.deepEqual(demand, []);
});

test('held requests signal demand and are released together when an endpoint becomes ready', async () => {
  const { gate, eps, demand, ends } = setup();
  const a = gate.endpoints('ns/s', annotated, new AbortController().signal);
  const b = gate.endpoints('ns/s', annotated, new AbortController().signal);
  assert.equal(gate.held, 2);
  assert.deepEqual(demand, ['ns/s', 'ns/s']);
  gate.notify(); // a change elsewhere: still nothing ready
  assert.equal(gate.held, 2);
  eps.set('ns/s', [ep]);
  gate.notify();
  assert.deepEqual(await a, [ep]);
  assert.deepEqual(await b, [ep]);
  assert.equal(gate.held, 0);
  assert.deepEqual(ends, ['served', 'served']);
});

test('bounded: the queue limit and the wait limit answer 503 with Retry-After', async () => {
  const { gate, timers, ends } = setup(1);
  const a = gate.endpoints('ns/s', annotated, new AbortController().signal) as Promise<unknown>;
  assert.throws(
    () => gate.endpoints('ns/s', annotated, new AbortController().signal),
    (e: unknown) =>
      e instanceof RouterError &&
      e.status === 503 &&
      e.headers['retry-after'] === '5' &&
      /1 requests already waiting/.test(e.message),
  );
  timers.fireAll();
  await assert.rejects(a, (e: unknown) => e instanceof RouterError && /none ready within 5000 ms/.test(e.message));
  assert.equal(gate.held, 0);
  assert.deepEqual(ends, ['queue_full', 'timeout']);
});

test('a client that leaves is dropped at once and its timer cleared', async () => {
  const { gate, timers, ends } = setup();
  const ac = new AbortController();
  const a = gate.endpoints('ns/s', annotated, ac.signal) as Promise<unknown>;
  ac.abort(new Error('client closed'));
  await assert.rejects(a, /client closed/);
  assert.equal(gate.held, 0);
  assert.equal(timers.count(), 0);
  assert.deepEqual(ends, ['cancelled']);
});

test('close answers every held request with shutting_down', async () => {
  const { gate } = setup();
  const a = gate.endpoints('ns/s', annotated, new AbortController().signal) as Promise<unknown>;
  gate.close();
  await assert.rejects(a, (e: unknown) => e instanceof RouterError && e.code === 'shutting_down');
});
