import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from '../testing/harness.js';

const chat = { model: 'm', messages: [{ role: 'user', content: 'hi' }] };
const srv = (labels: string) =>
  serverYaml(
    's',
    `  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: ${labels}}\n  workloadPort: {port: 8000}\n`,
  );

describe('config-dir source', () => {
  let a: FakeEngine;
  let b: FakeEngine;
  let h: Harness;
  before(async () => {
    a = await startFakeEngine('a');
    b = await startFakeEngine('b');
    h = await startHarness({
      'r.yaml': routeYaml('r', '  modelName: m\n  rules:\n  - targetModels: [{modelServerName: s}]\n'),
      's.yaml': srv('{app: s}'),
      'e.yaml': `${endpointYaml('a', a, { app: 's' })}---\n${endpointYaml('b', b, { app: 'other' })}`,
    });
  });
  after(async () => {
    await h.close();
    await a.close();
    await b.close();
  });

  test('a file change is picked up by the watcher without an explicit reload', async () => {
    const v0 = h.router.store.version;
    await h.write('r2.yaml', routeYaml('r2', '  modelName: m2\n  rules:\n  - targetModels: [{modelServerName: s}]\n'));
    for (let i = 0; i < 300 && h.router.store.version === v0; i++) await new Promise((r) => setTimeout(r, 10));
    assert.ok(h.router.store.view.routesByModel.has('m2'));
  });

  test('an invalid file is rejected with its errors and the last good configuration keeps serving', async () => {
    await h.write(
      'broken.yaml',
      'apiVersion: networking.serving.volcano.sh/v1alpha1\nkind: ModelRoute\nmetadata: {name: x}\nspec: {}\n',
    );
    const r = await h.router.files!.reload();
    assert.equal(r.ok, false);
    assert.match(r.errors.join('\n'), /broken\.yaml#0 ModelRoute default\/x: spec/);
    assert.equal((await h.post('/v1/chat/completions', chat)).status, 200);
    assert.ok((await metricSum(h.router, 'kthena_router_config_reloads_total', { result: 'rejected' })) >= 1);
    await h.write('broken.yaml', '');
    assert.equal((await h.router.files!.reload()).ok, true);
  });

  test('hot reload under load: endpoints move between engines with zero failed requests', async () => {
    a.fallback = { kind: 'ok', chunks: 5, chunkDelayMs: 5 };
    b.fallback = { kind: 'ok', chunks: 5, chunkDelayMs: 5 };
    let stop = false;
    const statuses: number[] = [];
    const worker = async () => {
      while (!stop) statuses.push((await h.post('/v1/chat/completions', { ...chat, stream: true })).status);
    };
    const load = Promise.all([worker(), worker(), worker(), worker()]);
    const layouts = ['{app: s}', '{app: other}', '{app: s}', '{app: other}', '{app: s}'];
    try {
      for (const sel of layouts) {
        await h.write('s.yaml', srv(sel));
        await h.reload();
        const seen = new Set((h.router.store.view.endpointsByServer.get('default/s') ?? []).map((e) => e.state.name));
        assert.deepEqual([...seen], [sel === '{app: s}' ? 'a' : 'b'], 'routing follows within one sync');
        await new Promise((r) => setTimeout(r, 60));
      }
    } finally {
      stop = true;
      await load;
    }
    assert.ok(statuses.length > 10, `enough load (${statuses.length} requests)`);
    assert.deepEqual(
      statuses.filter((s) => s !== 200),
      [],
    );
    assert.ok(a.received.length > 0 && b.received.length > 0, 'both engines served during the run');
    a.fallback = { kind: 'ok' };
    b.fallback = { kind: 'ok' };
  });
});
