// The oracle strategy (benchmark only): reads each simulated engine's true prefix-cache contents and queued prefill
// work over the engine host's oracle port, and predicts TTFT with the engine's own cost coefficients. Same objective
// as latency-predictor, perfect information: the practical ceiling for a real scheduler.
import { request } from 'undici';
import { blockHashes } from '../../src/engine/block-hash.js';
import { coefficients } from '../../src/engine/cost-model.js';
import { getProfile } from '../../src/engine/profiles.js';
import { localTokens } from '../../src/router/kvindex/awareness.js';
import { predictTtft, scoresFromPredictions } from '../../src/router/kvindex/latency-model.js';
import type { PluginDefinition } from '../../src/router/scheduler/plugin.js';

interface Truth {
  cachedBlocks: number;
  blockSize: number;
  queuedTokens: number;
  decoding: number;
}

export function oraclePlugin(oracles: Record<string, string>, profile: string, blockSize: number): PluginDefinition {
  const c = coefficients(getProfile(profile));
  return {
    name: 'oracle',
    roles: ['score'],
    create() {
      return {
        name: 'oracle',
        async preSchedule(ctx, eps) {
          const tokens = localTokens(ctx.body);
          const hashes = blockHashes(tokens, blockSize);
          const truths = await Promise.all(
            eps.map(async (ep) => {
              const url = oracles[ep.origin];
              if (!url) return undefined;
              const res = await request(`${url}/oracle`, { method: 'POST', body: JSON.stringify({ hashes }) });
              return (await res.body.json()) as Truth;
            }),
          );
          ctx.attrs.set('oracle', { truths, promptTokens: tokens.length });
        },
        score(ctx, eps) {
          const o = ctx.attrs.get('oracle') as { truths: (Truth | undefined)[]; promptTokens: number };
          const preds = eps.map((_, i) => {
            const t = o.truths[i];
            if (!t) return Number.POSITIVE_INFINITY;
            return predictTtft(
              { baseSec: c.fixedSec, secPerToken: c.prefillSecPerToken, secPerDecodingSeq: c.perSeqSec },
              {
                promptTokens: o.promptTokens,
                cachedTokens: Math.min(t.cachedBlocks * t.blockSize, o.promptTokens - 1),
                queuedPrefillTokens: t.queuedTokens,
                decoding: t.decoding,
              },
            ).ttftSec;
          });
          return scoresFromPredictions(preds);
        },
      };
    },
  };
}
