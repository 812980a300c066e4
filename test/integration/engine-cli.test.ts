// `kthena engine-sim` as a process: --port 0 prints the bound ports; replicas serve; bad flags fail clearly.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { test } from 'node:test';

const CLI = ['--import', 'tsx', 'src/cli/main.ts', 'engine-sim'];

test('--port 0 --replicas 2 prints two bound ports that serve the OpenAI API', async () => {
  const child = spawn(
    process.execPath,
    [
      ...CLI,
      '--port',
      '0',
      '--host',
      '127.0.0.1',
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
      const timer = setTimeout(() => reject(new Error(`no ports printed: ${out}`)), 30_000);
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

test('bad flags fail with a message', () => {
  for (const args of [
    ['--speedup', '0'],
    ['--profile', 'nope'],
    ['--max-num-seqs', 'many'],
    ['--engine', 'trt'],
  ]) {
    const r = spawnSync(process.execPath, [...CLI, '--port', '0', ...args], { encoding: 'utf8', timeout: 30_000 });
    assert.notEqual(r.status, 0, args.join(' '));
    assert.ok(r.stderr.length > 0);
  }
});
