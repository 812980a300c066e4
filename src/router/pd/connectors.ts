// Registry: connector name → implementation (one file each).
import type { ModelServer } from '../store/resources.js';
import { connectorName, type PdConnector } from './connector.js';
import { httpConnector } from './http-connector.js';
import { nixlConnector } from './nixl-connector.js';
import { sglangConnector } from './sglang-connector.js';

export function connectorFor(server: ModelServer, rand: () => number): PdConnector {
  const name = connectorName(server);
  switch (name) {
    case 'http':
    case 'lmcache':
      return httpConnector(name);
    case 'nixl':
    case 'mooncake':
      return nixlConnector(name);
    case 'sglang':
      return sglangConnector(rand);
  }
}
