// precise-prefix-cache (score), ours: like prefix-cache, but the match comes from the engines' own KV events (and the
// router's speculative inserts), in tokens, using the engines' block hashes over token ids — not a guess from the
// prompt string. Score = 100 × cached prompt tokens / prompt tokens.

import type { PluginDefinition, SchedulerPlugin } from '../plugin.js';
import { sharedAwareness } from './kv-shared.js';

export const precisePrefixCachePlugin: PluginDefinition = {
  name: 'precise-prefix-cache',
  roles: ['score'],
  create(args, deps): SchedulerPlugin {
    const kv = sharedAwareness(deps, args);
    return {
      name: 'precise-prefix-cache',
      preSchedule: (ctx, eps) => kv.prepare(ctx, eps),
      score(ctx, eps) {
        const n = kv.tokensOf(ctx).length;
        if (n === 0) return eps.map(() => 0);
        return kv.cachedTokens(ctx, eps).map((c) => (100 * c) / n);
      },
      onDispatch: (ctx, ep) => kv.dispatch(ctx, ep),
      postSchedule: (ctx, ep) => kv.firstByte(ctx, ep),
      onRelease: (ctx, ep) => kv.release(ctx, ep),
      onResponseDone: (ctx, o) => kv.done(ctx, o.endpoint?.state.key, o.cachedTokens),
      onEndpointAdded: (s) => kv.endpointAdded(s),
      onEndpointRemoved: (s) => kv.forgetEndpoint(s.key),
      close: () => kv.close(),
      debugState: () => kv.debugState(),
    };
  },
};
