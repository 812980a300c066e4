// `nixl` (vLLM NixlConnector) and `mooncake` (vLLM-Ascend MooncakeConnector) connectors (reference §5.4), as vLLM's
// disaggregated proxy does it: the prefill leg asks the engine to keep the KV blocks for a remote decode
// (`do_remote_decode: true`); the engine answers with `kv_transfer_params` (engine id, block ids, host, port…), which
// the decode leg carries verbatim so the decode engine pulls the blocks instead of recomputing them.
import {
  BadPrefillResponse,
  type ConnectorName,
  type LegBodies,
  type PdConnector,
  prefillRequest,
} from './connector.js';

const PREFILL_PARAMS = Object.freeze({
  do_remote_decode: true,
  do_remote_prefill: false,
  remote_engine_id: null,
  remote_block_ids: null,
  remote_host: null,
  remote_port: null,
});

export function nixlConnector(name: Extract<ConnectorName, 'nixl' | 'mooncake'> = 'nixl'): PdConnector {
  return {
    name,
    concurrent: false,
    readsPrefillResponse: true,
    shape(request): LegBodies {
      const prefill = prefillRequest(request);
      prefill.kv_transfer_params = { ...PREFILL_PARAMS };
      return {
        prefill,
        decode(prefillResponse) {
          return { ...request, kv_transfer_params: transferParams(prefillResponse) };
        },
      };
    },
  };
}

/**
 * The prefill answer's top-level `kv_transfer_params`, checked enough that a decode engine will not reject or
 * misread it. Upstream forwards whatever it finds (null when missing), which turns a broken prefill pod into
 * confusing decode errors; here the pair fails and the router tries another one.
 */
export function transferParams(prefillResponse: unknown): Record<string, unknown> {
  if (prefillResponse === null || typeof prefillResponse !== 'object' || Array.isArray(prefillResponse))
    throw new BadPrefillResponse('prefill response is not a JSON object');
  const kvp = (prefillResponse as Record<string, unknown>).kv_transfer_params;
  if (kvp === undefined || kvp === null) throw new BadPrefillResponse('prefill response has no kv_transfer_params');
  if (typeof kvp !== 'object' || Array.isArray(kvp))
    throw new BadPrefillResponse(
      `kv_transfer_params is ${Array.isArray(kvp) ? 'an array' : typeof kvp}, not an object`,
    );
  const p = kvp as Record<string, unknown>;
  const ids = p.remote_block_ids;
  if (ids !== undefined && ids !== null && !(Array.isArray(ids) && ids.every((x) => Number.isSafeInteger(x))))
    throw new BadPrefillResponse('kv_transfer_params.remote_block_ids is not an array of integers');
  for (const k of ['do_remote_prefill', 'do_remote_decode'] as const)
    if (p[k] !== undefined && p[k] !== null && typeof p[k] !== 'boolean')
      throw new BadPrefillResponse(`kv_transfer_params.${k} is not a boolean`);
  for (const k of ['remote_engine_id', 'remote_host', 'remote_request_id'] as const)
    if (p[k] !== undefined && p[k] !== null && typeof p[k] !== 'string')
      throw new BadPrefillResponse(`kv_transfer_params.${k} is not a string`);
  const port = p.remote_port;
  if (
    port !== undefined &&
    port !== null &&
    !(Number.isInteger(port) && (port as number) > 0 && (port as number) < 65536)
  )
    throw new BadPrefillResponse('kv_transfer_params.remote_port is not a port number');
  return p;
}
