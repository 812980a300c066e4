// gpu-usage (score): prefer endpoints with free KV cache, (1 − usage) × 100.
import type { PluginDefinition } from '../plugin.js';

export const gpuUsagePlugin: PluginDefinition = {
  name: 'gpu-usage',
  roles: ['score'],
  create() {
    return {
      name: 'gpu-usage',
      score: (_ctx, eps) =>
        eps.map((e) => Math.round((1 - Math.min(1, Math.max(0, e.state.metrics.kvCacheUsage))) * 100)),
    };
  },
};
