import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Fleet, type FleetArrival } from './fleet.js';

const PROFILE = 'llama-3.1-8b-h100';
const arrivals = (times: number[]): FleetArrival[] => times.map((at) => ({ at, promptTokens: 64, outputTokens: 4 }));

test('a fleet already running serves at once; GPU-seconds count every replica for the whole run', async () => {
  const f = new Fleet({
    model: 'm',
    profile: PROFILE,
    gpusPerReplica: 2,
    coldStartSec: 60,
    initialReplicas: 2,
    warmAtStart: true,
    arrivals: arrivals([1, 1, 2]),
    seed: 1,
  });
  const out = await f.run();
  assert.ok(out.requests.every((r) => r.ttft !== undefined && r.ttft < 1 && !r.lost));
  assert.equal(out.scaleEvents, 0);
  assert.ok(Math.abs(out.gpuSeconds - 2 * 2 * out.durationSec) < 1e-9);
});

test('with no ready replica requests are held until one is ready (after the cold start), never dropped', async () => {
  const f = new Fleet({
    model: 'm',
    profile: PROFILE,
    gpusPerReplica: 1,
    coldStartSec: 30,
    initialReplicas: 1, // starting cold: ready at t = 30
    arrivals: arrivals([5, 10]),
    seed: 1,
  });
  const out = await f.run();
  assert.ok(out.requests[0]!.ttft! >= 25 && out.requests[0]!.ttft! < 26, String(out.requests[0]!.ttft));
  assert.ok(out.requests[1]!.ttft! >= 20 && out.requests[1]!.ttft! < 21);
  assert.equal(out.requests.filter((r) => r.lost).length, 0);
});

test('held requests past the bounds are lost: by timeout, or when the hold queue is full', async () => {
  const f = new Fleet({
    model: 'm',
    profile: PROFILE,
    gpusPerReplica: 1,
    coldStartSec: 50,
    initialReplicas: 1,
    arrivals: arrivals([1, 2, 30, 31]),
    holdTimeoutSec: 40,
    holdQueueMax: 3,
    seed: 1,
  });
  const out = await f.run();
  assert.deepEqual(
    out.requests.map((r) => r.lost ?? 'ok'),
    ['timeout', 'timeout', 'ok', 'queue_full'],
  );
});

test('scaling: new replicas hold GPUs from creation; starting ones are removed first; events count changes', async () => {
  const f = new Fleet({
    model: 'm',
    profile: PROFILE,
    gpusPerReplica: 1,
    coldStartSec: 10,
    initialReplicas: 1,
    warmAtStart: true,
    arrivals: arrivals([0.5, 40]),
    control: {
      everySec: 5,
      fn: (fleet, now) => {
        if (now === 5) fleet.scaleTo(3); // two replicas start, ready at 15
        if (now === 10) fleet.scaleTo(2); // one of the starting ones goes (it never served)
        if (now === 10)
          assert.deepEqual(
            fleet.members().map((r) => r.index),
            [0, 1],
          );
        if (now === 20) fleet.scaleTo(2); // no change: no event
        if (now === 20) assert.equal(fleet.members().filter((r) => fleet.isReady(r)).length, 2);
      },
    },
    seed: 1,
  });
  const out = await f.run();
  assert.equal(out.scaleEvents, 2);
  // replica 0 the whole run, replica 1 from t = 5, replica 2 from 5 to 10
  const end = out.durationSec;
  assert.ok(Math.abs(out.gpuSeconds - (end + (end - 5) + 5)) < 1e-6, `${out.gpuSeconds} vs end ${end}`);
  assert.ok(out.timeline.some((s) => s.allocated === 3));
});
