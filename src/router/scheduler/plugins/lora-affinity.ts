// lora-affinity (filter): for requests that matched a ModelRoute through loraAdapters, keep endpoints whose /v1/models
// lists the adapter. Base-model requests pass through unchanged: the engine lists its served model name, which need not
// equal the route's virtual modelName (upstream applies the check to every request, which is why it ships disabled).
import type { PluginDefinition } from '../plugin.js';

export const loraAffinityPlugin: PluginDefinition = {
  name: 'lora-affinity',
  roles: ['filter'],
  create() {
    return {
      name: 'lora-affinity',
      filter: (ctx, eps) => (ctx.isLora ? eps.filter((e) => e.state.models.has(ctx.model)) : [...eps]),
    };
  },
};
