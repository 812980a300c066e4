// Prefill/decode disaggregation end to end: the official openai client → router → `engine-sim --role prefill` and
// `--role decode` engines, in vLLM (NIXL kv_transfer_params) and SGLang (bootstrap room) modes, streaming and not;
// failover when a prefill pod dies, garbage kv_transfer_params, timeouts on both legs, client aborts, rate limits.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import OpenAI from 'openai';
import { metricSum } from '../../src/router/testing/harness.js';
import { waitFor } from '../../src/router/testing/wait.js';
import {
  longPrompt,
  MODEL,
  type PdPod,
  pdRoute,
  pdServer,
  podEndpoints,
  spawnEngineSim,
  startPod,
  startRig,
} from './router-pd-helpers.js';

const pods: PdPod[] = [];
after(async () => {
  await Promise.all(pods.flatMap((p) => (p.engine ? [p.engine.close()] : [])));
});
async function pod(spec: Parameters<typeof startPod>[0], engine: 'vllm' | 'sglang' = 'vllm') {
  const p = await startPod(spec, engine);
  pods.push(p);
  return p;
}

const ignoreEos = { ignore_eos: true } as Record<string, unknown>;

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  let text = '';
  let usage: OpenAI.CompletionUsage | undefined;
  let chunks = 0;
  for await (const c of stream) {
    chunks++;
    text += c.choices[0]?.delta?.content ?? '';
    if (c.usage) usage = c.usage;
  }
  return { text, usage, chunks };
}

async function consumeUntilAborted(stream: AsyncIterable<unknown>, stop: () => boolean, ac: AbortController) {
  try {
    for await (const _ of stream) if (stop()) ac.abort();
  } catch (e) {
    assert.ok(ac.signal.aborted, String(e));
  }
  assert.ok(ac.signal.aborted, 'the stream was still running when the client left');
}

describe('vLLM with NIXL: streaming and non-streaming, KV pulled from the paired prefill pod', async () => {
  const group = [
    await pod({ name: 'p0', group: 'g0', role: 'prefill' }),
    await pod({ name: 'd0', group: 'g0', role: 'decode' }),
    await pod({ name: 'p1', group: 'g1', role: 'prefill' }),
    await pod({ name: 'd1', group: 'g1', role: 'decode' }),
  ];
  const rig = await startRig({
    'server.yaml': pdServer('nixl-pd', { connector: 'nixl' }),
    'route.yaml': pdRoute('nixl-chat', 'nixl-pd'),
    'engines.yaml': podEndpoints('nixl-pd', group),
  });
  after(() => rig.close());

  test('three requests: non-streaming, streaming with usage, streaming without', async () => {
    const messages = [{ role: 'user' as const, content: longPrompt('nixl') }];
    const r = await rig.client.chat.completions.create({ model: 'nixl-chat', messages, max_tokens: 6, ...ignoreEos });
    assert.equal(r.object, 'chat.completion');
    assert.equal(r.usage?.completion_tokens, 6);
    assert.ok(r.choices[0].message.content);
    assert.equal(r.model, MODEL);
    const s1 = await collect(
      await rig.client.chat.completions.create({
        model: 'nixl-chat',
        messages,
        max_tokens: 5,
        stream: true,
        stream_options: { include_usage: true },
        ...ignoreEos,
      }),
    );
    assert.equal(s1.usage?.completion_tokens, 5, 'usage delivered when asked');
    assert.ok(s1.text.length > 0);
    const s2 = await collect(
      await rig.client.chat.completions.create({
        model: 'nixl-chat',
        messages,
        max_tokens: 4,
        stream: true,
        ...ignoreEos,
      }),
    );
    assert.equal(s2.usage, undefined, 'the injected usage chunk is hidden from a client that did not ask');
    assert.ok(s2.text.length > 0);

    // Every decode request arrived with its prompt's KV already computed elsewhere.
    const decodes = group.filter((p) => p.spec.role === 'decode').flatMap((p) => p.remoteTokens);
    assert.equal(decodes.length, 3);
    for (const n of decodes) assert.ok(n > 250, `decode pulled ${n} prompt tokens`);
    const prefills = group.filter((p) => p.spec.role === 'prefill').flatMap((p) => p.remoteTokens);
    assert.deepEqual(prefills, [0, 0, 0], 'prefill pods computed the prompts themselves');
    for (const p of group) if (p.spec.role === 'prefill') assert.equal(p.engine!.engine.held.size, 0, 'blocks pulled');

    const log = await rig.log(3);
    for (const e of log) {
      assert.equal(e.status_code, 200);
      assert.ok(e.prefill_pod && e.decode_pod, JSON.stringify(e));
      assert.equal(e.prefill_pod.slice(1), e.decode_pod.slice(1), 'paired within one group');
      assert.equal(e.upstream_attempts, 2, 'one prefill and one decode leg');
      assert.ok(e.output_tokens > 0);
    }
    const out = await metricSum(rig.h.router, 'kthena_router_tokens_total', { token_type: 'output' });
    assert.equal(out, 15);
    assert.equal(await metricSum(rig.h.router, 'kthena_router_request_prefill_duration_seconds_count'), 3);
    assert.equal(await metricSum(rig.h.router, 'kthena_router_request_decode_duration_seconds_count'), 3);
    for (const st of rig.h.router.store.endpointStates()) assert.equal(st.inflight, 0, st.key);
    assert.equal(await metricSum(rig.h.router, 'kthena_router_active_upstream_requests'), 0);
  });

  test('a request the engine rejects is answered with the engine’s own 400, not retried on every pair', async () => {
    const err = await rig.client.completions.create({ model: 'nixl-chat', prompt: 'x', max_tokens: 5, n: 3 }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 400);
  });
});

