// Our scheduler as an endpoint picker for other gateways: the Gateway API Inference Extension's endpoint-picker
// protocol (docs/gateway-api.md; an Envoy ext_proc stream per HTTP request) served over gRPC beside the router.
//
// One stream, one request:
//   request headers  → remembered (buffered body mode: answered CONTINUE at once; full-duplex: held until the body
//                      is complete, because the chosen endpoint goes into the header response)
//   request body     → gathered to its end, then the decision (pick.ts): the destinations are written both as the
//                      `x-gateway-destination-endpoint` header and as dynamic metadata `envoy.lb` under the same key,
//                      primary first, fallbacks after, comma-separated; an error is an ImmediateResponse with the
//                      router's own status and OpenAI-style body (503 none ready, 404 no route, 400 bad body, …)
//   response headers → the served endpoint (metadata `envoy.lb` / `x-gateway-destination-endpoint-served`) takes the
//                      request's in-flight count if the gateway fell back; first byte for the plugins
//   response end / stream end (client gone) → released, and every plugin's terminal hook runs once.
// So the KV-aware scorers, in-flight counts and prefix index see the gateway's traffic exactly as the router's own.
import { randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import type { Logger } from 'pino';
import { RouterError } from '../errors.js';
import { commitAttempt, dispatchAttempt, releaseAttempt, responseDone } from '../scheduler/lifecycle.js';
import type { ServerEndpoint } from '../store/store.js';
import { hostPort, type Pick, type PickerDeps, pick } from './pick.js';
import { fromStruct, type PbStruct, pickerServices, toStruct } from './protocol.js';

export const DESTINATION = 'x-gateway-destination-endpoint';
export const SERVED = 'x-gateway-destination-endpoint-served';
export const SUBSET = 'x-gateway-destination-endpoint-subset';
export const LB_NAMESPACE = 'envoy.lb';
export const SUBSET_NAMESPACE = 'envoy.lb.subset_hint';

export interface EndpointPickerOptions extends PickerDeps {
  host: string;
  port: number;
  maxBodyBytes: number;
  isReady: () => boolean;
  log: Logger;
  /** PEM serving certificate and key; plaintext gRPC when absent. */
  tls?: { cert: string; key: string };
  clock?: () => number;
}

export interface RunningPicker {
  port: number;
  /** Streams (requests) in progress. */
  active(): number;
  close(): Promise<void>;
}

interface HeaderValue {
  key?: string;
  value?: string;
  rawValue?: Buffer;
}

/** Header map of an HttpHeaders message, lower-cased names; Envoy puts values in raw_value, older peers in value. */
function headersOf(h: { headers?: { headers?: HeaderValue[] } } | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const x of h?.headers?.headers ?? [])
    if (x.key) out[x.key.toLowerCase()] = x.rawValue?.length ? x.rawValue.toString('utf8') : (x.value ?? '');
  return out;
}

/** Entry `key` of namespace `ns` in a ProcessingRequest's metadata_context. */
function metadataEntry(req: any, ns: string, key: string): unknown {
  const s = req.metadataContext?.filterMetadata?.[ns] as PbStruct | undefined;
  return s ? fromStruct(s)[key] : undefined;
}

const setHeader = (key: string, value: string) => ({
  header: { key, rawValue: Buffer.from(value) },
  appendAction: 'OVERWRITE_IF_EXISTS_OR_ADD',
});

function immediate(err: RouterError) {
  return {
    immediateResponse: {
      status: { code: err.status },
      headers: { setHeaders: [setHeader('content-type', 'application/json')] },
      body: Buffer.from(err.toBody()),
      details: err.code,
    },
  };
}

// CONTINUE is the enum's zero: left out, as proto3 encoders do (the field decodes as CONTINUE).
const CONTINUE = { response: {} };

/** One ext_proc stream: the request it carries, from headers to the end of the response. */
class PickerStream {
  private headers: Record<string, string> = {};
  private chunks: Buffer[] = [];
  private size = 0;
  private duplex = false;
  private decided: Pick | undefined;
  private serving: ServerEndpoint | undefined;
  private status = 0;
  private ended = false;

