// Request shaping of every connector: what each leg carries, what the decode leg takes from the prefill answer.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { ModelServer } from '../store/resources.js';
import { ep, seeded } from '../testing/fixtures.js';
import { BadPrefillResponse, connectorName, prefillRequest, withoutTransportFields } from './connector.js';
import { connectorFor } from './connectors.js';
import { httpConnector } from './http-connector.js';
import { nixlConnector, transferParams } from './nixl-connector.js';
import { BOOTSTRAP_PORT_LABEL, DEFAULT_BOOTSTRAP_PORT, newRoom, sglangConnector } from './sglang-connector.js';

const request = Object.freeze({
  model: 'm',
  messages: [{ role: 'user', content: 'hi' }],
  stream: true,
  stream_options: { include_usage: true },
  max_tokens: 64,
  max_completion_tokens: 64,
  min_tokens: 8,
  temperature: 0.5,
});
const pair = () => {
  const prefill = ep('p-0');
  prefill.state.address = '10.0.0.7';
  return { prefill, decode: ep('d-0') };
};

function server(engine: 'vLLM' | 'SGLang', type?: string): ModelServer {
  return {
    kind: 'ModelServer',
    metadata: { name: 's' },
    spec: {
      inferenceEngine: engine,
      workloadSelector: { matchLabels: { a: 'b' } },
      workloadPort: { port: 8000 },
      ...(type === undefined ? {} : { kvConnector: { type } }),
    },
  };
}

test('the prefill leg generates one token, unstreamed; everything else is the client request', () => {
  const p = prefillRequest(request);
  assert.equal(p.max_tokens, 1);
  assert.equal(p.max_completion_tokens, 1);
  assert.equal('stream' in p, false);
  assert.equal('stream_options' in p, false);
  assert.equal('min_tokens' in p, false, 'min_tokens > max_tokens would be rejected');
  assert.equal(p.temperature, 0.5);
  assert.deepEqual(p.messages, request.messages);
  assert.equal('max_completion_tokens' in prefillRequest({ max_tokens: 9 }), false, 'not added when absent');
  assert.equal(request.max_tokens, 64, 'the input is not modified');
});

test('connector selection: kvConnector.type, else sglang for SGLang engines, else http; unknown → http', () => {
  assert.equal(connectorName(server('vLLM')), 'http');
  assert.equal(connectorName(server('SGLang')), 'sglang');
  assert.equal(connectorName(server('vLLM', 'nixl')), 'nixl');
  assert.equal(connectorName(server('vLLM', 'NIXL')), 'nixl');
  assert.equal(connectorName(server('vLLM', 'mooncake')), 'mooncake');
  assert.equal(connectorName(server('vLLM', 'lmcache')), 'lmcache');
  assert.equal(connectorName(server('SGLang', 'http')), 'http', 'an explicit type wins over the engine');
  assert.equal(connectorName(server('vLLM', 'sglang')), 'sglang');
  assert.equal(connectorName(server('vLLM', 'p2p-nccl')), 'http');
  for (const [t, name, concurrent] of [
    ['http', 'http', false],
    ['lmcache', 'lmcache', false],
    ['nixl', 'nixl', false],
    ['mooncake', 'mooncake', false],
    ['sglang', 'sglang', true],
  ] as const) {
    const c = connectorFor(server('vLLM', t), Math.random);
    assert.equal(c.name, name);
    assert.equal(c.concurrent, concurrent);
  }
});

test('http / lmcache: sequential, the decode leg is the request unchanged, the prefill answer is not read', () => {
  for (const name of ['http', 'lmcache'] as const) {
    const c = httpConnector(name);
    assert.equal(c.readsPrefillResponse, false);
    const legs = c.shape(request, pair());
    assert.equal(legs.prefill.max_tokens, 1);
    assert.equal('kv_transfer_params' in legs.prefill, false);
    assert.deepEqual(legs.decode(undefined), request);
  }
});

test('nixl / mooncake: prefill asks for a remote decode; decode carries the prefill answer verbatim', () => {
  for (const name of ['nixl', 'mooncake'] as const) {
    const c = nixlConnector(name);
    assert.equal(c.readsPrefillResponse, true);
    const legs = c.shape(request, pair());
    assert.deepEqual(legs.prefill.kv_transfer_params, {
      do_remote_decode: true,
      do_remote_prefill: false,
      remote_engine_id: null,
      remote_block_ids: null,
      remote_host: null,
      remote_port: null,
    });
    assert.equal(legs.prefill.stream, undefined);
    const kvp = {
      do_remote_prefill: true,
      do_remote_decode: false,
      remote_block_ids: [3, 4, 5],
      remote_engine_id: 'e-1',
      remote_host: '10.0.0.7',
      remote_port: 5600,
      tp_size: 1,
      vendor_extra: { anything: ['kept'] },
    };
    const d = legs.decode({ id: 'cmpl-1', choices: [], kv_transfer_params: kvp });
    assert.deepEqual(d.kv_transfer_params, kvp);
    assert.equal(d.stream, true, 'decode streams as the client asked');
    assert.equal(d.max_tokens, 64);
    assert.deepEqual(d.stream_options, { include_usage: true });
  }
});

