import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { computePodGroupStatus, sameStatus } from './podgroup-status.js';

const member = (phase: string, nodeName?: string): Pod => ({
  metadata: { name: 'm' },
  spec: { containers: [], nodeName },
  status: { phase },
});
const base = { minMember: 2, admitted: false, newlyBound: 0, now: 'T' };

test('Pending until admitted, then Inqueue', () => {
  assert.equal(computePodGroupStatus({ ...base, previous: undefined, members: [member('Pending')] }).phase, 'Pending');
  assert.equal(
    computePodGroupStatus({ ...base, admitted: true, previous: { phase: 'Pending' }, members: [member('Pending')] })
      .phase,
    'Inqueue',
  );
});

test('Running once minMember members are bound (this cycle or before), with counts', () => {
  const s = computePodGroupStatus({
    ...base,
    previous: { phase: 'Inqueue' },
    members: [member('Pending'), member('Pending')],
    newlyBound: 2,
  });
  assert.equal(s.phase, 'Running');
  assert.equal(s.conditions?.[0].type, 'Scheduled');
  const r = computePodGroupStatus({
    ...base,
    previous: { phase: 'Running' },
    members: [member('Running', 'n'), member('Running', 'n'), member('Pending')],
  });
  assert.deepEqual([r.phase, r.running, r.succeeded, r.failed], ['Running', 2, 0, 0]);
});

test('Unschedulable condition while the gang does not fit; Unknown when some members run', () => {
  const u = { reason: 'NotEnoughResources', message: '1/2 tasks in gang unschedulable' };
  const s = computePodGroupStatus({
    ...base,
    previous: { phase: 'Inqueue' },
    members: [member('Pending'), member('Pending')],
    unschedulable: u,
  });
  assert.equal(s.phase, 'Inqueue');
  assert.deepEqual(
    s.conditions?.map((c) => [c.type, c.status, c.reason]),
    [['Unschedulable', 'True', 'NotEnoughResources']],
  );
  const partial = computePodGroupStatus({
    ...base,
    minMember: 3,
    previous: { phase: 'Running' },
    members: [member('Running', 'n'), member('Pending'), member('Pending')],
    unschedulable: u,
  });
  assert.equal(partial.phase, 'Unknown');
});

test('Completed when every member succeeded; failed members counted', () => {
  assert.equal(
    computePodGroupStatus({
      ...base,
      previous: { phase: 'Running' },
      members: [member('Succeeded', 'n'), member('Succeeded', 'n')],
    }).phase,
    'Completed',
  );
  const f = computePodGroupStatus({
    ...base,
    previous: { phase: 'Running' },
    members: [member('Failed', 'n'), member('Running', 'n')],
  });
  assert.equal(f.failed, 1);
});

test('condition times are kept while the status holds; sameStatus ignores times', () => {
  const u = { reason: 'NotEnoughResources', message: 'x' };
  const a = computePodGroupStatus({
    ...base,
    previous: { phase: 'Inqueue' },
    members: [member('Pending')],
    unschedulable: u,
    now: 'T1',
  });
  const b = computePodGroupStatus({ ...base, previous: a, members: [member('Pending')], unschedulable: u, now: 'T2' });
  assert.equal(b.conditions?.[0].lastTransitionTime, 'T1');
  assert.equal(sameStatus(a, b), true);
  assert.equal(sameStatus(a, { ...b, phase: 'Running' }), false);
});
