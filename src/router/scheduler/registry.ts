// Upstream plugin names → implementations. New plugins (kvcache-aware, latency predictor, …) register here.

import type { PluginDefinition } from './plugin.js';
import { gpuUsagePlugin } from './plugins/gpu-usage.js';
import { kvcacheAwarePlugin } from './plugins/kvcache-aware.js';
import { latencyPredictorPlugin } from './plugins/latency-predictor.js';
import { leastLatencyPlugin } from './plugins/least-latency.js';
import { leastRequestPlugin } from './plugins/least-request.js';
import { loraAffinityPlugin } from './plugins/lora-affinity.js';
import { outlierDetectionPlugin } from './plugins/outlier-detection.js';
import { precisePrefixCachePlugin } from './plugins/precise-prefix-cache.js';
import { prefixCachePlugin } from './plugins/prefix-cache.js';
import { randomPlugin } from './plugins/random.js';
import { sessionAffinityPlugin } from './plugins/session-affinity.js';

export class PluginRegistry {
  private readonly defs = new Map<string, PluginDefinition>();

  constructor(defs: PluginDefinition[] = BUILTIN_PLUGINS) {
    for (const d of defs) this.register(d);
  }

  register(def: PluginDefinition): void {
    if (this.defs.has(def.name)) throw new Error(`scheduler plugin "${def.name}" registered twice`);
    this.defs.set(def.name, def);
  }

  get(name: string): PluginDefinition | undefined {
    return this.defs.get(name);
  }

  names(role?: 'filter' | 'score'): string[] {
    return [...this.defs.values()]
      .filter((d) => !role || d.roles.includes(role))
      .map((d) => d.name)
      .sort();
  }
}

export const BUILTIN_PLUGINS: PluginDefinition[] = [
  randomPlugin,
  leastRequestPlugin,
  leastLatencyPlugin,
  gpuUsagePlugin,
  prefixCachePlugin,
  loraAffinityPlugin,
  precisePrefixCachePlugin,
  latencyPredictorPlugin,
  kvcacheAwarePlugin,
  outlierDetectionPlugin,
  sessionAffinityPlugin,
];
