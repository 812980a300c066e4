import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { request } from 'undici';
import { type FakeEngine, startFakeEngine } from './testing/fake-engine.js';
import { endpointYaml, type Harness, metricSum, routeYaml, serverYaml, startHarness } from './testing/harness.js';

describe('router end to end over loopback', () => {
  let a: FakeEngine;
  let b: FakeEngine;
  let h: Harness;
  before(async () => {
    a = await startFakeEngine('a');
    b = await startFakeEngine('b');
    h = await startHarness({
      'route.yaml': routeYaml('r1', '  modelName: m1\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
      'server.yaml': serverYaml(
        's1',
        '  model: real/model\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
      ),
      'eps.yaml': `${endpointYaml('a', a, { app: 's1' })}---\n${endpointYaml('b', b, { app: 's1' })}`,
    });
  });
  after(async () => {
    await h.close();
    await a.close();
    await b.close();
  });

  test('health, readiness and the model list', async () => {
    const hz = await request(`${h.router.url}/healthz`);
    assert.equal(hz.statusCode, 200);
    assert.deepEqual(await hz.body.json(), { message: 'ok' });
    const rz = await request(`${h.router.url}/readyz`);
    assert.equal(rz.statusCode, 200);
    await rz.body.dump();
    const m = await request(`${h.router.url}/v1/models`);
    const list = (await m.body.json()) as any;
    assert.equal(list.object, 'list');
    assert.deepEqual(
      list.data.map((d: any) => d.id),
      ['m1'],
    );
  });

  test('non-streaming chat is proxied and the model is rewritten to ModelServer.spec.model', async () => {
    const before = a.received.length + b.received.length;
    const r = await h.post('/v1/chat/completions', { model: 'm1', messages: [{ role: 'user', content: 'hi' }] });
    assert.equal(r.status, 200);
    assert.equal(r.json.object, 'chat.completion');
    const got = [...a.received, ...b.received];
    assert.equal(got.length, before + 1);
    const last = got.sort((x, y) => (x === y ? 0 : 0)).find((x) => x.body?.model === 'real/model');
    assert.ok(last, 'engine saw the rewritten model');
    assert.equal(last.body.include_usage, undefined, 'no non-standard top-level include_usage');
  });

  test('streaming: bytes arrive, usage injected upstream and hidden from a client that did not ask', async () => {
    const [na, nb] = [a.received.length, b.received.length];
    const r = await h.post('/v1/chat/completions', {
      model: 'm1',
      stream: true,
      stream_options: { continuous_usage_stats: false },
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.equal(r.status, 200);
    assert.match(r.text, /data: \[DONE\]/);
    assert.doesNotMatch(r.text, /"usage"/);
    // Whichever engine the scheduler picked holds the one new request.
    const fresh = [...a.received.slice(na), ...b.received.slice(nb)];
    assert.equal(fresh.length, 1);
    const seen = fresh[0]!;
    assert.deepEqual(seen.body.stream_options, { continuous_usage_stats: false, include_usage: true });
  });

  test('streaming: a client that asked for usage gets the usage chunk', async () => {
    const r = await h.post('/v1/chat/completions', {
      model: 'm1',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'hi' }],
    });
    assert.match(r.text, /"usage":\{"prompt_tokens":5/);
  });

  test('errors: invalid JSON 400, unknown model 404, missing model or prompt 400 with param, wrong method 405, unknown path 404', async () => {
    const bad = await h.post('/v1/chat/completions', '{"model": ');
    assert.equal(bad.status, 400);
    assert.equal(bad.json.error.code, 'invalid_json');
    assert.equal(typeof bad.json.error.message, 'string');
    assert.equal(bad.json.error.type, 'invalid_request_error');
    const unk = await h.post('/v1/chat/completions', { model: 'nope', messages: [] });
    assert.equal(unk.status, 404);
    assert.equal(unk.json.error.code, 'route_not_found');
    const noModel = await h.post('/v1/chat/completions', { messages: [] });
    assert.equal(noModel.status, 400);
    assert.equal(noModel.json.error.code, 'model_not_found');
    assert.equal(noModel.json.error.param, 'model');
    const numModel = await h.post('/v1/chat/completions', { model: 7, messages: [] });
    assert.equal(numModel.status, 400);
    assert.equal(numModel.json.error.param, 'model');
    const noPrompt = await h.post('/v1/chat/completions', { model: 'm1' });
    assert.equal(noPrompt.status, 400);
    assert.equal(noPrompt.json.error.code, 'prompt_not_found');
    assert.equal(noPrompt.json.error.param, 'messages');
    const badMessages = await h.post('/v1/chat/completions', { model: 'm1', messages: 'hi' });
    assert.equal(badMessages.status, 400);
    assert.equal(badMessages.json.error.param, 'messages');
    const badOptions = await h.post('/v1/chat/completions', {
      model: 'm1',
      stream: true,
      stream_options: 'yes',
      messages: [{ role: 'user', content: 'x' }],
    });
    assert.equal(badOptions.status, 400);
    assert.equal(badOptions.json.error.param, 'stream_options');
    const noPromptCompletion = await h.post('/v1/completions', { model: 'm1' });
    assert.equal(noPromptCompletion.json.error.param, 'prompt');
    assert.equal(unk.json.error.param, null, 'param is null when no field is at fault');
    const one = await request(`${h.router.url}/v1/models/m1`);
    assert.equal(one.statusCode, 200);
    assert.deepEqual(await one.body.json(), { id: 'm1', object: 'model', created: 0, owned_by: 'kthena' });
    const none = await request(`${h.router.url}/v1/models/${encodeURIComponent('no/such')}`);
    assert.equal(none.statusCode, 404);
    assert.equal(((await none.body.json()) as any).error.code, 'model_not_found');
    const mangled = await request(`${h.router.url}/v1/models/%E0%A4%A`);
    assert.equal(mangled.statusCode, 400);
    await mangled.body.dump();
    const arr = await h.post('/v1/chat/completions', '[1,2]');
    assert.equal(arr.status, 400);
    const get = await request(`${h.router.url}/v1/chat/completions`);
    assert.equal(get.statusCode, 405);
    await get.body.dump();
    const nf = await request(`${h.router.url}/nope`);
    assert.equal(nf.statusCode, 404);
    assert.equal(((await nf.body.json()) as any).error.code, 'not_found');
  });

  test('metrics port exposes kthena_router_requests_total with upstream labels', async () => {
    const res = await request(`http://127.0.0.1:${h.router.metricsPort}/metrics`);
    const text = await res.body.text();
    assert.match(text, /^kthena_router_requests_total\{/m);
    const ok = await metricSum(h.router, 'kthena_router_requests_total', {
      model: 'm1',
      path: '/v1/chat/completions',
      status_code: '200',
      error_type: 'successful_request',
      model_route: 'default/r1',
      backend_type: 'model_server',
      backend_name: 'default/s1',
      upstream_model: 'real/model',
    });
    assert.ok(ok >= 3);
    const unknown = await metricSum(h.router, 'kthena_router_requests_total', {
      model: 'unknown',
      status_code: '404',
      error_type: 'route_not_found',
    });
    assert.ok(unknown >= 1);
    // The default plugin set scores with latency-predictor (src/router/scheduler/config.ts).
    const scoreRuns = await metricSum(h.router, 'kthena_router_scheduler_plugin_duration_seconds_count', {
      model: 'm1',
      plugin: 'latency-predictor',
      type: 'score',
    });
    assert.ok(scoreRuns >= 3);
    const outTokens = await metricSum(h.router, 'kthena_router_tokens_total', { model: 'm1', token_type: 'output' });
    assert.ok(outTokens >= 9, `output tokens from usage, got ${outTokens}`);
  });

  test('debug server lists routes, servers, pods and the scheduler view', async () => {
    const base = `http://127.0.0.1:${h.router.debugPort}`;
    const routes = (await (await request(`${base}/debug/config_dump/modelroutes`)).body.json()) as any;
    assert.equal(routes.modelroutes[0].routeInfo.model, 'm1');
    const one = await request(`${base}/debug/config_dump/namespaces/default/modelservers/s1`);
    assert.equal(one.statusCode, 200);
    assert.deepEqual(((await one.body.json()) as any).associatedPods, ['default/a', 'default/b']);
    const missing = await request(`${base}/debug/config_dump/namespaces/default/modelservers/zz`);
    assert.equal(missing.statusCode, 404);
    await missing.body.dump();
    const sched = (await (await request(`${base}/debug/scheduler`)).body.json()) as any;
    assert.equal(sched.endpoints.length, 2);
    assert.ok(sched.endpoints.every((e: any) => e.inflight === 0));
  });
});
