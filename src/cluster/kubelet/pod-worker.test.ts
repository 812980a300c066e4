import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import { type PodEvent, PodWorker } from './pod-worker.js';
import { ManualTimers } from './test-timers.js';

const root = mkdtempSync(join(tmpdir(), 'kubelet-worker-'));
after(() => rmSync(root, { recursive: true, force: true }));

let n = 0;
function harness(spec: Pod['spec']) {
  const timers = new ManualTimers();
  const statuses: PodStatus[] = [];
  const events: PodEvent[] = [];
  const podDir = join(root, `pod-${++n}`);
  const pod: Pod = {
    metadata: { name: `p${n}`, namespace: 'ns', uid: `uid-${n}` },
    spec,
    status: { phase: 'Pending' },
  };
  const worker = new PodWorker(pod, {
    timers,
    podIP: '127.0.0.1',
    hostIP: '127.0.0.1',
    podDir,
    logPath: (c: string, previous: boolean) => join(podDir, `${c}${previous ? '.previous' : ''}.log`),
    simulateEngines: true,
    cli: () => ({ file: process.execPath, prefix: [] }),
    envSources: { getConfigMap: async () => undefined, getSecret: async () => undefined },
    baseEnv: { PATH: process.env.PATH ?? '' },
    gpus: { app: [0, 1] },
    onStatus: (s) => statuses.push(s),
    onEvent: (e) => events.push(e),
  });
  const last = () => statuses[statuses.length - 1];
  const app = () => last()?.containerStatuses?.[0];
  return { timers, statuses, events, worker, last, app, podDir };
}

/** Waits (in real time, generously) for the worker to reach a state that depends on real processes. */
async function until(what: string, cond: () => boolean | undefined, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('runs the command with downward-API env and GPU devices; becomes Ready without probes; logs to a file', async () => {
  const h = harness({
    restartPolicy: 'Always',
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', 'echo "$MY_POD $NVIDIA_VISIBLE_DEVICES $(ARG)"; exec sleep 30'],
        env: [
          { name: 'MY_POD', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
          { name: 'ARG', value: 'x' },
        ],
      },
    ],
  });
  h.worker.start();
  assert.equal(h.statuses[0].phase, 'Pending');
  assert.equal(h.statuses[0].containerStatuses?.[0].state?.waiting?.reason, 'ContainerCreating');
  await until('ready', () => h.app()?.ready);
  assert.equal(h.last().phase, 'Running');
  assert.equal(h.last().podIP, '127.0.0.1');
  assert.match(h.app()?.containerID ?? '', /^local:\/\/\d+$/);
  assert.equal(h.last().conditions?.find((c) => c.type === 'Ready')?.status, 'True');
  await until('log line', () => readFileSync(join(h.podDir, 'app.log'), 'utf8').length > 0);
  assert.equal(readFileSync(join(h.podDir, 'app.log'), 'utf8'), `p${n} 0,1 x\n`);
  assert.deepEqual(
    h.events.map((e) => e.reason),
    ['Pulled', 'Created', 'Started'],
  );
  assert.equal(h.events[0].fieldPath, 'spec.containers{app}');
  await h.worker.terminate(5);
  assert.equal(h.app()?.state?.terminated?.exitCode, 143);
  assert.equal(h.app()?.ready, false);
});

test('exit 1 under Always: immediate first restart, then CrashLoopBackOff with 10 s, 20 s back-off', async () => {
  const h = harness({
    restartPolicy: 'Always',
    containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'exit 1'] }],
  });
  h.worker.start();
  await until('first back-off', () => h.app()?.state?.waiting?.reason === 'CrashLoopBackOff');
  assert.equal(h.app()?.restartCount, 1);
  assert.equal(h.app()?.lastState?.terminated?.exitCode, 1);
  assert.equal(h.app()?.lastState?.terminated?.reason, 'Error');
  assert.equal(h.last().phase, 'Running');
  assert.deepEqual(h.timers.delays(), [10_000]);
  assert.match(h.app()?.state?.waiting?.message ?? '', /back-off 10s restarting failed container=app/);
  h.timers.advance(10_000);
  await until(
    'second back-off',
    () => h.app()?.state?.waiting?.reason === 'CrashLoopBackOff' && h.app()?.restartCount === 2,
  );
  assert.deepEqual(h.timers.delays(), [20_000]);
  assert.ok(h.events.some((e) => e.reason === 'BackOff' && e.type === 'Warning'));
  await h.worker.terminate(1);
  assert.deepEqual(h.timers.delays(), [], 'no restart after termination');
});

test('restartPolicy Never: exit 0 → Succeeded; OnFailure exit 2 restarts', async () => {
  const ok = harness({ restartPolicy: 'Never', containers: [{ name: 'app', image: 'busybox', command: ['true'] }] });
  ok.worker.start();
  await until('succeeded', () => ok.last().phase === 'Succeeded');
  assert.equal(ok.last().conditions?.find((c) => c.type === 'Ready')?.reason, 'PodCompleted');
  assert.equal(ok.app()?.state?.terminated?.reason, 'Completed');
  const bad = harness({
    restartPolicy: 'OnFailure',
    containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'exit 2'] }],
  });
  bad.worker.start();
  await until('restart', () => bad.app()?.restartCount === 1);
  await bad.worker.terminate(1);
});

