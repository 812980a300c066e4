import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { isSameProcess, parseStartTime, parseState, reapRecorded, startProcessGuard } from './process-guard.js';
import { startProcess } from './process-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-guard-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const onLinux = existsSync('/proc/self/stat');

// Fields 3.. of a stat line; starttime (field 22) is the 20th of them.
const STAT = `4242 (node (a) b) S 1 4242 4242 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1000 10 ${'0 '.repeat(20)}`;

test('parseStartTime and parseState read past a command name with spaces and parentheses', () => {
  assert.equal(parseStartTime(STAT), '987654');
  assert.equal(parseState(STAT), 'S');
  assert.equal(parseStartTime('garbage'), undefined);
});

test('isSameProcess: only the same boot and start time, never a zombie or a recycled pid', () => {
  const rec = { pid: 4242, startTime: '987654', bootId: 'b1', label: 'x' };
  assert.equal(isSameProcess(rec, STAT, 'b1'), true);
  assert.equal(isSameProcess(rec, STAT, 'b2'), false, 'another boot');
  assert.equal(isSameProcess({ ...rec, startTime: '1' }, STAT, 'b1'), false, 'recycled pid');
  assert.equal(isSameProcess(rec, STAT.replace(') S ', ') Z '), 'b1'), false, 'zombie');
  assert.equal(isSameProcess(rec, undefined, 'b1'), false, 'gone');
});

const sleeper = (name: string, guard: Parameters<typeof startProcess>[0]['tracker']) =>
  startProcess({
    file: 'sh',
    args: ['-c', 'sleep 60 & sleep 60; wait'],
    env: { PATH: process.env.PATH ?? '' },
    cwd: dir,
    logPath: join(dir, `${name}.log`),
    tracker: guard,
    label: name,
  });

test('the watchdog ends tracked process groups when its pipe closes (the kubelet gone)', async () => {
  const recs = join(dir, 'w');
  const guard = await startProcessGuard(recs, 1);
  const p = sleeper('a', guard);
  const done = sleeper('b', guard);
  done.signal('SIGKILL');
  await done.exited;
  if (onLinux) assert.deepEqual(readdirSync(recs).length, 2, 'the watchdog and a');
  await guard.close();
  const e = await p.exited;
  assert.equal(e.signal, 'SIGTERM');
});

test('reapRecorded SIGKILLs recorded groups that still run, and leaves a recycled pid alone', {
  skip: !onLinux,
}, async () => {
  const recs = join(dir, 'r');
  const guard = await startProcessGuard(recs, 1);
  const p = sleeper('c', guard);
  const q = sleeper('d', guard);
  const pid = q.pid ?? 0;
  // Pretend q's record was written for an earlier process with the same pid.
  const rec = JSON.parse(readFileSync(join(recs, `${pid}.json`), 'utf8'));
  writeFileSync(join(recs, `${pid}.json`), JSON.stringify({ ...rec, startTime: '1' }));
  const reaped = await reapRecorded(recs);
  assert.ok(reaped.includes('c'));
  assert.ok(!reaped.includes('d'));
  assert.equal((await p.exited).signal, 'SIGKILL');
  assert.equal(q.running, true);
  assert.deepEqual(readdirSync(recs), [], 'records cleared');
  q.signal('SIGKILL');
  await q.exited;
  await guard.close();
});
