// The one body relay of the router: an upstream response body to the client with backpressure, used by the proxy
// (engines, src/router/proxy/forward.ts) and by external providers (src/router/providers/gateway.ts). It owns the
// event wiring — upstream data/end/error, client drain/close, an optional stall bound — and resolves once with how the
// body ended; what to write for each chunk, and what an end means for the request, the caller decides.
import type { ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';

/** end: the upstream body ended; broken: it failed; stalled: no bytes for stallMs; aborted: the client left. */
export type RelayEnd = 'end' | 'broken' | 'stalled' | 'aborted';

export interface RelayHooks {
  /** Client abort (the client's signal). */
  signal: AbortSignal;
  /** After the first bytes, the longest gap allowed between two chunks; 0 = none. */
  stallMs?: number;
  /** One upstream chunk → the bytes for the client (undefined or empty: nothing to write yet). */
  chunk(b: Buffer): Buffer | string | undefined;
  /** Just before non-empty bytes are written (corking, first-byte time, event counts). */
  beforeWrite?(out: Buffer | string): void;
  /** The first bytes went through chunk() (or the client had already left): flush, then the caller's bookkeeping. */
  started?(): void;
  /** The upstream body ended: write any last bytes; res.end() follows. */
  ending?(): void;
  /** Exactly once, before the promise resolves (timings, usage from the tail). */
  finished?(how: RelayEnd): void;
}

export function relayBody(body: Readable, res: ServerResponse, first: Buffer | null, h: RelayHooks): Promise<RelayEnd> {
  return new Promise((resolve) => {
    let done = false;
    let stalled = false;
    const stall =
      h.stallMs && h.stallMs > 0
        ? setTimeout(() => {
            stalled = true;
            body.destroy(new Error('stream stalled'));
          }, h.stallMs)
        : undefined;
    const finish = (how: RelayEnd) => {
      if (done) return;
      done = true;
      clearTimeout(stall);
      body.off('data', onData);
      res.off('drain', onDrain);
      res.off('close', onClose);
      h.finished?.(how);
      resolve(how);
    };
    let backpressured = false;
    const onData = (chunk: Buffer) => {
      stall?.refresh();
      const out = h.chunk(chunk);
      if (out === undefined || out.length === 0) return;
      h.beforeWrite?.(out);
      if (!res.write(out)) {
        backpressured = true;
        body.pause();
      }
    };
    const onDrain = () => {
      backpressured = false;
      body.resume();
    };
    const onClose = () => {
      if (!res.writableFinished) {
        body.destroy();
        finish('aborted');
      }
    };
    if (h.signal.aborted) {
      h.started?.();
      body.on('error', () => undefined);
      body.destroy();
      finish('aborted');
      return;
    }
    body.on('data', onData);
    res.on('drain', onDrain);
    res.on('close', onClose);
    if (first) onData(first);
    h.started?.();
    const ended = () => {
      h.ending?.();
      res.end();
      finish('end');
    };
    if (body.readableEnded) return ended();
    if (!backpressured) body.resume();
    body.on('end', ended);
    body.on('error', () => finish(h.signal.aborted ? 'aborted' : stalled ? 'stalled' : 'broken'));
  });
}
