import assert from 'node:assert/strict';
import { test } from 'node:test';
import { findExecutable, imageRepository, type LaunchOptions, localRuntimeArgs, planLaunch } from './launch-plan.js';

const opts: LaunchOptions = {
  podIP: '127.40.0.2',
  gpus: 1,
  simulateEngines: true,
  cli: () => ({ file: '/usr/bin/node', prefix: ['/k/dist/cli/main.js'] }),
};

test('image repository parsing strips registry, tag, digest and library/', () => {
  assert.equal(imageRepository('nginx'), 'nginx');
  assert.equal(imageRepository('docker.io/library/nginx:1.27'), 'nginx');
  assert.equal(imageRepository('ghcr.io/volcano-sh/runtime:latest'), 'volcano-sh/runtime');
  assert.equal(imageRepository('localhost:5000/kthena/kthena@sha256:abc'), 'kthena/kthena');
  assert.equal(imageRepository('vllm/vllm-openai:v0.10.0'), 'vllm/vllm-openai');
});

test('engines become engine-sim through our CLI; turning simulation off leaves the command', () => {
  const c = { name: 'e', image: 'vllm/vllm-openai', command: ['vllm', 'serve', 'm', '--port', '8001'] };
  const p = planLaunch(c, opts);
  assert.ok(p.kind === 'spawn');
  assert.equal(p.simulated, 'engine');
  assert.deepEqual(p.args.slice(0, 8), [
    '/k/dist/cli/main.js',
    'engine-sim',
    '--engine',
    'vllm',
    '--host',
    '127.40.0.2',
    '--port',
    '8001',
  ]);
  const off = planLaunch(c, { ...opts, simulateEngines: false, path: '/nonexistent' });
  assert.ok(off.kind === 'waiting' && off.reason === 'ImageNotRunnable');
  const tooBig = planLaunch({ name: 'e', image: 'x', command: ['vllm', 'serve', 'm', '-tp', '8'] }, opts);
  assert.ok(tooBig.kind === 'waiting' && tooBig.reason === 'CreateContainerConfigError');
  assert.match(tooBig.message, /vllm would not start: .*needs 8 GPUs/);
});

test('kthena images and commands run our CLI', () => {
  const a = planLaunch({ name: 'a', image: 'kthena/kthena:0.1', args: ['router', '--port', '8080'] }, opts);
  assert.ok(a.kind === 'spawn');
  // the router listens on the pod IP and its loopback-only debug server on an ephemeral port (kthena-args.ts)
  assert.deepEqual(a.args, [
    '/k/dist/cli/main.js',
    'router',
    '--port',
    '8080',
    '--host',
    '127.40.0.2',
    '--debug-port=0',
  ]);
  const b = planLaunch(
    { name: 'b', image: 'anything', command: ['kthena', 'engine-sim'], args: ['--port', '1'] },
    opts,
  );
  assert.ok(b.kind === 'spawn');
  assert.deepEqual(b.args, ['/k/dist/cli/main.js', 'engine-sim', '--port', '1', '--host', '127.40.0.2']);
  const c = planLaunch({ name: 'c', image: 'x', command: ['kthena', 'engine-sim', '--host=0.0.0.0'] }, opts);
  assert.ok(c.kind === 'spawn');
  assert.deepEqual(c.args, ['/k/dist/cli/main.js', 'engine-sim', '--host=0.0.0.0']);
});

test("runtime sidecars (ours and upstream's image) run `kthena runtime` on the pod IP, beside the pod's engine", () => {
  const args = ['--port', '8100', '--engine', 'vllm', '--engine-base-url', 'http://localhost:8000', '--model', 'm'];
  const up = planLaunch({ name: 'runtime', image: 'ghcr.io/volcano-sh/runtime:latest', args }, opts);
  assert.ok(up.kind === 'spawn');
  assert.deepEqual(up.args, [
    '/k/dist/cli/main.js',
    'runtime',
    '--port',
    '8100',
    '--engine',
    'vllm',
    '--engine-base-url',
    'http://127.40.0.2:8000',
    '--model',
    'm',
    '--host',
    '127.40.0.2',
  ]);
  const ours = planLaunch(
    { name: 'runtime', image: 'ghcr.io/kthena-ts/kthena:0.1.0', args: ['runtime', ...args] },
    opts,
  );
  assert.ok(ours.kind === 'spawn');
  assert.deepEqual(ours.args, up.args);
  assert.deepEqual(localRuntimeArgs(['--engine-base-url=http://127.0.0.1:9000/x', '--host', 'h'], '10.0.0.1'), [
    '--engine-base-url=http://10.0.0.1:9000/x',
    '--host',
    'h',
  ]);
  assert.deepEqual(localRuntimeArgs(['--engine-base-url', 'http://engine.svc:8000'], '10.0.0.1'), [
    '--engine-base-url',
    'http://engine.svc:8000',
    '--host',
    '10.0.0.1',
  ]);
});

test('the downloader (upstream image or `kthena download`) succeeds at once: no hub is reachable, engines need no weights', () => {
  const ours = planLaunch(
    {
      name: 'dl',
      image: 'ghcr.io/kthena-ts/kthena:0.1.0',
      args: ['download', '--source', 'hf://a/b', '--output-dir', '/m'],
    },
    opts,
  );
  assert.ok(ours.kind === 'spawn' && ours.simulated === 'stand-in' && ours.args[1].includes('exiting 0'));
});

test('helper images get stand-ins on the pod IP', () => {
  const dl = planLaunch({ name: 'dl', image: 'kthena/downloader:latest', args: ['--source', 'x'] }, opts);
  assert.ok(dl.kind === 'spawn' && dl.args[1].includes('exiting 0'));
  const ng = planLaunch({ name: 'n', image: 'nginx:1.27' }, opts);
  assert.ok(ng.kind === 'spawn' && ng.extraEnv?.KTHENA_STAND_IN_PORTS === '80');
  assert.equal(planLaunch({ name: 'p', image: 'registry.k8s.io/pause:3.10' }, opts).kind, 'spawn');
});

test('commands found on PATH run as they are; others are ImageNotRunnable with the reason', () => {
  const sh = planLaunch({ name: 's', image: 'busybox', command: ['sh', '-c', 'echo hi'] }, opts);
  assert.ok(sh.kind === 'spawn');
  assert.match(sh.file, /\/sh$/);
  assert.deepEqual(sh.args, ['-c', 'echo hi']);
  const missing = planLaunch({ name: 'm', image: 'acme/tool', command: ['no-such-binary-xyz'] }, opts);
  assert.ok(missing.kind === 'waiting' && missing.reason === 'ImageNotRunnable');
  assert.match(missing.message, /"no-such-binary-xyz" of image "acme\/tool" is not found/);
  const bare = planLaunch({ name: 'r', image: 'redis:7' }, opts);
  assert.ok(bare.kind === 'waiting' && bare.reason === 'ImageNotRunnable');
  assert.match(bare.message, /image "redis:7" has no local equivalent/);
  assert.equal(findExecutable('sh', '/nonexistent:/usr/bin:/bin')?.endsWith('/sh'), true);
  assert.equal(findExecutable('/definitely/not/here'), undefined);
});
