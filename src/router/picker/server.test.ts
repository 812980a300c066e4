// The endpoint picker over real gRPC on loopback, driven by a client that speaks the protocol as a gateway (Envoy's
// ext_proc filter) would: buffered and full-duplex body modes, the gateway's subset hint, fallback to the next
// destination, the errors as ImmediateResponses, health checks, TLS — and the router's own accounting seeing the
// gateway's traffic. No Envoy binary is available here; the client below sends the messages Envoy sends.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { generateServingCerts } from '../../kube/tls.js';
import { type FakeEngine, startFakeEngine } from '../testing/fake-engine.js';
import { endpointYaml, type Harness, routeYaml, serverYaml, startHarness } from '../testing/harness.js';
import { waitFor } from '../testing/wait.js';
import { fromStruct, pickerServices, toStruct } from './protocol.js';

const { extProc, health } = pickerServices();

const hdrs = (h: Record<string, string>, endOfStream = false) => ({
  headers: { headers: Object.entries(h).map(([key, v]) => ({ key, rawValue: Buffer.from(v) })) },
  endOfStream,
});
const REQ_HEADERS = { ':method': 'POST', ':path': '/v1/chat/completions', 'content-type': 'application/json' };
const chat = (model = 'm1', content = 'hello') =>
  Buffer.from(JSON.stringify({ model, messages: [{ role: 'user', content }] }));

/** One ext_proc stream as a gateway holds it: send messages, await the picker's replies in order. */
function open(client: grpc.Client) {
  const call = (client as any).Process() as grpc.ClientDuplexStream<any, any>;
  const got: any[] = [];
  const waiters: ((m: any) => void)[] = [];
  call.on('data', (m) => {
    const w = waiters.shift();
    if (w) w(m);
    else got.push(m);
  });
  call.on('error', () => {});
  return {
    send: (m: object) => call.write(m),
    next: () => new Promise<any>((r) => (got.length ? r(got.shift()) : waiters.push(r))),
    end: () => call.end(),
    cancel: () => call.cancel(),
    done: () => new Promise<void>((r) => (call.readableEnded ? r() : call.on('end', () => r()))),
  };
}

const setHeaders = (common: any) =>
  Object.fromEntries(
    (common?.headerMutation?.setHeaders ?? []).map((o: any) => [o.header.key, o.header.rawValue.toString()]),
  );

