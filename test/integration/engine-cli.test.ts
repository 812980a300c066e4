// `kthena engine-sim` as a process: --port 0 prints the bound ports; replicas serve; bad flags fail clearly.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';
import { Command } from 'commander';
import { register } from '../../src/cli/engine-sim.js';

const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'engine-sim'];

// Starting the CLI through tsx compiles every subcommand; on a loaded machine that takes tens of seconds.
test('--port 0 --replicas 2 prints two bound ports that serve the OpenAI API; loopback and no admin by default', {
  timeout: 240_000,
}, async () => {
  const child = spawn(
    process.execPath,
    [
      ...CLI,
      '--port',
      '0',
      '--replicas',
      '2',
      '--model',
      'cli-model',
      '--speedup',
      '10',
      '--block-size',
      '32',
      '--max-num-seqs',
      '64',
    ],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  try {
    let out = '';
    child.stdout.setEncoding('utf8');
    const ports: number[] = [];
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no ports printed: ${out}`)), 200_000);
      child.stdout.on('data', (d: string) => {
        out += d;
        const found = [...out.matchAll(/port=(\d+)/g)].map((m) => Number(m[1]));
        if (found.length >= 2) {
          ports.push(...found);
          clearTimeout(timer);
          resolve();
        }
      });
      child.once('exit', (code) => reject(new Error(`exited ${code}: ${out}`)));
    });
    assert.notEqual(ports[0], ports[1]);
    // No --host: loopback only; no --enable-admin: fault injection answers 404 saying how to turn it on.
    assert.match(out, /listening on http:\/\/127\.0\.0\.1:/);
    const admin = await fetch(`http://127.0.0.1:${ports[0]}/admin/faults`, { method: 'POST', body: '{"mode":"hang"}' });
    assert.equal(admin.status, 404);
    assert.match(((await admin.json()) as { error: { message: string } }).error.message, /--enable-admin/);
    assert.match(out, /blocks=\d+x32/);
    for (const port of ports) {
      const r = await fetch(`http://127.0.0.1:${port}/v1/completions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'cli-model', prompt: 'hello', max_tokens: 2 }),
      });
      assert.equal(r.status, 200);
    }
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
});

test('bad flags fail with a message naming the flag', async () => {
  for (const args of [
    ['--speedup', '0'],
    ['--profile', 'nope'],
    ['--max-num-seqs', 'many'],
    ['--engine', 'trt'],
    ['--kv-events-config', '{'],
    ['--lora-modules', 'broken'],
  ]) {
    const program = new Command().exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    register(program);
    await assert.rejects(
      program.parseAsync(['node', 'kthena', 'engine-sim', '--port', '0', ...args]),
      (err: Error) =>
        err.message.includes(args[0].replace(/^--/, '')) || /Allowed choices|config|lora/.test(err.message),
      args.join(' '),
    );
  }
});
