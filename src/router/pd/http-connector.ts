// `http` and `lmcache` connectors (reference §5.4): prefill first (one token, not streamed), then decode with the
// original parameters. No KV parameters travel through the router: the engines share KV through their own store
// (e.g. an LMCache server), so the decode leg is the client's request unchanged.
import { type ConnectorName, type LegBodies, type PdConnector, prefillRequest } from './connector.js';

export function httpConnector(name: Extract<ConnectorName, 'http' | 'lmcache'> = 'http'): PdConnector {
  return {
    name,
    concurrent: false,
    readsPrefillResponse: false,
    shape(request): LegBodies {
      return { prefill: prefillRequest(request), decode: () => ({ ...request }) };
    },
  };
}
