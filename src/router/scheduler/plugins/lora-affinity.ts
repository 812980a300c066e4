// lora-affinity (filter): for requests that matched a ModelRoute through loraAdapters, keep endpoints whose /v1/models
// lists the adapter. Base-model requests pass through unchanged: the engine lists its served model name, which need not
// equal the route's virtual modelName (upstream applies the check to every request, which is why it ships disabled).
// On by default here. When no endpoint lists the adapter (no adapter data yet, or a scrape failed everywhere) the
// request passes to all of them and the engine decides, rather than failing in the router on missing data.
// An engine that answers 404 for the adapter (unloaded since the last scrape) has it struck from its list at once, so
// the next requests avoid it before the next scrape; the proxy fails that request over (LoRA hot-plug, no errors).
import type { PluginDefinition } from '../plugin.js';

export const loraAffinityPlugin: PluginDefinition = {
  name: 'lora-affinity',
  roles: ['filter'],
  create() {
    return {
      name: 'lora-affinity',
      filter(ctx, eps) {
        if (!ctx.isLora) return [...eps];
        const kept = eps.filter((e) => e.state.models.has(ctx.model));
        return kept.length > 0 ? kept : [...eps];
      },
      onAttempt(ctx, ep, rec) {
        if (!ctx.isLora || rec.status !== 404 || !ep.state.models.has(ctx.model)) return;
        const next = new Set(ep.state.models);
        next.delete(ctx.model);
        ep.state.models = next;
      },
    };
  },
};
