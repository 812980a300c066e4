// `kthena download` as the ModelBooster's init container runs it: a child process with the source and the cache
// directory as flags and the hub's address and credentials in the environment, against a fake hub on loopback.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startFakeHub } from '../../src/downloader/testing/fake-hub.js';
import { runCommand } from '../helpers/run.js';

const dir = mkdtempSync(join(tmpdir(), 'kthena-cli-download-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const kthena = (args: string[], env: Record<string, string> = {}) =>
  runCommand('env', [
    ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
    process.execPath,
    '--import',
    'tsx',
    'src/cli/main.ts',
    ...args,
  ]);

test('kthena download: files into --output-dir, then nothing to do; failures exit 1 with the reason on stderr', async () => {
  const hub = await startFakeHub({
    hf: { 'Qwen/Qwen2.5-0.5B-Instruct': { files: { 'config.json': '{}', 'model.safetensors': 'w' }, token: 'tok' } },
  });
  try {
    const out = join(dir, 'cache', 'abc123');
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: 'tok' };
    const args = ['download', '--source', 'hf://Qwen/Qwen2.5-0.5B-Instruct', '--output-dir', out];
    const first = await kthena(args, env);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(first.stdout, `downloaded hf://Qwen/Qwen2.5-0.5B-Instruct to ${out} (2 files, 3 bytes)\n`);
    assert.match(first.stderr, /fetched model\.safetensors/);
    assert.equal(readFileSync(join(out, 'model.safetensors'), 'utf8'), 'w');
    const second = await kthena([...args, '-q'], env);
    assert.equal(second.status, 0, second.stderr);
    assert.match(
      second.stdout,
      /already holds hf:\/\/Qwen\/Qwen2\.5-0\.5B-Instruct \(2 files, 3 bytes\): nothing to do/,
    );
    assert.equal(second.stderr, '');
    const denied = await kthena(
      ['download', '--source', 'hf://Qwen/Qwen2.5-0.5B-Instruct', '--output-dir', join(dir, 'x')],
      { HF_ENDPOINT: hub.url },
    );
    assert.equal(denied.status, 1);
    assert.equal(denied.stdout, '');
    assert.match(
      denied.stderr,
      /^kthena: hf:\/\/Qwen\/Qwen2\.5-0\.5B-Instruct \(revision main\) at http:\/\/127\.0\.0\.1:\d+: HTTP 401/m,
    );
  } finally {
    await hub.close();
  }
});

test('kthena download: malformed flags name the flag', async () => {
  const cases: [string[], RegExp][] = [
    [['download', '--source', 'hf://a/b'], /required option '--output-dir <dir>' not specified/],
    [
      ['download', '--source', 'hf://a/b', '--output-dir', dir, '--max-workers', '0'],
      /--max-workers must be between 1 and 64/,
    ],
    [
      ['download', '--source', 'gs://bucket/x', '--output-dir', join(dir, 'y')],
      /--source gs:\/\/bucket\/x: unsupported scheme "gs:\/\/"/,
    ],
  ];
  for (const [args, re] of cases) {
    const r = await kthena(args);
    assert.notEqual(r.status, 0, args.join(' '));
    assert.match(r.stderr, re, args.join(' '));
    assert.equal(r.stdout, '');
  }
});