  constructor(
    private readonly o: EndpointPickerOptions,
    private readonly call: grpc.ServerDuplexStream<any, any>,
  ) {}

  async onMessage(req: any): Promise<void> {
    if (req.protocolConfig?.requestBodyMode === 'FULL_DUPLEX_STREAMED') this.duplex = true;
    if (req.observabilityMode) return; // nothing we answer is read
    switch (req.request) {
      case 'requestHeaders':
        this.headers = headersOf(req.requestHeaders);
        if (req.requestHeaders.endOfStream)
          return this.reply(
            immediate(
              new RouterError(
                400,
                'invalid_request_body',
                'the endpoint picker needs the request body (a JSON body with "model"); configure the gateway to send it',
              ),
            ),
          );
        if (!this.duplex) this.reply({ requestHeaders: CONTINUE });
        return;
      case 'requestBody':
        return this.onRequestBody(req);
      case 'responseHeaders':
        this.onResponseHeaders(req);
        this.reply({ responseHeaders: CONTINUE });
        if (req.responseHeaders.endOfStream) this.finish('done');
        return;
      case 'responseBody':
        // Full duplex: the body passes through us and must be handed back; otherwise it is left as it is.
        this.reply({
          responseBody: this.duplex
            ? {
                response: {
                  bodyMutation: {
                    streamedResponse: { body: req.responseBody.body, endOfStream: req.responseBody.endOfStream },
                  },
                },
              }
            : CONTINUE,
        });
        if (req.responseBody.endOfStream) this.finish('done');
        return;
      case 'requestTrailers':
        return this.reply({ requestTrailers: {} });
      case 'responseTrailers':
        this.reply({ responseTrailers: {} });
        this.finish('done');
        return;
    }
  }

  private async onRequestBody(req: any): Promise<void> {
    const chunk: Buffer = req.requestBody.body ?? Buffer.alloc(0);
    this.size += chunk.length;
    if (this.size > this.o.maxBodyBytes)
      return this.reply(
        immediate(
          new RouterError(413, 'body_too_large', `request body exceeds the limit of ${this.o.maxBodyBytes} bytes`),
        ),
      );
    this.chunks.push(chunk);
    if (!req.requestBody.endOfStream) {
      // Streamed (not buffered, not full duplex) mode wants an answer per chunk; the decision waits for the end.
      if (!this.duplex) this.reply({ requestBody: CONTINUE });
      return;
    }
    const body = Buffer.concat(this.chunks);
    this.chunks = [];
    let p: Pick;
    try {
      p = await pick(this.o, {
        id: this.headers['x-request-id'] || randomUUID(),
        headers: this.headers,
        body,
        subset: this.subsetHint(req),
        startedAt: this.now(),
      });
    } catch (e) {
      const err = e instanceof RouterError ? e : new RouterError(500, 'internal_error', String(e));
      if (err.status >= 500 && !(e instanceof RouterError)) this.o.log.error({ err: e }, 'endpoint picker failed');
      return this.reply(immediate(err));
    }
    if (this.ended) return; // the gateway gave up while we decided
    this.decided = p;
    this.serving = p.ranked[0];
    dispatchAttempt(this.o.scheduler.plugins, p.ctx, this.serving);
    const list = p.destinations.join(',');
    const picked = {
      headerMutation: { setHeaders: [setHeader(DESTINATION, list)] },
      clearRouteCache: true,
    };
    const dynamicMetadata = toStruct({ [LB_NAMESPACE]: { [DESTINATION]: list } });
    if (this.duplex) {
      this.reply({ requestHeaders: { response: picked }, dynamicMetadata });
      this.reply({
        requestBody: { response: { bodyMutation: { streamedResponse: { body, endOfStream: true } } } },
      });
    } else this.reply({ requestBody: { response: picked }, dynamicMetadata });
  }

  /** The gateway's subset (`envoy.lb.subset_hint`), as `ip:port` strings; undefined when it sent none. */
  private subsetHint(req: any): string[] | undefined {
    const v = metadataEntry(req, SUBSET_NAMESPACE, SUBSET);
    if (v === undefined || v === null) return undefined;
    const list = Array.isArray(v) ? v : [v];
    return list.flatMap((x) => (typeof x === 'string' ? x.split(',').map((s) => s.trim()) : [])).filter(Boolean);
  }

