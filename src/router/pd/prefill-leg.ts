// The prefill leg of one attempt: one non-streamed request whose answer is read whole (it holds one token and, for
// NIXL/Mooncake, the kv_transfer_params). The timeout bounds the whole leg, headers and body, because the decode leg
// cannot start before the body is complete; the client leaving aborts it at once.
import type { Dispatcher } from 'undici';
import type { AttemptOutcome } from '../proxy/forward.js';
import type { UpstreamPools } from '../proxy/pools.js';
import type { ServerEndpoint } from '../store/store.js';

/** A prefill answer is one token plus transfer metadata; anything bigger is not a prefill answer. */
export const MAX_PREFILL_RESPONSE_BYTES = 1024 * 1024;

export interface PrefillLegRequest {
  path: string;
  method: string;
  headers: Record<string, string | string[]>;
  body: Buffer;
  /** Parse the body as JSON (NIXL/Mooncake); otherwise it is read and dropped. */
  parse: boolean;
  timeoutMs: number;
  signal: AbortSignal;
}

export interface PrefillLegResult {
  outcome: AttemptOutcome | 'bad_response';
  status?: number;
  detail?: string;
  /** Parsed JSON when asked for and the answer was 2xx. */
  json?: unknown;
  /** A 4xx answer is relayed to the client as is (the request itself is at fault, on any pair). */
  errorBody?: Buffer;
  errorContentType?: string;
  /** ms */
  durationMs: number;
}

export async function sendPrefill(
  pools: UpstreamPools,
  ep: ServerEndpoint,
  r: PrefillLegRequest,
): Promise<PrefillLegResult> {
  const t0 = performance.now();
  const ac = new AbortController();
  const onAbort = () => ac.abort();
  r.signal.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer =
    r.timeoutMs > 0
      ? setTimeout(() => {
          timedOut = true;
          ac.abort();
        }, r.timeoutMs)
      : undefined;
  const done = (x: Omit<PrefillLegResult, 'durationMs'>): PrefillLegResult => ({
    ...x,
    durationMs: performance.now() - t0,
  });
  const failure = (e: unknown, status?: number): PrefillLegResult => {
    if (r.signal.aborted) return done({ outcome: 'aborted', status, detail: 'cancelled' });
    if (timedOut)
      return done({
        outcome: 'timeout',
        status,
        detail: `${ep.state.key} did not answer within ${r.timeoutMs} ms`,
      });
    const err = e as { code?: string; message?: string; name?: string };
    return done({
      outcome: 'connect_error',
      status,
      detail: `${ep.state.key}: ${err.code ?? err.name ?? 'error'}: ${err.message ?? ''}`,
    });
  };
  try {
    let res: Dispatcher.ResponseData;
    try {
      res = await pools.get(ep.origin).request({
        path: r.path,
        method: r.method as Dispatcher.HttpMethod,
        headers: r.headers,
        body: r.body,
        signal: ac.signal,
      });
    } catch (e) {
      return failure(e);
    }
    let body: Buffer;
    try {
      body = await readBounded(res.body, MAX_PREFILL_RESPONSE_BYTES);
    } catch (e) {
      if ((e as { code?: string }).code === 'PD_PREFILL_TOO_LARGE')
        return done({
          outcome: 'bad_response',
          status: res.statusCode,
          detail: `${ep.state.key}: ${(e as Error).message}`,
        });
      return failure(e, res.statusCode);
    }
    const status = res.statusCode;
    if (status >= 500) return done({ outcome: 'server_error', status, detail: `${ep.state.key} answered ${status}` });
    if (status >= 400) {
      const ct = res.headers['content-type'];
      return done({
        outcome: 'client_error',
        status,
        detail: `${ep.state.key} answered ${status}`,
        errorBody: body,
        errorContentType: Array.isArray(ct) ? ct[0] : ct,
      });
    }
    if (status < 200 || status >= 300)
      return done({ outcome: 'bad_response', status, detail: `${ep.state.key} answered ${status}` });
    if (!r.parse) return done({ outcome: 'ok', status });
    try {
      return done({ outcome: 'ok', status, json: JSON.parse(body.toString('utf8')) });
    } catch {
      return done({
        outcome: 'bad_response',
        status,
        detail: `${ep.state.key} answered ${status} with a body that is not JSON`,
      });
    }
  } finally {
    clearTimeout(timer);
    r.signal.removeEventListener('abort', onAbort);
  }
}

async function readBounded(body: Dispatcher.ResponseData['body'], max: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of body) {
    const chunk = c as Buffer;
    n += chunk.length;
    if (n > max) {
      body.destroy();
      throw Object.assign(new Error(`prefill response larger than ${max} bytes`), { code: 'PD_PREFILL_TOO_LARGE' });
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
