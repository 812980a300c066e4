// The KV connector contract (reference §5.2, §5.4): how the two legs of one prefill/decode attempt are shaped.
// One connector per file; `connectorFor` picks one from the ModelServer the way upstream does.
import type { ModelServer } from '../store/resources.js';
import type { ServerEndpoint } from '../store/store.js';

export type ConnectorName = 'http' | 'lmcache' | 'nixl' | 'mooncake' | 'sglang';

export interface PdPair {
  prefill: ServerEndpoint;
  decode: ServerEndpoint;
}

/** Request bodies of one attempt on one pair. */
export interface LegBodies {
  prefill: Record<string, unknown>;
  /**
   * Builds the decode body. Sequential connectors that need the prefill's answer get its parsed JSON; a missing or
   * unusable answer throws BadPrefillResponse (the pair fails, the router fails over or answers 502).
   */
  decode(prefillResponse: unknown): Record<string, unknown>;
}

export interface PdConnector {
  readonly name: ConnectorName;
  /** Both legs are sent at once (SGLang bootstrap); otherwise prefill completes before decode starts. */
  readonly concurrent: boolean;
  /** The prefill response body is parsed and handed to `decode` (NIXL/Mooncake kv_transfer_params). */
  readonly readsPrefillResponse: boolean;
  /** `request` is the upstream request (model rewritten, usage injected); it is not modified. */
  shape(request: Readonly<Record<string, unknown>>, pair: PdPair): LegBodies;
}

export class BadPrefillResponse extends Error {
  override name = 'BadPrefillResponse';
}

/** Fields the router sets for the KV hand-off; a client never chooses them (a forged bootstrap_host would point a
 * decode engine at any host, forged kv_transfer_params at any engine's blocks). */
export const TRANSPORT_FIELDS = ['kv_transfer_params', 'bootstrap_host', 'bootstrap_port', 'bootstrap_room'] as const;

/** The client's request without router-owned transport fields (a copy when there is anything to remove). */
export function withoutTransportFields(request: Record<string, unknown>): Record<string, unknown> {
  if (!TRANSPORT_FIELDS.some((k) => k in request)) return request;
  const out = { ...request };
  for (const k of TRANSPORT_FIELDS) delete out[k];
  return out;
}

/**
 * The prefill leg generates exactly one token and never streams: its only job is to fill the KV cache.
 * Upstream deletes stream/stream_options and sets max_tokens (and max_completion_tokens if present) to 1; we also
 * drop min_tokens (an engine rejects min_tokens > max_tokens) and cap max_output_tokens (Responses API).
 */
export function prefillRequest(request: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...request };
  delete out.stream;
  delete out.stream_options;
  delete out.min_tokens;
  out.max_tokens = 1;
  if ('max_completion_tokens' in out) out.max_completion_tokens = 1;
  if ('max_output_tokens' in out) out.max_output_tokens = 1;
  return out;
}

export type ConnectorFactory = (server: ModelServer, deps: { rand: () => number }) => PdConnector;

/**
 * `kvConnector.type` when set (`http`/`lmcache` sequential, `nixl`/`mooncake` with kv_transfer_params, `sglang`);
 * unset → `sglang` for SGLang engines, else `http`. Unknown values fall back to `http`, as upstream does.
 */
export function connectorName(server: ModelServer): ConnectorName {
  const t = server.spec.kvConnector?.type?.toLowerCase();
  if (t === 'http' || t === 'lmcache' || t === 'nixl' || t === 'mooncake' || t === 'sglang') return t;
  if (t === undefined && server.spec.inferenceEngine === 'SGLang') return 'sglang';
  return 'http';
}