test('init containers run first and in order; the pod initialises then runs', async () => {
  const h = harness({
    restartPolicy: 'Always',
    initContainers: [
      { name: 'one', image: 'busybox', command: ['sh', '-c', 'echo 1 > ../../order'] },
      { name: 'two', image: 'busybox', command: ['sh', '-c', 'echo 2 >> ../../order'] },
    ],
    containers: [{ name: 'app', image: 'busybox', command: ['sh', '-c', 'cat ../../order; exec sleep 30'] }],
  });
  h.worker.start();
  assert.equal(h.statuses[0].conditions?.find((c) => c.type === 'Initialized')?.status, 'False');
  await until('ready', () => h.app()?.ready);
  assert.equal(h.last().conditions?.find((c) => c.type === 'Initialized')?.status, 'True');
  assert.equal(
    h
      .last()
      .initContainerStatuses?.map((s) => s.state?.terminated?.exitCode)
      .join(),
    '0,0',
  );
  await until('log', () => readFileSync(join(h.podDir, 'app.log'), 'utf8').includes('2'));
  assert.equal(readFileSync(join(h.podDir, 'app.log'), 'utf8'), '1\n2\n');
  await h.worker.terminate(1);
});

test('an image we cannot run waits with ImageNotRunnable and a reason', () => {
  const h = harness({ containers: [{ name: 'app', image: 'redis:7' }] });
  h.worker.start();
  return until('waiting', () => h.app()?.state?.waiting?.reason === 'ImageNotRunnable').then(() => {
    assert.match(h.app()?.state?.waiting?.message ?? '', /has no local equivalent/);
    assert.ok(h.events.some((e) => e.type === 'Warning' && e.reason === 'Failed'));
    assert.equal(h.last().phase, 'Pending');
  });
});

test('readiness follows the probe; liveness failures restart the container', async () => {
  const h = harness({
    restartPolicy: 'Always',
    containers: [
      {
        name: 'app',
        image: 'busybox',
        command: ['sh', '-c', 'exec sleep 30'],
        readinessProbe: { exec: { command: ['sh', '-c', 'test -f ready'] }, periodSeconds: 5, failureThreshold: 1 },
        livenessProbe: { exec: { command: ['sh', '-c', 'test ! -f dead'] }, periodSeconds: 5, failureThreshold: 2 },
      },
    ],
  });
  h.worker.start();
  await until('running', () => !!h.app()?.state?.running);
  assert.equal(h.app()?.ready, false);
  const cwd = join(h.podDir, 'app', 'root');
  const { writeFileSync } = await import('node:fs');
  writeFileSync(join(cwd, 'ready'), '');
  h.timers.advance(0);
  await until('ready', () => h.app()?.ready);
  const bothArmed = () => h.timers.delays().join() === '5000,5000';
  await until('both probes re-armed', bothArmed);
  writeFileSync(join(cwd, 'dead'), '');
  h.timers.advance(5000);
  await until('first liveness failure', () =>
    h.events.some((e) => e.reason === 'Unhealthy' && e.message.startsWith('Liveness')),
  );
  await until('both probes re-armed', bothArmed);
  h.timers.advance(5000);
  await until('killed and restarted', () => h.app()?.restartCount === 1);
  assert.ok(h.events.some((e) => e.reason === 'Killing' && /failed liveness probe/.test(e.message)));
  assert.equal(h.app()?.lastState?.terminated?.exitCode, 143);
  await h.worker.terminate(1);
});

test("a simulator is not restarted by liveness failures before it first answers (the dropped initial delay's grace)", async () => {
  const probe = (initialDelaySeconds: number) => ({
    exec: { command: ['sh', '-c', 'test -f alive'] },
    initialDelaySeconds,
    periodSeconds: 1,
    failureThreshold: 1,
  });
  // nginx is a simulated stand-in: its probes run without their initial delays
  const h = harness({
    restartPolicy: 'Always',
    containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 18089 }], livenessProbe: probe(180) }],
  });
  h.worker.start();
  await until('running', () => !!h.app()?.state?.running);
  for (let i = 0; i < 5; i++) {
    h.timers.advance(1000);
    await until('probe re-armed', () => h.timers.delays().length > 0);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(h.app()?.restartCount ?? 0, 0);
  assert.ok(!h.events.some((e) => e.reason === 'Killing'));
  await h.worker.terminate(1);
  // without an initial delay there is no grace to keep: the first failure restarts it
  const g = harness({
    restartPolicy: 'Always',
    containers: [{ name: 'app', image: 'nginx:1.27', ports: [{ containerPort: 18090 }], livenessProbe: probe(0) }],
  });
  g.worker.start();
  await until('running', () => !!g.app()?.state?.running);
  g.timers.advance(1000);
  await until('killed', () => g.events.some((e) => e.reason === 'Killing'));
  await g.worker.terminate(1);
});

test('termination: SIGTERM, then SIGKILL once the grace period is over', async () => {
  const h = harness({
    containers: [
      { name: 'app', image: 'busybox', command: ['sh', '-c', 'trap "" TERM; echo up; while true; do sleep 1; done'] },
    ],
  });
  h.worker.start();
  await until('running', () => !!h.app()?.state?.running);
  await until('trap installed', () => readFileSync(join(h.podDir, 'app.log'), 'utf8').includes('up'));
  const done = h.worker.terminate(3);
  await until('grace timer armed', () => h.timers.delays().includes(3000) || h.timers.delays().some((d) => d > 2000));
  h.timers.advance(3000);
  await done;
  assert.equal(h.app()?.state?.terminated?.exitCode, 137);
  assert.ok(h.events.some((e) => e.reason === 'Killing' && e.message === 'Stopping container app'));
});
