import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Command } from 'commander';
import { startApiServer } from '../cluster/apiserver/index.js';
import { enabledControllers } from '../controllers/manager.js';
import { register } from './controller-manager.js';

/** Parses in-process (a spawn per case costs seconds of tsx start-up on a loaded machine). */
async function parseError(args: readonly string[]): Promise<string> {
  let stderr = '';
  const program = new Command().exitOverride().configureOutput({ writeErr: (s) => (stderr += s), writeOut: () => {} });
  register(program);
  for (const c of program.commands) c.exitOverride().configureOutput({ writeErr: (s) => (stderr += s) });
  const prev = process.env.KUBECONFIG;
  delete process.env.KUBECONFIG;
  try {
    await program.parseAsync(['node', 'kthena', 'controller-manager', ...args]);
  } catch (err) {
    return `${stderr}${(err as Error).message}`;
  } finally {
    if (prev !== undefined) process.env.KUBECONFIG = prev;
  }
  throw new Error(`accepted: ${args.join(' ')}`);
}

test('controller-manager rejects malformed flags with a clear message', async () => {
  for (const [args, msg] of [
    [['--workers', 'many'], /--workers must be an integer/],
    [['--workers', '0'], /--workers must be between 1 and 256/],
    [['--controllers', 'nope'], /unknown controller "nope" \(known: modelserving, modelbooster, autoscaler\)/],
    [['--controllers', 'modelbooster,-modelbooster2'], /unknown controller "modelbooster2"/],
    [['--local-webhooks', 'maybe'], /--local-webhooks must be auto, on or off/],
    [['--port', '70000'], /--port must be between/],
    [['--lease-duration', '-1'], /--lease-duration must be seconds/],
    [['--kubeconfig', '/nonexistent/kubeconfig'], /kubeconfig .* does not exist/],
    [['--lease-duration', '5', '--renew-deadline', '10'], /--renew-deadline must be shorter/],
    // Without TLS files the certificates are self-managed (a Secret): that needs a cluster to talk to.
    [['--enable-webhook'], /not running in a cluster/],
    [['--enable-webhook', '--tls-cert-file', '/nope.crt'], /--tls-cert-file and --tls-private-key-file go together/],
    [
      ['--enable-webhook', '--tls-cert-file', '/nope.crt', '--tls-private-key-file', '/nope.key'],
      /--tls-cert-file \/nope.crt: no such file/,
    ],
  ] as const) {
    assert.match(await parseError(args), msg, args.join(' '));
  }
});

test('--controllers selects modelserving, modelbooster and autoscaler like upstream (all by default)', () => {
  assert.deepEqual(enabledControllers(undefined), ['modelserving', 'modelbooster', 'autoscaler']);
  assert.deepEqual(enabledControllers('modelbooster'), ['modelbooster']);
  assert.deepEqual(enabledControllers('*,-modelserving'), ['modelbooster', 'autoscaler']);
  assert.deepEqual(enabledControllers('autoscaler,modelserving'), ['modelserving', 'autoscaler']);
  assert.deepEqual(enabledControllers('+modelserving'), ['modelserving']);
});

test('controller-manager serves health against a kubeconfig and stops cleanly on SIGTERM', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'kthena-cm-'));
  const kubeconfigPath = join(dir, 'kubeconfig');
  const api = await startApiServer({ port: 0, kubeconfigPath });
  try {
    const child = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        'src/cli/main.ts',
        'controller-manager',
        '--kubeconfig',
        kubeconfigPath,
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--log-level',
        'warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const url = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        const m = /at (http:\/\/\S+)/.exec(out);
        if (m) resolve(m[1]);
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${err}`)));
    });
    const health = await fetch(`${url}/healthz`);
    assert.equal(health.status, 200);
    assert.equal(await health.text(), 'ok\n');
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    assert.equal(await exited, 0, err);
  } finally {
    await api.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