test('nixl: missing or garbage kv_transfer_params is a BadPrefillResponse with a precise message', () => {
  const cases: [unknown, RegExp][] = [
    ['not an object', /not a JSON object/],
    [[1, 2], /not a JSON object/],
    [null, /not a JSON object/],
    [{ choices: [] }, /no kv_transfer_params/],
    [{ kv_transfer_params: null }, /no kv_transfer_params/],
    [{ kv_transfer_params: 'abc' }, /is string, not an object/],
    [{ kv_transfer_params: [1] }, /is an array/],
    [{ kv_transfer_params: { remote_block_ids: 'x' } }, /remote_block_ids/],
    [{ kv_transfer_params: { remote_block_ids: [1.5] } }, /remote_block_ids/],
    [{ kv_transfer_params: { do_remote_prefill: 'yes' } }, /do_remote_prefill/],
    [{ kv_transfer_params: { remote_engine_id: 7 } }, /remote_engine_id/],
    [{ kv_transfer_params: { remote_port: 70000 } }, /remote_port/],
  ];
  for (const [answer, msg] of cases) {
    assert.throws(
      () => transferParams(answer),
      (e: unknown) => e instanceof BadPrefillResponse && msg.test((e as Error).message),
      JSON.stringify(answer),
    );
  }
  assert.deepEqual(transferParams({ kv_transfer_params: {} }), {}, 'an empty object is the engine’s business');
});

test('nixl: any JSON value either yields the object found or throws BadPrefillResponse, never anything else', () => {
  fc.assert(
    fc.property(fc.jsonValue(), fc.jsonValue(), (top, kvp) => {
      for (const v of [top, { kv_transfer_params: kvp }]) {
        try {
          const out = transferParams(v);
          assert.equal(out, (v as { kv_transfer_params: unknown }).kv_transfer_params);
        } catch (e) {
          assert.ok(e instanceof BadPrefillResponse, String(e));
        }
      }
    }),
  );
});

test('sglang: both legs carry the same room and the prefill endpoint as bootstrap host; a new room per attempt', () => {
  const c = sglangConnector(seeded(7));
  assert.equal(c.concurrent, true);
  const p = pair();
  const a = c.shape(request, p);
  const b = c.shape(request, p);
  const da = a.decode(undefined);
  assert.equal(a.prefill.bootstrap_host, '10.0.0.7');
  assert.equal(da.bootstrap_host, '10.0.0.7');
  assert.equal(a.prefill.bootstrap_port, DEFAULT_BOOTSTRAP_PORT);
  assert.equal(da.bootstrap_port, DEFAULT_BOOTSTRAP_PORT);
  assert.equal(a.prefill.bootstrap_room, da.bootstrap_room);
  assert.notEqual(a.prefill.bootstrap_room, b.prefill.bootstrap_room);
  assert.equal(a.prefill.max_tokens, 1);
  assert.equal(a.prefill.stream, undefined);
  assert.equal(da.stream, true);
  assert.equal(da.max_tokens, 64);
  p.prefill.state.labels = { [BOOTSTRAP_PORT_LABEL]: '9100' };
  assert.equal(c.shape(request, p).prefill.bootstrap_port, 9100);
  p.prefill.state.labels = { [BOOTSTRAP_PORT_LABEL]: 'junk' };
  assert.equal(c.shape(request, p).prefill.bootstrap_port, DEFAULT_BOOTSTRAP_PORT);
});

test('sglang rooms are non-negative safe integers', () => {
  fc.assert(
    fc.property(
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (x, y) => {
        const vals = [x, y];
        const r = newRoom(() => vals.shift() ?? 0);
        assert.ok(Number.isSafeInteger(r) && r >= 0, String(r));
      },
    ),
  );
});

test('client-supplied transport fields are removed before any connector shapes the legs', () => {
  const forged = {
    ...request,
    kv_transfer_params: { remote_engine_id: 'evil' },
    bootstrap_host: '169.254.169.254',
    bootstrap_port: 80,
    bootstrap_room: 1,
  };
  const clean = withoutTransportFields(forged);
  for (const k of ['kv_transfer_params', 'bootstrap_host', 'bootstrap_port', 'bootstrap_room'])
    assert.equal(k in clean, false, k);
  assert.equal(clean.temperature, 0.5);
  assert.equal('bootstrap_host' in forged, true, 'the input is not modified');
  assert.equal(withoutTransportFields(request), request, 'no copy when there is nothing to remove');
});