describe('hostile input on a PD route', async () => {
  const group = [
    await pod({ name: 'hp', group: 'g', role: 'prefill' }),
    await pod({ name: 'hd', group: 'g', role: 'decode' }),
  ];
  const httpPods = [
    await pod({ name: 'hhp', group: 'g', role: 'prefill' }),
    await pod({ name: 'hhd', group: 'g', role: 'decode' }),
  ];
  const rig = await startRig({
    'server.yaml': `${pdServer('hostile-pd', { connector: 'nixl' })}---\n${pdServer('hostile-http', { connector: 'http' })}`,
    'route.yaml': `${pdRoute('hostile-chat', 'hostile-pd')}---\n${pdRoute('hostile-http-chat', 'hostile-http')}`,
    'engines.yaml': podEndpoints('hostile-pd', group) + podEndpoints('hostile-http', httpPods),
  });
  after(() => rig.close());

  test('bad bodies get clear OpenAI-style errors, nothing reaches a decode pod, the router keeps serving', async () => {
    const cases: [unknown, number, string | RegExp][] = [
      ['{"model":"hostile-chat",', 400, 'invalid_json'],
      [{ model: 'hostile-chat' }, 400, 'prompt_not_found'],
      [{ model: 'hostile-chat', prompt: 'x', max_tokens: 'lots' }, 400, /./],
      [{ model: 'hostile-chat', prompt: 'x', kv_transfer_params: 'forged' }, 400, /./],
      [
        { model: 'hostile-chat', messages: [{ role: 'user', content: 'x' }], stream_options: { include_usage: 1 } },
        400,
        /./,
      ],
    ];
    for (const [body, status, code] of cases) {
      const r = await rig.h.post('/v1/chat/completions', body);
      assert.equal(r.status, status, `${JSON.stringify(body)} → ${r.text}`);
      assert.ok(r.json?.error?.message, r.text);
      if (typeof code === 'string') assert.equal(r.json.error.code, code);
    }
    assert.equal(group[1].remoteTokens.length, 0, 'the decode pod saw none of them');
    const ok = await rig.client.completions.create({ model: 'hostile-chat', prompt: 'fine', max_tokens: 2 });
    assert.equal(ok.usage?.completion_tokens, 2);
    for (const st of rig.h.router.store.endpointStates()) assert.equal(st.inflight, 0, st.key);
  });

  test('forged kv_transfer_params / bootstrap fields from a client never reach an engine', async () => {
    const forged = {
      kv_transfer_params: { do_remote_prefill: true, remote_block_ids: [1, 2, 3, 4], remote_engine_id: 'evil' },
      bootstrap_host: '169.254.169.254',
      bootstrap_room: 42,
    };
    for (const model of ['hostile-http-chat', 'hostile-chat']) {
      const r = await rig.h.post('/v1/chat/completions', {
        model,
        messages: [{ role: 'user', content: longPrompt('forged', 100) }],
        max_tokens: 2,
        ...forged,
      });
      assert.equal(r.status, 200, r.text);
    }
    assert.deepEqual(httpPods[1].remoteTokens, [0], 'http connector: the decode engine pulled nothing');
    assert.ok(group[1].remoteTokens.at(-1)! > 90, 'nixl: the decode engine pulled the real prefill');
  });
});

