import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerStatus, Pod } from 'kubernetes-types/core/v1.js';
import { BACKOFF_MAX_MS, computePodStatus, nextBackoffMs, podPhase, shouldRestart } from './pod-status.js';

const pod = (restartPolicy = 'Always', init: string[] = [], containers = ['app']): Pod => ({
  metadata: { name: 'p', namespace: 'd' },
  spec: {
    restartPolicy,
    initContainers: init.map((name) => ({ name, image: 'x' })),
    containers: containers.map((name) => ({ name, image: 'x' })),
  },
  status: { phase: 'Pending', conditions: [{ type: 'PodScheduled', status: 'True', lastTransitionTime: 't0' }] },
});
const waiting = (name: string, reason = 'ContainerCreating'): ContainerStatus => ({
  name,
  image: 'x',
  imageID: '',
  ready: false,
  restartCount: 0,
  started: false,
  state: { waiting: { reason } },
});
const running = (name: string, ready = true): ContainerStatus => ({
  name,
  image: 'x',
  imageID: '',
  ready,
  restartCount: 0,
  started: true,
  state: { running: { startedAt: 't1' } },
});
const exited = (name: string, exitCode: number): ContainerStatus => ({
  name,
  image: 'x',
  imageID: '',
  ready: false,
  restartCount: 0,
  started: false,
  state: { terminated: { exitCode, reason: exitCode === 0 ? 'Completed' : 'Error' } },
});

test('phase: Pending while creating or initialising, Running once started', () => {
  assert.equal(podPhase(pod(), [], [waiting('app')]), 'Pending');
  assert.equal(
    podPhase(pod('Always', ['i']), [waiting('i', 'PodInitializing')], [waiting('app', 'PodInitializing')]),
    'Pending',
  );
  assert.equal(podPhase(pod('Always', ['i']), [exited('i', 0)], [running('app')]), 'Running');
  assert.equal(podPhase(pod('Never', ['i']), [exited('i', 1)], [waiting('app')]), 'Failed');
  assert.equal(podPhase(pod('Always', ['i']), [exited('i', 1)], [waiting('app')]), 'Pending');
});

test('phase after exits follows the restart policy', () => {
  assert.equal(podPhase(pod('Never'), [], [exited('app', 0)]), 'Succeeded');
  assert.equal(podPhase(pod('Never'), [], [exited('app', 2)]), 'Failed');
  assert.equal(podPhase(pod('OnFailure'), [], [exited('app', 0)]), 'Succeeded');
  assert.equal(podPhase(pod('OnFailure'), [], [exited('app', 1)]), 'Running');
  assert.equal(podPhase(pod('Always'), [], [exited('app', 0)]), 'Running');
  const crashLoop: ContainerStatus = {
    ...waiting('app', 'CrashLoopBackOff'),
    restartCount: 1,
    lastState: { terminated: { exitCode: 1, reason: 'Error' } },
  };
  assert.equal(podPhase(pod('Always'), [], [crashLoop]), 'Running');
  assert.equal(podPhase(pod('Never', [], ['a', 'b']), [], [exited('a', 0), running('b')]), 'Running');
  assert.equal(podPhase(pod('Never', [], ['a', 'b']), [], [exited('a', 0), exited('b', 1)]), 'Failed');
});

test('conditions while starting: Ready False with ContainersNotReady, PodScheduled kept', () => {
  const s = computePodStatus({
    pod: pod(),
    initStatuses: [],
    containerStatuses: [waiting('app')],
    sandboxReady: true,
    podIP: '127.1.0.2',
    hostIP: '127.0.0.1',
    startTime: 't0',
    now: 'T',
  });
  assert.equal(s.phase, 'Pending');
  assert.equal(s.podIP, '127.1.0.2');
  assert.deepEqual(s.podIPs, [{ ip: '127.1.0.2' }]);
  const byType = Object.fromEntries((s.conditions ?? []).map((c) => [c.type, c]));
  assert.deepEqual(
    (s.conditions ?? []).map((c) => c.type),
    ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled'],
  );
  assert.equal(byType.Ready.status, 'False');
  assert.equal(byType.Ready.reason, 'ContainersNotReady');
  assert.equal(byType.Ready.message, 'containers with unready status: [app]');
  assert.equal(byType.PodScheduled.lastTransitionTime, 't0');
  assert.equal(byType.Ready.lastProbeTime, null);
});

test('ready pod; lastTransitionTime only changes when a condition flips', () => {
  const p = pod();
  const first = computePodStatus({
    pod: p,
    initStatuses: [],
    containerStatuses: [running('app', false)],
    sandboxReady: true,
    now: 'T1',
  });
  const second = computePodStatus({
    pod: { ...p, status: first },
    initStatuses: [],
    containerStatuses: [running('app', true)],
    sandboxReady: true,
    now: 'T2',
  });
  const get = (s: typeof first, t: string) => s.conditions?.find((c) => c.type === t);
  assert.equal(second.phase, 'Running');
  assert.equal(get(second, 'Ready')?.status, 'True');
  assert.equal(get(second, 'Ready')?.lastTransitionTime, 'T2');
  assert.equal(get(second, 'Initialized')?.lastTransitionTime, 'T1');
  assert.equal(get(second, 'PodReadyToStartContainers')?.lastTransitionTime, 'T1');
});

test('init containers: Initialized False with the incomplete ones listed', () => {
  const s = computePodStatus({
    pod: pod('Always', ['dl', 'x']),
    initStatuses: [exited('dl', 0), running('x', false)],
    containerStatuses: [waiting('app', 'PodInitializing')],
    sandboxReady: true,
    now: 'T',
  });
  const init = s.conditions?.find((c) => c.type === 'Initialized');
  assert.equal(init?.status, 'False');
  assert.equal(init?.message, 'containers with incomplete status: [x]');
  assert.equal(s.initContainerStatuses?.length, 2);
});

test('terminal pods: Ready False with PodCompleted / PodFailed, and the phase latches', () => {
  const done = computePodStatus({
    pod: pod('Never'),
    initStatuses: [],
    containerStatuses: [exited('app', 0)],
    sandboxReady: true,
    now: 'T',
  });
  assert.equal(done.phase, 'Succeeded');
  assert.equal(done.conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
  const failed = computePodStatus({
    pod: pod('Never'),
    initStatuses: [],
    containerStatuses: [exited('app', 3)],
    sandboxReady: true,
    now: 'T',
  });
  assert.equal(failed.conditions?.find((c) => c.type === 'ContainersReady')?.reason, 'PodFailed');
  const base = pod('Never');
  const p = { ...base, status: { ...base.status, phase: 'Failed' } };
  assert.equal(
    computePodStatus({ pod: p, initStatuses: [], containerStatuses: [waiting('app')], sandboxReady: true, now: 'T' })
      .phase,
    'Failed',
  );
});

test('back-off doubles from 10 s to 5 min and resets after 10 min of running', () => {
  let b = nextBackoffMs(undefined, 0);
  const seen = [b];
  for (let i = 0; i < 7; i++) {
    b = nextBackoffMs(b, 1000);
    seen.push(b);
  }
  assert.deepEqual(seen, [10_000, 20_000, 40_000, 80_000, 160_000, 300_000, 300_000, 300_000]);
  assert.equal(nextBackoffMs(BACKOFF_MAX_MS, 600_000), 10_000);
  assert.equal(shouldRestart('Always', 0), true);
  assert.equal(shouldRestart(undefined, 0), true);
  assert.equal(shouldRestart('OnFailure', 0), false);
  assert.equal(shouldRestart('OnFailure', 1), true);
  assert.equal(shouldRestart('Never', 1), false);
});
