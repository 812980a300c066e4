// The one body relay: how each way a body can end is reported, with the caller's hooks called once and in order.
import assert from 'node:assert/strict';
import { createServer, request, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PassThrough } from 'node:stream';
import { test } from 'node:test';
import { type RelayEnd, relayBody } from './relay.js';

/** A loopback server whose only response runs `serve`; returns what the client read and how the relay ended. */
async function through(
  serve: (res: ServerResponse) => Promise<RelayEnd>,
  client: { abortAfterBytes?: number } = {},
): Promise<{ how: RelayEnd; got: string }> {
  let ended: Promise<RelayEnd> | undefined;
  const srv = createServer((_req, res) => {
    ended = serve(res);
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as AddressInfo).port;
  try {
    const got = await new Promise<string>((resolve) => {
      let text = '';
      const req = request({ port, host: '127.0.0.1', path: '/' }, (res) => {
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          text += c;
          if (client.abortAfterBytes !== undefined && text.length >= client.abortAfterBytes) req.destroy();
        });
        res.on('end', () => resolve(text));
        res.on('error', () => resolve(text));
        res.on('close', () => resolve(text));
      });
      req.on('error', () => resolve(text));
      req.end();
    });
    return { how: await (ended as Promise<RelayEnd>), got };
  } finally {
    srv.closeAllConnections();
    await new Promise((r) => srv.close(r));
  }
}

test('end: chunks shaped by the caller, the last bytes from ending(), hooks in order', async () => {
  const calls: string[] = [];
  const r = await through((res) => {
    const body = new PassThrough();
    res.writeHead(200);
    const p = relayBody(body, res, Buffer.from('a'), {
      signal: new AbortController().signal,
      chunk: (b) => b.toString().toUpperCase(),
      beforeWrite: (out) => calls.push(`write ${out}`),
      started: () => calls.push('started'),
      ending: () => {
        res.write('!');
        calls.push('ending');
      },
      finished: (how) => calls.push(`finished ${how}`),
    });
    body.write('b');
    setImmediate(() => body.end('c'));
    return p;
  });
  assert.equal(r.how, 'end');
  assert.equal(r.got, 'ABC!');
  assert.deepEqual(calls, ['write A', 'started', 'write B', 'write C', 'ending', 'finished end']);
});

test('broken: an upstream error ends the relay without ending the response (the caller decides)', async () => {
  let resEnded = true;
  const r = await through(async (res) => {
    const body = new PassThrough();
    res.writeHead(200);
    const p = relayBody(body, res, null, { signal: new AbortController().signal, chunk: (b) => b });
    body.write('x');
    setImmediate(() => body.destroy(new Error('upstream died')));
    const how = await p;
    resEnded = res.writableEnded;
    res.destroy();
    return how;
  });
  assert.equal(r.how, 'broken');
  assert.equal(resEnded, false);
});

test('stalled: no bytes for stallMs after the first ones', async () => {
  const r = await through((res) => {
    const body = new PassThrough();
    res.writeHead(200);
    const p = relayBody(body, res, Buffer.from('x'), {
      signal: new AbortController().signal,
      stallMs: 20,
      chunk: (b) => b,
    });
    void p.then(() => res.destroy());
    return p;
  });
  assert.equal(r.how, 'stalled');
});

test('aborted: the client leaves mid-body; the upstream body is destroyed', async () => {
  const body = new PassThrough();
  const ac = new AbortController();
  const r = await through(
    (res) => {
      res.writeHead(200);
      res.on('close', () => ac.abort());
      const p = relayBody(body, res, null, { signal: ac.signal, chunk: (b) => b });
      body.write('hello');
      return p;
    },
    { abortAfterBytes: 5 },
  );
  assert.equal(r.how, 'aborted');
  assert.equal(body.destroyed, true);
});

test('aborted before the start: nothing is relayed, started() still runs once', async () => {
  const ac = new AbortController();
  ac.abort();
  let started = 0;
  const body = new PassThrough();
  const r = await through((res) => {
    res.writeHead(200);
    const p = relayBody(body, res, Buffer.from('x'), {
      signal: ac.signal,
      chunk: (b) => b,
      started: () => started++,
    });
    void p.then(() => res.end());
    return p;
  });
  assert.equal(r.how, 'aborted');
  assert.equal(r.got, '');
  assert.equal(started, 1);
  assert.equal(body.destroyed, true);
});
