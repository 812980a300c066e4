import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { exitCodeOf, startProcess } from './process-runner.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-proc-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('runs a command with env and cwd, appending output to the log file', async () => {
  const log = join(dir, 'a', '0.log');
  const p = startProcess({
    file: 'sh',
    args: ['-c', 'echo "$GREETING from $(pwd)"; echo err >&2; exit 3'],
    env: { GREETING: 'hi', PATH: process.env.PATH ?? '' },
    cwd: join(dir, 'cwd'),
    logPath: log,
  });
  const e = await p.exited;
  assert.equal(exitCodeOf(e), 3);
  assert.equal(readFileSync(log, 'utf8'), `hi from ${join(dir, 'cwd')}\nerr\n`);
});

test('SIGTERM reaches the whole process group; exit code is 128+signal', async () => {
  const p = startProcess({
    file: 'sh',
    args: ['-c', 'sleep 30 & sleep 30; wait'],
    env: { PATH: process.env.PATH ?? '' },
    cwd: dir,
    logPath: join(dir, 'b.log'),
  });
  assert.equal(p.running, true);
  p.signal('SIGTERM');
  const e = await p.exited;
  assert.equal(e.signal, 'SIGTERM');
  assert.equal(exitCodeOf(e), 143);
  assert.equal(p.running, false);
  p.signal('SIGKILL'); // harmless after exit
});

test('a binary that cannot start reports an error instead of throwing', async () => {
  const p = startProcess({ file: '/no/such/binary', args: [], env: {}, cwd: dir, logPath: join(dir, 'c.log') });
  const e = await p.exited;
  assert.ok(e.error);
  assert.equal(exitCodeOf(e), 128);
});
