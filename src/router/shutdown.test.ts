import assert from 'node:assert/strict';
import { test } from 'node:test';
import { request } from 'undici';
import { startFakeEngine } from './testing/fake-engine.js';
import { endpointYaml, routeYaml, serverYaml, startHarness } from './testing/harness.js';

const files = (port: { port: number }) => ({
  'r.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
  's.yaml': serverYaml(
    's',
    '  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s}}\n  workloadPort: {port: 8000}\n',
  ),
  'e.yaml': endpointYaml('a', port, { app: 's' }),
});
const streamBody = JSON.stringify({ model: 'm', stream: true, messages: [{ role: 'user', content: 'x' }] });

test('graceful shutdown: in-flight streams finish, readiness drops, new connections are refused', async () => {
  const eng = await startFakeEngine('a');
  eng.fallback = { kind: 'ok', chunks: 20, chunkDelayMs: 15 };
  const h = await startHarness(files(eng), { drainTimeoutMs: 30_000 });
  const url = h.router.url;
  const res = await request(`${url}/v1/chat/completions`, { method: 'POST', body: streamBody });
  const it = res.body[Symbol.asyncIterator]();
  let text = Buffer.from((await it.next()).value as Buffer).toString();
  const closing = h.router.close();
  assert.equal(h.router.isReady(), true, 'sources are still synced');
  const rz = await request(`${url}/readyz`).then(
    async (r) => {
      await r.body.dump();
      return r.statusCode;
    },
    () => 'refused',
  );
  assert.ok(rz === 503 || rz === 'refused', `readyz during drain: ${rz}`);
  for (let r = await it.next(); !r.done; r = await it.next()) text += Buffer.from(r.value as Buffer).toString();
  assert.match(text, /data: \[DONE\]/, 'the in-flight stream completed');
  await closing;
  await assert.rejects(request(`${url}/healthz`), 'listener closed');
  await h.close();
  await eng.close();
});

test('drain timeout: streams still running when it expires are cut', async () => {
  const eng = await startFakeEngine('a');
  eng.fallback = { kind: 'ok', chunks: 10_000, chunkDelayMs: 10 };
  const h = await startHarness(files(eng), { drainTimeoutMs: 200 });
  const res = await request(`${h.router.url}/v1/chat/completions`, { method: 'POST', body: streamBody });
  const done = res.body.text().then(
    () => 'completed',
    () => 'cut',
  );
  await h.router.close();
  assert.equal(await done, 'cut');
  for (let i = 0; i < 200 && eng.active() > 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(eng.active(), 0, 'the engine request was aborted too');
  await h.close();
  await eng.close();
});
