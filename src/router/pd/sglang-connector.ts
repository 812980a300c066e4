// `sglang` connector (reference §5.4; SGLang's own mini load balancer does the same): both legs carry the same
// random `bootstrap_room` and the prefill endpoint's `bootstrap_host`/`bootstrap_port`, and are sent at once; the
// decode engine connects to the prefill engine's bootstrap server and receives the KV cache as it is produced.
import type { ServerEndpoint } from '../store/store.js';
import { type LegBodies, type PdConnector, prefillRequest } from './connector.js';

/** SGLang's default `--disaggregation-bootstrap-port`. */
export const DEFAULT_BOOTSTRAP_PORT = 8998;
/** Pod label that overrides the bootstrap port of a prefill endpoint (SGLang started with another port). */
export const BOOTSTRAP_PORT_LABEL = 'kthena.io/sglang-bootstrap-port';

export function bootstrapPort(ep: ServerEndpoint): number {
  const v = Number(ep.state.labels[BOOTSTRAP_PORT_LABEL]);
  return Number.isInteger(v) && v > 0 && v < 65536 ? v : DEFAULT_BOOTSTRAP_PORT;
}

/**
 * A fresh room per attempt. Upstream draws an int63; JSON numbers above 2^53 lose precision in JavaScript clients,
 * so we draw 53 random bits (collisions between concurrent requests stay negligible).
 */
export function newRoom(rand: () => number): number {
  const hi = Math.floor(rand() * 2 ** 21);
  const lo = Math.floor(rand() * 2 ** 32);
  return hi * 2 ** 32 + lo;
}

export function sglangConnector(rand: () => number): PdConnector {
  return {
    name: 'sglang',
    concurrent: true,
    readsPrefillResponse: false,
    shape(request, pair): LegBodies {
      const bootstrap = {
        bootstrap_host: pair.prefill.state.address,
        bootstrap_port: bootstrapPort(pair.prefill),
        bootstrap_room: newRoom(rand),
      };
      return {
        prefill: { ...prefillRequest(request), ...bootstrap },
        decode: () => ({ ...request, ...bootstrap }),
      };
    },
  };
}
