import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startKubeletServer, tailText } from './kubelet-server.js';

const dir = mkdtempSync(join(tmpdir(), 'kubelet-logs-'));
after(() => rmSync(dir, { recursive: true, force: true }));
writeFileSync(join(dir, 'ns_p_app.previous.log'), 'old run\n');
writeFileSync(join(dir, 'ns_p_app.log'), 'a\nb\nc\n');
let running = true;
const info = {
  containers: ['app'],
  logPath: (c: string, previous: boolean) => join(dir, `ns_p_${c}${previous ? '.previous' : ''}.log`),
  restartCount: () => 1,
  isRunning: () => running,
};

test('serves container logs: current, previous, tailLines, limitBytes, errors', async () => {
  const srv = await startKubeletServer((ns, pod) => (ns === 'ns' && pod === 'p' ? info : undefined));
  try {
    const get = async (path: string) => {
      const r = await fetch(`http://127.0.0.1:${srv.port}${path}`);
      return [r.status, await r.text()] as const;
    };
    assert.deepEqual(await get('/containerLogs/ns/p/app'), [200, 'a\nb\nc\n']);
    assert.deepEqual(await get('/containerLogs/ns/p/app?previous=true'), [200, 'old run\n']);
    assert.deepEqual(await get('/containerLogs/ns/p/app?tailLines=2'), [200, 'b\nc\n']);
    assert.deepEqual(await get('/containerLogs/ns/p/app?limitBytes=3'), [200, 'a\nb']);
    assert.equal((await get('/containerLogs/ns/p/app?tailLines=x'))[0], 400);
    assert.equal((await get('/containerLogs/ns/nope/app'))[0], 404);
    assert.match((await get('/containerLogs/ns/p/other'))[1], /choose one of: \[app\]/);
    assert.equal((await get('/elsewhere'))[0], 404);
    assert.deepEqual(await get('/healthz'), [200, 'ok']);
  } finally {
    await srv.close();
  }
});

test('follow streams appended output until the container stops', async () => {
  const srv = await startKubeletServer(() => info, { pollMs: 20 });
  try {
    running = true;
    const r = await fetch(`http://127.0.0.1:${srv.port}/containerLogs/ns/p/app?follow=true&tailLines=0`);
    const reader = r.body!.getReader();
    appendFileSync(join(dir, 'ns_p_app.log'), 'd\n');
    const chunk = await reader.read();
    assert.equal(Buffer.from(chunk.value!).toString(), 'd\n');
    running = false;
    const end = await reader.read();
    assert.equal(end.done, true);
  } finally {
    await srv.close();
  }
});

test('tailText edge cases', () => {
  assert.equal(tailText('a\nb\n', 0), '');
  assert.equal(tailText('a\nb', 1), 'b');
  assert.equal(tailText('a\nb\n', 5), 'a\nb\n');
});
