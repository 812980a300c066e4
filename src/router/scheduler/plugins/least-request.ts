// least-request (filter + score), reference §3.3.
// Filter: keep endpoints whose engine-reported waiting queue is below maxWaitingRequests.
// Score: base = inflight + 100 × max(inflight − running, 0); score = (maxBase − base) / maxBase × 100 (100 if all zero).
// The second term punishes endpoints where the router has sent more than the engine is running (requests queued there).
import { type PluginDefinition, positiveArg } from '../plugin.js';

export const leastRequestPlugin: PluginDefinition = {
  name: 'least-request',
  roles: ['filter', 'score'],
  create(args) {
    const maxWaiting = positiveArg(args, 'maxWaitingRequests', 10);
    return {
      name: 'least-request',
      filter: (_ctx, eps) => eps.filter((e) => e.state.metrics.waiting < maxWaiting),
      score(_ctx, eps) {
        const bases = eps.map((e) => {
          const onFlight = e.state.inflight;
          return onFlight + 100 * Math.max(onFlight - e.state.metrics.running, 0);
        });
        const maxBase = Math.max(0, ...bases);
        if (maxBase === 0) return bases.map(() => 100);
        return bases.map((b) => Math.trunc(((maxBase - b) / maxBase) * 100));
      },
    };
  },
};