describe('SGLang: bootstrap room, both legs at once', async () => {
  const group = [
    await pod({ name: 'sp0', group: 'g0', role: 'prefill' }, 'sglang'),
    await pod({ name: 'sd0', group: 'g0', role: 'decode' }, 'sglang'),
  ];
  const failing = await pod({ name: 'sfp-bad', group: 'g0', role: 'prefill', prefer: 2 }, 'sglang');
  const fo = [failing, await pod({ name: 'sfp-ok', group: 'g0', role: 'prefill', prefer: 1 }, 'sglang')];
  const foDecode = await pod({ name: 'sfd', group: 'g0', role: 'decode' }, 'sglang');
  const rig = await startRig({
    'server.yaml': `${pdServer('sgl-pd', { engine: 'SGLang' })}---\n${pdServer('sgl-fo', { engine: 'SGLang' })}`,
    'route.yaml': `${pdRoute('sgl-chat', 'sgl-pd')}---\n${pdRoute('sgl-fo-chat', 'sgl-fo')}`,
    'engines.yaml': podEndpoints('sgl-pd', group) + podEndpoints('sgl-fo', [...fo, foDecode]),
  });
  after(() => rig.close());

  test('streaming and non-streaming; the decode engine received the KV from the paired prefill', async () => {
    const messages = [{ role: 'user' as const, content: longPrompt('sglang') }];
    const r = await rig.client.chat.completions.create({ model: 'sgl-chat', messages, max_tokens: 5, ...ignoreEos });
    assert.equal(r.usage?.completion_tokens, 5);
    const s = await collect(
      await rig.client.chat.completions.create({
        model: 'sgl-chat',
        messages,
        max_tokens: 7,
        stream: true,
        stream_options: { include_usage: true },
        ...ignoreEos,
      }),
    );
    assert.equal(s.usage?.completion_tokens, 7);
    const [, decode] = group;
    assert.equal(decode.remoteTokens.length, 2);
    for (const n of decode.remoteTokens) assert.ok(n > 250, `decode received ${n} prompt tokens over the bootstrap`);
    const log = await rig.log(2);
    for (const e of log) {
      assert.equal(e.status_code, 200);
      assert.equal(e.prefill_pod, 'sp0');
      assert.equal(e.decode_pod, 'sd0');
      assert.equal(e.upstream_attempts, 2);
    }
    assert.equal(await metricSum(rig.h.router, 'kthena_router_tokens_total', { token_type: 'output' }), 12);
    for (const st of rig.h.router.store.endpointStates()) assert.equal(st.inflight, 0, st.key);
  });

  test('a prefill that fails while the decode waits for its KV: decode cancelled, next pair answers', async () => {
    let logged = 2;
    for (const stream of [false, true]) {
      const fault = await fetch(`http://127.0.0.1:${failing.port}/admin/faults`, {
        method: 'POST',
        body: '{"mode":"error","status":503,"count":1}',
      });
      assert.equal(fault.status, 200);
      const req = {
        model: 'sgl-fo-chat',
        messages: [{ role: 'user' as const, content: longPrompt(`sgl-fo-${stream}`) }],
        max_tokens: 4,
        ...ignoreEos,
      };
      const n = stream
        ? (
            await collect(
              await rig.client.chat.completions.create({
                ...req,
                stream: true,
                stream_options: { include_usage: true },
              }),
            )
          ).usage?.completion_tokens
        : (await rig.client.chat.completions.create(req)).usage?.completion_tokens;
      assert.equal(n, 4);
      const e = (await rig.log(++logged)).filter((x) => x.model_name === 'sgl-fo-chat').at(-1);
      assert.equal(e.status_code, 200);
      assert.equal(e.prefill_pod, 'sfp-ok');
      assert.equal(e.upstream_attempts, 4, 'failed prefill, cancelled decode, then a full pair');
    }
    for (const st of rig.h.router.store.endpointStates()) assert.equal(st.inflight, 0, st.key);
  });

  test('client abort mid-stream ends both legs and frees both slots', async () => {
    const ac = new AbortController();
    const stream = await rig.client.chat.completions.create(
      {
        model: 'sgl-chat',
        messages: [{ role: 'user', content: 'abort me' }],
        max_tokens: 4000,
        stream: true,
        ...ignoreEos,
      },
      { signal: ac.signal },
    );
    let n = 0;
    // The client's iterator ends (or throws) once aborted; either way the router sees the connection close.
    await consumeUntilAborted(stream, () => ++n === 3, ac);
    await waitFor(
      () => rig.h.router.store.endpointStates().every((s) => s.inflight === 0) || undefined,
      'router slots',
    );
    const [p, d] = group;
    await waitFor(() => (d.engine!.engine.core.running.length === 0 ? true : undefined), 'decode engine idle');
    assert.equal(p.engine!.engine.core.running.length, 0);
    const log = await rig.log(5);
    assert.equal(log[4].model_name, 'sgl-chat');
    assert.equal(log[4].status_code, 200);
    assert.equal(log[4].error?.type, 'client_disconnected');
  });
});

