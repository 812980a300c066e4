// The oracle strategy of the live benchmark: the twin's oracle (src/twin/oracle.ts — objective, router-side pending
// view, true coefficients) with the engines' true state read over each engine host's side port (engine-host.ts). The
// HTTP round trip per endpoint per request is the live oracle's handicap; the twin's oracle reads the cores directly.
import { request } from 'undici';
import { getProfile } from '../../src/engine/index.js';
import type { PluginDefinition } from '../../src/router/index.js';
import { oraclePluginOver, type Truth, trueCoefficients } from '../../src/twin/index.js';

async function fetchTruth(url: string, hashes: number[]): Promise<Truth | undefined> {
  // One retry: under heavy host load a kept-alive connection can be closed by the server just as it is reused
  // ("other side closed"); that is the harness's problem, not a reason to fail the request.
  for (let attempt = 0; ; attempt++) {
    try {
      const res = await request(`${url}/oracle`, { method: 'POST', body: JSON.stringify({ hashes }) });
      return (await res.body.json()) as Truth;
    } catch (err) {
      if (attempt >= 1) return undefined;
      void err;
    }
  }
}

export function oraclePlugin(oracles: Record<string, string>, profile: string, blockSize: number): PluginDefinition {
  return oraclePluginOver(trueCoefficients(getProfile(profile)), blockSize, (ep, hashes) => {
    const url = oracles[ep.origin];
    return url ? fetchTruth(url, hashes) : undefined;
  });
}