describe('endpoint picker (ext_proc over gRPC)', () => {
  let a: FakeEngine;
  let b: FakeEngine;
  let h: Harness;
  let client: grpc.Client;
  const hp = (e: FakeEngine) => `127.0.0.1:${e.port}`;
  const inflight = (e: FakeEngine) =>
    h.router.store.view.endpointsByServer.get('default/s1')?.find((x) => x.port === e.port)?.state.inflight;

  before(async () => {
    a = await startFakeEngine('a');
    b = await startFakeEngine('b');
    h = await startHarness(
      {
        'route.yaml': routeYaml('r1', '  modelName: m1\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
        'server.yaml': serverYaml(
          's1',
          '  model: real/model\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
        ),
        'eps.yaml': `${endpointYaml('a', a, { app: 's1' })}---\n${endpointYaml('b', b, { app: 's1' })}`,
      },
      { endpointPicker: { port: 0, host: '127.0.0.1' }, maxBodyBytes: 4096 },
    );
    client = new extProc(`127.0.0.1:${h.router.endpointPickerPort}`, grpc.credentials.createInsecure());
  });
  after(async () => {
    client?.close();
    await h.close();
    await a.close();
    await b.close();
  });

  test('buffered mode: the choice comes back as header and envoy.lb metadata; the served endpoint holds the in-flight count', async () => {
    const s = open(client);
    s.send({ requestHeaders: hdrs(REQ_HEADERS) });
    const r1 = await s.next();
    assert.equal(r1.response, 'requestHeaders');
    assert.equal(r1.requestHeaders.response.status, 'CONTINUE');
    assert.deepEqual(setHeaders(r1.requestHeaders.response), {}, 'nothing chosen before the body');
    s.send({ requestBody: { body: chat(), endOfStream: true } });
    const r2 = await s.next();
    assert.equal(r2.response, 'requestBody');
    const list = setHeaders(r2.requestBody.response)['x-gateway-destination-endpoint'];
    const dests = list.split(',');
    assert.deepEqual([...dests].sort(), [hp(a), hp(b)].sort(), 'primary then fallback, as ip:port');
    assert.equal(r2.requestBody.response.clearRouteCache, true);
    assert.deepEqual(fromStruct(r2.dynamicMetadata), { 'envoy.lb': { 'x-gateway-destination-endpoint': list } });
    const [primary, fallback] = dests[0] === hp(a) ? [a, b] : [b, a];
    assert.equal(inflight(primary), 1);
    assert.equal(inflight(fallback), 0);

    // The gateway fell back to the second destination: the count moves there.
    s.send({
      responseHeaders: hdrs({ ':status': '200' }),
      metadataContext: {
        filterMetadata: { 'envoy.lb': toStruct({ 'x-gateway-destination-endpoint-served': hp(fallback) }) },
      },
    });
    assert.equal((await s.next()).response, 'responseHeaders');
    assert.equal(inflight(primary), 0);
    assert.equal(inflight(fallback), 1);
    s.send({ responseBody: { body: Buffer.from('data: [DONE]\n\n'), endOfStream: true } });
    const r4 = await s.next();
    assert.equal(r4.responseBody.response.status, 'CONTINUE');
    assert.equal(inflight(fallback), 0, 'released at the end of the response');
    s.end();
    await s.done();
  });

  test('full-duplex mode: headers are answered with the choice once the body is complete; bodies pass through', async () => {
    const s = open(client);
    s.send({ protocolConfig: { requestBodyMode: 'FULL_DUPLEX_STREAMED' }, requestHeaders: hdrs(REQ_HEADERS) });
    const body = chat('m1', 'split across two chunks');
    s.send({ requestBody: { body: body.subarray(0, 10), endOfStream: false } });
    s.send({ requestBody: { body: body.subarray(10), endOfStream: true } });
    const r1 = await s.next();
    assert.equal(r1.response, 'requestHeaders', 'the header reply waited for the body');
    assert.match(setHeaders(r1.requestHeaders.response)['x-gateway-destination-endpoint'], /^127\.0\.0\.1:\d+,/);
    const r2 = await s.next();
    assert.equal(r2.response, 'requestBody');
    const sr = r2.requestBody.response.bodyMutation.streamedResponse;
    assert.deepEqual(Buffer.from(sr.body), body, 'the whole body handed back');
    assert.equal(sr.endOfStream, true);
    s.send({ responseHeaders: hdrs({ ':status': '200' }) });
    await s.next();
    s.send({ responseBody: { body: Buffer.from('data: {}\n\n'), endOfStream: false } });
    const r4 = await s.next();
    assert.equal(Buffer.from(r4.responseBody.response.bodyMutation.streamedResponse.body).toString(), 'data: {}\n\n');
    s.send({ responseBody: { body: Buffer.alloc(0), endOfStream: true } });
    await s.next();
    assert.equal(inflight(a), 0);
    assert.equal(inflight(b), 0);
    s.end();
  });

  test('the gateway’s subset hint limits the choice; a subset with no ready pod is a 503', async () => {
    const only = async (subset: string[]) => {
      const s = open(client);
      s.send({ requestHeaders: hdrs(REQ_HEADERS) });
      await s.next();
      s.send({
        requestBody: { body: chat(), endOfStream: true },
        metadataContext: {
          filterMetadata: { 'envoy.lb.subset_hint': toStruct({ 'x-gateway-destination-endpoint-subset': subset }) },
        },
      });
      const r = await s.next();
      s.cancel();
      return r;
    };
    for (let i = 0; i < 4; i++) {
      const r = await only([hp(b)]);
      assert.equal(setHeaders(r.requestBody.response)['x-gateway-destination-endpoint'], hp(b));
    }
    const none = await only(['10.9.9.9:8000']);
    assert.equal(none.response, 'immediateResponse');
    assert.equal(none.immediateResponse.status.code, 503);
    assert.equal(JSON.parse(none.immediateResponse.body.toString()).error.code, 'no_available_endpoints');
    // Cancelled streams release their endpoint when the server sees the cancellation.
    await waitFor(() => inflight(b) === 0, 'cancelled streams to release their endpoint');
  });

  test('concurrent requests spread: an open stream’s in-flight count steers the next choice', async () => {
    const first = open(client);
    first.send({ requestHeaders: hdrs(REQ_HEADERS) });
    await first.next();
    first.send({ requestBody: { body: chat('m1', 'one'), endOfStream: true } });
    const p1 = setHeaders((await first.next()).requestBody.response)['x-gateway-destination-endpoint'].split(',')[0];
    const second = open(client);
    second.send({ requestHeaders: hdrs(REQ_HEADERS) });
    await second.next();
    second.send({ requestBody: { body: chat('m1', 'two'), endOfStream: true } });
    const p2 = setHeaders((await second.next()).requestBody.response)['x-gateway-destination-endpoint'].split(',')[0];
    assert.notEqual(p1, p2);
    first.cancel();
    second.cancel();
  });

  test('bad requests get ImmediateResponses with the router’s status and OpenAI-style body; the picker keeps serving', async () => {
    const ask = async (body: Buffer | undefined, headers = REQ_HEADERS) => {
      const s = open(client);
      s.send({ requestHeaders: hdrs(headers, body === undefined) });
      let r = await s.next();
      if (body !== undefined) {
        s.send({ requestBody: { body, endOfStream: true } });
        r = await s.next();
      }
      s.cancel();
      assert.equal(r.response, 'immediateResponse', JSON.stringify(r));
      const ir = r.immediateResponse;
      assert.equal(setHeaders({ headerMutation: ir.headers })['content-type'], 'application/json');
      return { code: ir.status.code, error: JSON.parse(ir.body.toString()).error, details: ir.details };
    };
    let e = await ask(Buffer.from('{not json'));
    assert.equal(e.code, 400);
    assert.equal(e.error.code, 'invalid_json');
    assert.equal(e.details, 'invalid_json');
    e = await ask(Buffer.from('{"messages":[]}'));
    assert.equal(e.code, 400);
    assert.equal(e.error.param, 'model');
    e = await ask(chat('nope'));
    assert.equal(e.code, 404);
    assert.equal(e.error.code, 'route_not_found');
    e = await ask(undefined);
    assert.equal(e.code, 400);
    assert.match(e.error.message, /needs the request body/);
    e = await ask(Buffer.alloc(5000, 0x20));
    assert.equal(e.code, 413);
    // Still serving.
    const s = open(client);
    s.send({ requestHeaders: hdrs(REQ_HEADERS) });
    await s.next();
    s.send({ requestBody: { body: chat(), endOfStream: true } });
    assert.equal((await s.next()).response, 'requestBody');
    s.cancel();
  });

  test('gRPC health: liveness, readiness and the ext_proc service; unknown services are NOT_FOUND', async () => {
    const hc = new health(`127.0.0.1:${h.router.endpointPickerPort}`, grpc.credentials.createInsecure());
    const check = (service: string) =>
      new Promise<any>((resolve) => (hc as any).Check({ service }, (err: any, res: any) => resolve(err ?? res)));
    assert.equal((await check('liveness')).status, 'SERVING');
    assert.equal((await check('readiness')).status, 'SERVING');
    assert.equal((await check('envoy.service.ext_proc.v3.ExternalProcessor')).status, 'SERVING');
    assert.equal((await check('what')).code, grpc.status.NOT_FOUND);
    hc.close();
  });
});

test('endpoint picker over TLS: a gateway that trusts the CA is served', async () => {
  const e = await startFakeEngine('t');
  const certs = generateServingCerts({ caName: 'test-ca', names: ['localhost', '127.0.0.1'], validMs: 3600_000 });
  const h = await startHarness(
    {
      'route.yaml': routeYaml('r1', '  modelName: m1\n  rules:\n  - targetModels: [{modelServerName: s1}]\n'),
      'server.yaml': serverYaml(
        's1',
        '  model: m\n  inferenceEngine: vLLM\n  workloadSelector: {matchLabels: {app: s1}}\n  workloadPort: {port: 8000}\n',
      ),
      'eps.yaml': endpointYaml('t', e, { app: 's1' }),
    },
    { endpointPicker: { port: 0, host: '127.0.0.1', tls: { cert: certs.cert, key: certs.key } } },
  );
  try {
    const c = new extProc(
      `localhost:${h.router.endpointPickerPort}`,
      grpc.credentials.createSsl(Buffer.from(certs.ca)),
    );
    const s = open(c);
    s.send({ requestHeaders: hdrs(REQ_HEADERS) });
    await s.next();
    s.send({ requestBody: { body: chat(), endOfStream: true } });
    const r = await s.next();
    assert.equal(setHeaders(r.requestBody.response)['x-gateway-destination-endpoint'], `127.0.0.1:${e.port}`);
    s.cancel();
    c.close();
  } finally {
    await h.close();
    await e.close();
  }
});
