// The oracle strategy (benchmark only): the practical ceiling for a real scheduler. It combines two views no real
// router has together:
//   - the simulated engines' TRUE state, read over the engine host's oracle port: which blocks are cached, the
//     uncached prefill work waiting or running, the sequences in decode;
//   - the router's own in-flight view: requests it has sent that have not produced a first byte yet. Without it a
//     burst sees the same "empty" engines (requests in transit, or waiting behind a long step, are not in any
//     engine state yet) and piles onto one replica.
// It predicts TTFT with the engine's own cost coefficients (same objective as latency-predictor) and prefers the
// lowest; equal predictions go to the endpoint with fewer requests in flight.
import { request } from 'undici';
import { coefficients } from '../../src/engine/cost-model.js';
import { getProfile } from '../../src/engine/profiles.js';
import { type Coefficients, predictTtft, scoresWithLoadTieBreak } from '../../src/router/kvindex/latency-model.js';
import type { PluginDefinition } from '../../src/router/scheduler/plugin.js';
import { blockHashes, localTokens } from '../../src/tokens/index.js';

interface Truth {
  cachedBlocks: number;
  blockSize: number;
  queuedTokens: number;
  decoding: number;
}

interface Pending {
  hashes: number[];
  uncached: number;
}

interface OracleView {
  origins: string[];
  truths: (Truth | undefined)[];
  tokens: number;
  hashes: number[];
}

/** Leading blocks `hashes` shares with any of the pending requests' hashes. */
export function pendingPrefixBlocks(hashes: readonly number[], pending: Iterable<Pending>): number {
  let best = 0;
  for (const p of pending) {
    let i = 0;
    const n = Math.min(hashes.length, p.hashes.length);
    while (i < n && hashes[i] === p.hashes[i]) i++;
    if (i > best) best = i;
  }
  return best;
}

/**
 * Inputs of one candidate: cached = the longer of the engine's true cached prefix and the prefix of a request
 * already sent there (its blocks are cached as soon as the engine schedules it, before this one can be);
 * queued = the larger of the engine's true uncached prefill work and the uncached work this router has in flight
 * there (the latter also counts requests still in transit).
 */
export function oracleInputs(
  truth: Truth,
  promptTokens: number,
  hashes: readonly number[],
  pending: Map<string, Pending> | undefined,
) {
  const pend = pending ? [...pending.values()] : [];
  const blocks = Math.max(truth.cachedBlocks, pendingPrefixBlocks(hashes, pend));
  const routerQueued = pend.reduce((s, p) => s + p.uncached, 0);
  return {
    promptTokens,
    cachedTokens: Math.min(blocks * truth.blockSize, Math.max(0, promptTokens - 1)),
    queuedPrefillTokens: Math.max(truth.queuedTokens, routerQueued),
    decoding: truth.decoding,
  };
}

export function oraclePlugin(oracles: Record<string, string>, profile: string, blockSize: number): PluginDefinition {
  const c = coefficients(getProfile(profile));
  const coeff: Coefficients = {
    baseSec: c.fixedSec,
    secPerToken: c.prefillSecPerToken,
    secPerDecodingSeq: c.perSeqSec,
  };
  return {
    name: 'oracle',
    roles: ['score'],
    create() {
      /** endpoint origin → request id → what it will prefill there */
      const pending = new Map<string, Map<string, Pending>>();
      const drop = (id: string) => {
        for (const m of pending.values()) m.delete(id);
      };
      const inputs = (view: OracleView, origin: string, i: number) => {
        const t = view.truths[i];
        return t ? oracleInputs(t, view.tokens, view.hashes, pending.get(origin)) : undefined;
      };
      return {
        name: 'oracle',
        async preSchedule(ctx, eps) {
          const tokens = localTokens(ctx.body);
          const hashes = blockHashes(tokens, blockSize);
          const truths = await Promise.all(
            eps.map(async (ep) => {
              const url = oracles[ep.origin];
              if (!url) return undefined;
              // One retry: under heavy host load a kept-alive connection can be closed by the server just as it
              // is reused ("other side closed"); that is the harness's problem, not a reason to fail the request.
              for (let attempt = 0; ; attempt++) {
                try {
                  const res = await request(`${url}/oracle`, { method: 'POST', body: JSON.stringify({ hashes }) });
                  return (await res.body.json()) as Truth;
                } catch (err) {
                  if (attempt >= 1) return undefined;
                  void err;
                }
              }
            }),
          );
          ctx.attrs.set('oracle', {
            origins: eps.map((e) => e.origin),
            truths,
            tokens: tokens.length,
            hashes,
          } satisfies OracleView);
        },
        score(ctx, eps) {
          const view = ctx.attrs.get('oracle') as OracleView;
          const preds = eps.map((ep, i) => {
            const x = inputs(view, ep.origin, i);
            return x ? predictTtft(coeff, x).ttftSec : Number.POSITIVE_INFINITY;
          });
          return scoresWithLoadTieBreak(
            preds,
            eps.map((ep) => ep.state.inflight),
            coeff.baseSec,
          );
        },
        onDispatch(ctx, ep) {
          const view = ctx.attrs.get('oracle') as OracleView | undefined;
          if (!view) return;
          const i = view.origins.indexOf(ep.origin);
          const x = i >= 0 ? inputs(view, ep.origin, i) : undefined;
          const p = pending.get(ep.origin) ?? new Map<string, Pending>();
          pending.set(ep.origin, p);
          p.set(ctx.id, { hashes: view.hashes, uncached: x ? x.promptTokens - x.cachedTokens : view.tokens });
        },
        postSchedule: (ctx) => drop(ctx.id),
        onRelease: (ctx) => drop(ctx.id),
        onResponseDone: (ctx) => drop(ctx.id),
      };
    },
  };
}