  private onResponseHeaders(req: any): void {
    this.status = Number(headersOf(req.responseHeaders)[':status'] ?? 0);
    const p = this.decided;
    if (!p || !this.serving) return;
    const served = metadataEntry(req, LB_NAMESPACE, SERVED);
    if (typeof served === 'string' && served !== hostPort(this.serving)) {
      // The gateway fell back down the list: the request's in-flight count moves to the endpoint that answered.
      const other = p.ranked.find((ep) => hostPort(ep) === served);
      if (other) {
        releaseAttempt(this.o.scheduler.plugins, p.ctx, this.serving);
        this.serving = other;
        dispatchAttempt(this.o.scheduler.plugins, p.ctx, other);
      }
    }
    commitAttempt(this.o.scheduler.plugins, p.ctx, this.serving);
  }

  /**
   * Terminal accounting, once: `done` at the response's end; `closed` when the gateway ends the stream first (it was
   * not configured to send the response, or the request ended without one); `cancelled` when the stream broke.
   */
  finish(how: 'done' | 'closed' | 'cancelled'): void {
    if (this.ended) return;
    this.ended = true;
    const p = this.decided;
    if (!p || !this.serving) return;
    releaseAttempt(this.o.scheduler.plugins, p.ctx, this.serving);
    const aborted = how === 'cancelled';
    const status = this.status || (aborted ? 499 : 200);
    responseDone(
      this.o.scheduler.plugins,
      p.ctx,
      { endpoint: this.serving, status, ok: !aborted && status < 400, aborted },
      (plugin, err) => this.o.log.warn({ plugin, err }, 'plugin onResponseDone failed'),
    );
  }

  private reply(msg: object): void {
    if (!this.call.writableEnded && !this.call.destroyed) this.call.write(msg);
  }

  private now(): number {
    return this.o.clock ? this.o.clock() : Date.now();
  }
}

export async function startEndpointPicker(o: EndpointPickerOptions): Promise<RunningPicker> {
  const { extProc, health } = pickerServices();
  const server = new grpc.Server();
  const open = new Set<PickerStream>();
  server.addService(extProc.service, {
    Process(call: grpc.ServerDuplexStream<any, any>) {
      const x = new PickerStream(o, call);
      open.add(x);
      // Messages are handled in order: a body must not overtake its headers while a decision is awaited.
      let chain = Promise.resolve();
      call.on('data', (req) => {
        chain = chain
          .then(() => x.onMessage(req))
          .catch((err) => {
            o.log.error({ err }, 'endpoint picker stream failed');
            call.destroy(err as Error);
          });
      });
      const end = (how: 'closed' | 'cancelled') => {
        open.delete(x);
        x.finish(how);
      };
      call.on('end', () => {
        void chain.then(() => {
          end('closed');
          if (!call.writableEnded) call.end();
        });
      });
      call.on('cancelled', () => end('cancelled'));
      call.on('error', () => end('cancelled'));
    },
  });
  server.addService(health.service, {
    Check(call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) {
      const svc = call.request.service ?? '';
      if (svc === '' || svc === 'liveness') return cb(null, { status: 'SERVING' });
      if (svc === 'readiness' || svc === 'envoy.service.ext_proc.v3.ExternalProcessor')
        return cb(null, { status: o.isReady() ? 'SERVING' : 'NOT_SERVING' });
      cb({ code: grpc.status.NOT_FOUND, details: `unknown service "${svc}"` });
    },
  });
  const creds = o.tls
    ? grpc.ServerCredentials.createSsl(null, [
        { cert_chain: Buffer.from(o.tls.cert), private_key: Buffer.from(o.tls.key) },
      ])
    : grpc.ServerCredentials.createInsecure();
  const host = o.host.includes(':') ? `[${o.host}]` : o.host;
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host}:${o.port}`, creds, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    port,
    active: () => open.size,
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Streams of requests still in flight end with their gateway; do not wait for them forever.
        setTimeout(() => server.forceShutdown(), 2000).unref();
      }),
  };
}