describe('failover and bad prefill pods (vLLM, NIXL)', async () => {
  // A real `kthena engine-sim --role prefill` process, preferred by the scheduler, killed mid-test.
  const child = await spawnEngineSim(['--role', 'prefill', '--model', MODEL, '--speedup', '20']);
  after(() => {
    child.child.kill('SIGKILL');
  });
  // A prefill pod that answers 200 with garbage kv_transfer_params (or not JSON at all).
  let garbageHits = 0;
  let garbageBody = '{"id":"x","choices":[],"kv_transfer_params":"garbage"}';
  const garbage = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.url?.startsWith('/v1/')) garbageHits++;
      if (req.url === '/metrics') return void res.end('');
      if (req.url === '/v1/models') return void res.end(JSON.stringify({ data: [{ id: MODEL }] }));
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(garbageBody);
    });
  });
  await new Promise<void>((r) => garbage.listen(0, '127.0.0.1', r));
  after(() => new Promise<void>((r) => garbage.close(() => r())));
  const garbagePort = (garbage.address() as AddressInfo).port;

  const killed = await pod({ name: 'fp-proc', group: 'g0', role: 'prefill', prefer: 2, port: child.port });
  const live = await pod({ name: 'fp-live', group: 'g0', role: 'prefill', prefer: 1 });
  const hung = await pod({ name: 'tp-hung', group: 'g0', role: 'prefill', prefer: 2 });
  const bad = await pod({ name: 'gp-bad', group: 'g0', role: 'prefill', prefer: 2, port: garbagePort });
  const onlyBad = await pod({ name: 'ob-bad', group: 'g0', role: 'prefill', port: garbagePort });
  const decodes = [
    await pod({ name: 'fd', group: 'g0', role: 'decode' }),
    await pod({ name: 'td', group: 'g0', role: 'decode' }),
    await pod({ name: 'gd', group: 'g0', role: 'decode' }),
    await pod({ name: 'obd', group: 'g0', role: 'decode' }),
  ];
  const goodForTimeout = await pod({ name: 'tp-live', group: 'g0', role: 'prefill', prefer: 1 });
  const goodForGarbage = await pod({ name: 'gp-live', group: 'g0', role: 'prefill', prefer: 1 });
  const rig = await startRig({
    'servers.yaml': [
      pdServer('fail', { connector: 'nixl' }),
      pdServer('slow', { connector: 'nixl', timeout: '1500ms' }),
      pdServer('garb', { connector: 'nixl' }),
      pdServer('onlybad', { connector: 'mooncake' }),
    ].join('---\n'),
    'routes.yaml': [
      pdRoute('fail-chat', 'fail'),
      pdRoute('slow-chat', 'slow'),
      pdRoute('garb-chat', 'garb'),
      pdRoute('onlybad-chat', 'onlybad'),
    ].join('---\n'),
    'engines.yaml':
      podEndpoints('fail', [killed, live, decodes[0]]) +
      podEndpoints('slow', [hung, goodForTimeout, decodes[1]]) +
      podEndpoints('garb', [bad, goodForGarbage, decodes[2]]) +
      podEndpoints('onlybad', [onlyBad, decodes[3]]),
  });
  after(() => rig.close());
  const body = (model: string) => ({
    model,
    messages: [{ role: 'user' as const, content: longPrompt(model, 60) }],
    max_tokens: 3,
    ...ignoreEos,
  });
  const ask = (model: string) => rig.client.chat.completions.create(body(model));
  const askStream = async (model: string) =>
    collect(await rig.client.chat.completions.create({ ...body(model), stream: true }));
  const askEither = (model: string, stream: boolean) => (stream ? askStream(model) : ask(model));
  let logged = 0;

  test('a prefill pod that dies: the next prefill of the group takes over before the first byte', async () => {
    const before = await ask('fail-chat');
    assert.equal(before.usage?.completion_tokens, 3);
    let log = await rig.log(++logged);
    assert.equal(log.at(-1).prefill_pod, 'fp-proc', 'the child-process prefill served while alive');
    child.child.kill('SIGKILL');
    await new Promise((r) => child.child.once('exit', r));
    const r = await ask('fail-chat');
    assert.equal(r.usage?.completion_tokens, 3);
    const s = await askStream('fail-chat');
    assert.ok(s.text.length > 0);
    logged += 2;
    log = await rig.log(logged);
    for (const e of log.slice(-2)) {
      assert.equal(e.status_code, 200);
      assert.equal(e.prefill_pod, 'fp-live');
      assert.equal(e.upstream_attempts, 3, 'dead prefill, live prefill, decode');
    }
    assert.ok(
      (await metricSum(rig.h.router, 'kthena_router_upstream_attempts_total', { outcome: 'connect_error' })) >= 2,
    );
  });

  test('trafficPolicy.timeout bounds the prefill leg: a hung prefill fails over, a hung decode fails the request', async () => {
    await fetch(`http://127.0.0.1:${hung.port}/admin/faults`, { method: 'POST', body: '{"mode":"hang"}' });
    const r = await ask('slow-chat');
    assert.equal(r.usage?.completion_tokens, 3);
    let log = await rig.log(++logged);
    assert.equal(log.at(-1).prefill_pod, 'tp-live');
    assert.equal(log.at(-1).upstream_attempts, 3);
    assert.ok((await metricSum(rig.h.router, 'kthena_router_upstream_attempts_total', { outcome: 'timeout' })) >= 1);
    await fetch(`http://127.0.0.1:${decodes[1].port}/admin/faults`, { method: 'POST', body: '{"mode":"hang"}' });
    const err = await ask('slow-chat').then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 503);
    assert.equal((err.error as { code?: string }).code, 'all_upstreams_failed');
    log = await rig.log(++logged);
    assert.match(log.at(-1).error.message, /decode leg: no response headers from default\/td/);
    await fetch(`http://127.0.0.1:${decodes[1].port}/admin/faults`, { method: 'DELETE' });
    await fetch(`http://127.0.0.1:${hung.port}/admin/faults`, { method: 'DELETE' });
    await waitFor(() => rig.h.router.store.endpointStates().every((st) => st.inflight === 0) || undefined, 'slots');
  });

  test('garbage kv_transfer_params: failover to a good prefill; with none left, a clear 502 and the router keeps serving', async () => {
    const hitsBefore = garbageHits;
    const r = await ask('garb-chat');
    assert.equal(r.usage?.completion_tokens, 3);
    assert.equal(garbageHits, hitsBefore + 1, 'the garbage pod was tried first');
    let log = await rig.log(++logged);
    assert.equal(log.at(-1).prefill_pod, 'gp-live');
    for (const body of [garbageBody, '<html>oops</html>', '{"kv_transfer_params":{"remote_block_ids":"x"}}', '{}']) {
      garbageBody = body;
      for (const stream of [false, true]) {
        const err = await askEither('onlybad-chat', stream).then(
          () => undefined,
          (e: unknown) => e,
        );
        assert.ok(err instanceof OpenAI.APIError, String(err));
        assert.equal(err.status, 502, body);
        const e = err.error as { code?: string; message?: string; type?: string };
        assert.equal(e.code, 'bad_prefill_response');
        assert.equal(e.type, 'server_error');
        assert.match(e.message ?? '', /prefill pod returned an unusable response: prefill leg: default\/ob-bad/);
        log = await rig.log(++logged);
        assert.equal(log.at(-1).status_code, 502);
      }
    }
    assert.equal(decodes[3].remoteTokens.length, 0, 'the decode pod never saw a request');
    const ok = await ask('garb-chat');
    assert.equal(ok.usage?.completion_tokens, 3, 'still serving');
    logged++;
  });

  test('client abort while the prefill leg runs: the decode pod is never contacted, the prefill slot is freed', async () => {
    await fetch(`http://127.0.0.1:${live.port}/admin/faults`, { method: 'POST', body: '{"mode":"hang"}' });
    const seen = decodes[0].remoteTokens.length;
    const ac = new AbortController();
    const pending = rig.client.chat.completions.create(
      { model: 'fail-chat', messages: [{ role: 'user', content: 'hang' }], max_tokens: 3 },
      { signal: ac.signal },
    );
    const st = rig.h.router.store.endpointState('default/fp-live')!;
    await waitFor(() => (st.inflight === 1 ? true : undefined), 'prefill in flight');
    ac.abort();
    await assert.rejects(pending);
    await waitFor(() => (st.inflight === 0 ? true : undefined), 'prefill slot freed');
    const log = await rig.log(++logged);
    assert.equal(log.at(-1).error?.type, 'client_disconnected');
    assert.equal(decodes[0].remoteTokens.length, seen);
    await fetch(`http://127.0.0.1:${live.port}/admin/faults`, { method: 'DELETE' });
  });
});

