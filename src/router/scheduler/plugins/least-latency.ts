// least-latency (score), reference §3.3: blend of normalised TTFT and TPOT, α = TTFTTPOTWeightFactor.
// Endpoints without measurements (ttft or tpot ≤ 0) get a neutral 50 and are left out of min/max.
import type { PluginDefinition } from '../plugin.js';

export const leastLatencyPlugin: PluginDefinition = {
  name: 'least-latency',
  roles: ['score'],
  create(args) {
    const raw = args.TTFTTPOTWeightFactor;
    const alpha = raw === undefined ? 0.5 : Number(raw);
    if (!Number.isFinite(alpha) || alpha < 0 || alpha > 1) {
      throw new Error(`least-latency: TTFTTPOTWeightFactor must be a number in [0, 1], got ${JSON.stringify(raw)}`);
    }
    return {
      name: 'least-latency',
      score(_ctx, eps) {
        let minT = Infinity;
        let maxT = -Infinity;
        let minP = Infinity;
        let maxP = -Infinity;
        for (const e of eps) {
          const { ttft, tpot } = e.state.metrics;
          if (ttft <= 0 || tpot <= 0) continue;
          minT = Math.min(minT, ttft);
          maxT = Math.max(maxT, ttft);
          minP = Math.min(minP, tpot);
          maxP = Math.max(maxP, tpot);
        }
        return eps.map((e) => {
          const { ttft, tpot } = e.state.metrics;
          if (ttft <= 0 || tpot <= 0) return 50;
          const sT = maxT === minT ? 100 : (100 * (maxT - ttft)) / (maxT - minT);
          const sP = maxP === minP ? 100 : (100 * (maxP - tpot)) / (maxP - minP);
          return Math.trunc(alpha * sT + (1 - alpha) * sP);
        });
      },
    };
  },
};
