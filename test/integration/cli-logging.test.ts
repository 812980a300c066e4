// The process-log flags on real CLI processes: JSON lines that parse, level filtering, pretty lines for people, and a
// bad value that stops the command with a message naming the flag.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runCommand } from '../helpers/run.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts'];
const dir = mkdtempSync(join(tmpdir(), 'kthena-logging-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** Starts the CLI, waits for `ready` on stdout, stops it with SIGTERM and returns what it wrote. */
async function runUntilReady(
  args: string[],
  ready: RegExp,
): Promise<{ stdout: string; stderr: string; code: number | null }> {
  const env = { ...process.env };
  delete env.LOG_LEVEL; // the flags under test decide, not the test runner's environment
  delete env.LOG_FORMAT;
  const child = spawn(process.execPath, [...CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    const check = () => {
      if (ready.test(stdout)) resolve();
    };
    child.stdout.on('data', check);
    void exited.then((code) => reject(new Error(`exited ${code} before ready: ${stdout}${stderr}`)));
  });
  child.kill('SIGTERM');
  const code = await exited;
  return { stdout, stderr, code };
}

const lines = (s: string) => s.split('\n').filter((l) => l.trim() !== '');

const routerArgs = [
  'router',
  '--config-dir',
  dir,
  '--host',
  '127.0.0.1',
  '--port',
  '0',
  '--metrics-port',
  '0',
  '--debug-port',
  '-1',
];

// Starting the CLI through tsx compiles every subcommand; on a loaded machine that takes tens of seconds.
test('router --log-format json: every stderr line is a JSON log record; --log-level warn drops info', {
  timeout: 300_000,
}, async () => {
  const info = await runUntilReady([...routerArgs, '--log-format', 'json', '--log-level', 'info'], /serving on/);
  assert.equal(info.code, 0, info.stderr);
  const records = lines(info.stderr).map((l) => JSON.parse(l) as { level: number; msg: string; name?: string });
  assert.ok(
    records.some((r) => r.msg === 'router listening' && r.level === 30 && r.name === 'kthena-router'),
    info.stderr,
  );
  assert.ok(
    records.some((r) => /stopping/.test(r.msg)),
    'the signal is logged as a record too',
  );

  const warn = await runUntilReady([...routerArgs, '--log-format', 'json', '--log-level', 'warn'], /serving on/);
  for (const r of lines(warn.stderr).map((l) => JSON.parse(l) as { level: number }))
    assert.ok(r.level >= 40, warn.stderr);
  assert.doesNotMatch(warn.stderr, /router listening/);
});

test('router --log-format pretty: readable lines, not JSON', { timeout: 300_000 }, async () => {
  const r = await runUntilReady([...routerArgs, '--log-format', 'pretty'], /serving on/);
  const line = lines(r.stderr).find((l) => l.includes('router listening'));
  assert.ok(line, r.stderr);
  assert.match(line, /INFO/);
  assert.throws(() => JSON.parse(line));
});

test('engine-sim: its warnings are JSON records, and --log-level error silences them', {
  timeout: 300_000,
}, async () => {
  const args = ['engine-sim', '--host', '127.0.0.1', '--port', '0', '--log-format', 'json', '--some-vllm-flag'];
  const shown = await runUntilReady([...args, '--log-level', 'warn'], /engine-sim listening/);
  const rec = lines(shown.stderr).map((l) => JSON.parse(l) as { level: number; msg: string; arguments?: string[] });
  assert.ok(
    rec.some(
      (r) => r.level === 40 && r.msg === 'ignoring unsupported arguments' && r.arguments?.includes('--some-vllm-flag'),
    ),
    shown.stderr,
  );
  const quiet = await runUntilReady([...args, '--log-level', 'error'], /engine-sim listening/);
  assert.equal(quiet.stderr, '');
});

test('a bad --log-format exits non-zero with the flag named on stderr, nothing on stdout', {
  timeout: 300_000,
}, async () => {
  const r = await runCommand(process.execPath, [...CLI, 'controller-manager', '--log-format', 'xml']);
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--log-format must be one of json, pretty/);
  assert.equal(r.stdout, '');
});
