// random (score): a uniform integer 0..100 per endpoint. Only meaningful alone (the config loader enforces that).
import type { PluginDefinition } from '../plugin.js';

export const randomPlugin: PluginDefinition = {
  name: 'random',
  roles: ['score'],
  create(_args, deps) {
    return {
      name: 'random',
      score: (_ctx, eps) => eps.map(() => Math.floor(deps.rand() * 101)),
    };
  },
};