describe('rate limits and abort accounting in PD mode', async () => {
  const group = [
    await pod({ name: 'rp', group: 'g', role: 'prefill' }),
    await pod({ name: 'rd', group: 'g', role: 'decode', speedup: 2 }),
  ];
  const rig = await startRig({
    'server.yaml': pdServer('rl-pd', { connector: 'nixl' }),
    'route.yaml': pdRoute('rl-chat', 'rl-pd', '  rateLimit: {outputTokensPerUnit: 10, unit: minute}\n'),
    'route2.yaml': pdRoute('free-chat', 'rl-pd'),
    'engines.yaml': podEndpoints('rl-pd', group),
  });
  after(() => rig.close());

  test('output tokens from the decode stream are charged to the route’s limit', async () => {
    const r = await rig.client.chat.completions.create({
      model: 'rl-chat',
      messages: [{ role: 'user', content: 'limit' }],
      max_tokens: 12,
      ...ignoreEos,
    });
    assert.equal(r.usage?.completion_tokens, 12);
    const err = await rig.client.chat.completions
      .create({ model: 'rl-chat', messages: [{ role: 'user', content: 'again' }], max_tokens: 2 })
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    assert.ok(err instanceof OpenAI.APIError, String(err));
    assert.equal(err.status, 429);
  });

  test('vLLM client abort mid-stream: decode cancelled, both endpoints back to zero in flight', async () => {
    const ac = new AbortController();
    const stream = await rig.client.chat.completions.create(
      {
        model: 'free-chat',
        messages: [{ role: 'user', content: 'long one' }],
        max_tokens: 4000,
        stream: true,
        ...ignoreEos,
      },
      { signal: ac.signal },
    );
    let n = 0;
    await consumeUntilAborted(stream, () => ++n === 2, ac);
    await waitFor(
      () => rig.h.router.store.endpointStates().every((s) => s.inflight === 0) || undefined,
      'router slots',
    );
    await waitFor(() => (group[1].engine!.engine.core.running.length === 0 ? true : undefined), 'decode idle');
    assert.equal(await metricSum(rig.h.router, 'kthena_router_active_upstream_requests'), 0);
  });
});
