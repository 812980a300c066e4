// The oracle strategy: the practical ceiling of a greedy scheduler, the benchmark's yardstick for "≥ 90 % of the
// oracle". It knows everything the default scorer (latency-predictor) knows and more, and sees it without delay:
//   - each engine's TRUE state: the prompt's longest cached prefix, the uncached prefill work waiting or running, the
//     sequences in decode (the twin reads the engine cores directly; the live benchmark asks each engine host's side
//     port, bench/scheduling/oracle-plugin.ts);
//   - the router's own in-flight view: requests sent there with no first token yet (still in transit, or queued),
//     whose prefixes will be cached before this request can run;
//   - the engines' real cost coefficients (no online learning, no prior).
// It scores with the default's objective (placementCosts: predicted TTFT plus the delay an avoidable miss imposes on the sequences
// decoding there) computed from those true inputs, and prefers the lowest; equal costs go to the endpoint with fewer
// requests in flight. The pure parts are here so both oracles share them.
import { coefficients, type Engine, type EngineRequest, type Profile } from '../engine/index.js';
import {
  type Coefficients,
  type PluginDefinition,
  placementCosts,
  predictTtft,
  type RequestContext,
  type SchedulerPlugin,
  scoresWithLoadTieBreak,
} from '../router/index.js';
import { blockHashes, localTokens } from '../tokens/index.js';

/** One engine's true state as the oracle reads it. */
export interface Truth {
  cachedBlocks: number;
  blockSize: number;
  /** uncached prompt tokens of waiting requests plus the rest of running prefills */
  queuedTokens: number;
  decoding: number;
  /** KV tokens the decoding sequences read at every step (their prompts plus what they generated so far) */
  decodeKvTokens?: number;
}

export interface Pending {
  hashes: number[];
  uncached: number;
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

const promptHashes = new WeakMap<EngineRequest, number[]>();

/** Block hashes of a request's prompt (memoised: a waiting request is looked at by many decisions). */
function hashesOfPrompt(r: EngineRequest, blockSize: number): number[] {
  let h = promptHashes.get(r);
  if (!h) {
    h = blockHashes(r.tokens.slice(0, r.numPromptTokens), blockSize, r.extraKey);
    promptHashes.set(r, h);
  }
  return h;
}

/**
 * The engine's true state for a prompt's block hashes, read from its core. A waiting request's prefill work is what it
 * will really compute: the prompt minus the leading blocks that will be cached by the time it runs — cached now, or
 * filled by a request ahead of it (running, or earlier in the queue), exactly as the engine's own scheduling step
 * shares blocks within a step.
 */
export function engineTruth(engine: Engine, hashes: readonly number[]): Truth {
  const core = engine.core;
  const bs = core.kv.blockSize;
  let cachedBlocks = 0;
  for (const h of hashes) {
    if (!core.kv.hasHash(h)) break;
    cachedBlocks++;
  }
  const ahead = new Set<number>();
  let queuedTokens = 0;
  let decoding = 0;
  let decodeKvTokens = 0;
  for (const r of core.running) {
    if (r.numComputedTokens < r.numPromptTokens) {
      queuedTokens += r.numPromptTokens - r.numComputedTokens;
      for (const h of hashesOfPrompt(r, bs)) ahead.add(h);
    } else {
      decoding++;
      decodeKvTokens += r.numPromptTokens + r.numOutputTokens;
    }
  }
  for (const r of core.waiting) {
    const hs = hashesOfPrompt(r, bs);
    let lead = 0;
    while (lead < hs.length && (core.kv.hasHash(hs[lead]) || ahead.has(hs[lead]))) lead++;
    const done = Math.max(r.numComputedTokens, Math.min(lead * bs, r.numPromptTokens - 1));
    queuedTokens += Math.max(0, r.numPromptTokens - done);
    for (const h of hs) ahead.add(h);
  }
  // Blocks the request will share with work ahead of it count as cached too.
  let shared = cachedBlocks;
  while (shared < hashes.length && ahead.has(hashes[shared])) shared++;
  return { cachedBlocks: shared, blockSize: bs, queuedTokens, decoding, decodeKvTokens };
}

/** The step coefficients the oracle scores with: the TTFT model's, plus the KV read each decode step pays. */
export interface OracleCoefficients extends Coefficients {
  kvReadSecPerToken: number;
}

/** A profile's true step coefficients. */
export function trueCoefficients(profile: Profile): OracleCoefficients {
  const c = coefficients(profile);
  return {
    baseSec: c.fixedSec,
    secPerToken: c.prefillSecPerToken,
    secPerDecodingSeq: c.perSeqSec,
    kvReadSecPerToken: c.kvReadSecPerToken,
  };
}

/**
 * Seconds of decode that placing a request on an engine adds, beyond what every engine would charge: its own steps
 * there read the KV of the sequences already decoding (K tokens, D sequences), and each of those D sequences waits,
 * at every step they share, for this request's KV read and per-sequence work — over about `outputTokens` steps. This
 * is what a TTFT-only objective misses when it stacks decoding sequences on the engine that holds a prefix: TTFT
 * stays low while everyone's decode slows down (multi-turn at full size: the oracle without this term lost 8 % of
 * default's throughput by putting two tenants on one engine).
 */
export function decodeCost(c: OracleCoefficients, t: Truth, contextTokens: number, outputTokens: number): number {
  const d = Math.max(0, t.decoding);
  const k = Math.max(0, t.decodeKvTokens ?? 0);
  const perStepForOthers = c.kvReadSecPerToken * contextTokens + c.secPerDecodingSeq;
  return outputTokens * (c.kvReadSecPerToken * k + c.secPerDecodingSeq * d + d * perStepForOthers);
}

/** The request's output budget (`max_tokens` / `max_completion_tokens`), 0 when it sets none. */
function outputBudget(body: Record<string, unknown>): number {
  const v = body.max_completion_tokens ?? body.max_tokens;
  return typeof v === 'number' && Number.isFinite(v) && v > 0 ? v : 0;
}

interface View {
  origins: string[];
  truths: (Truth | undefined)[];
  tokens: number;
  hashes: number[];
}

/**
 * The oracle plugin over a source of truth: `truthOf(endpointKey, hashes)` (synchronous in the twin, an HTTP call in
 * the live benchmark).
 */
export function oraclePluginOver(
  coeff: OracleCoefficients,
  blockSize: number,
  truthOf: (ep: { key: string; origin: string }, hashes: number[]) => Truth | undefined | Promise<Truth | undefined>,
): PluginDefinition {
  return {
    name: 'oracle',
    roles: ['score'],
    create(): SchedulerPlugin {
      /** endpoint origin → request id → what it will prefill there */
      const pending = new Map<string, Map<string, Pending>>();
      const drop = (id: string) => {
        for (const m of pending.values()) m.delete(id);
      };
      const inputs = (view: View, origin: string, i: number) => {
        const t = view.truths[i];
        return t ? oracleInputs(t, view.tokens, view.hashes, pending.get(origin)) : undefined;
      };
      const views = new WeakMap<RequestContext, View>();
      const viewOf = (ctx: RequestContext) => views.get(ctx);
      return {
        name: 'oracle',
        async preSchedule(ctx, eps) {
          const tokens = localTokens(ctx.body);
          const hashes = blockHashes(tokens, blockSize);
          const truths = await Promise.all(
            eps.map(async (ep) => await truthOf({ key: ep.state.key, origin: ep.origin }, hashes)),
          );
          views.set(ctx, {
            origins: eps.map((e) => e.origin),
            truths,
            tokens: tokens.length,
            hashes,
          } satisfies View);
        },
        score(ctx, eps) {
          const view = viewOf(ctx)!;
          const xs = eps.map((ep, i) => inputs(view, ep.origin, i));
          const known = xs.flatMap((x) => (x ? [x] : []));
          const costs = placementCosts(
            known.map((x) => predictTtft(coeff, x)),
            known,
          );
          const out = outputBudget(ctx.body);
          const context = view.tokens + out / 2;
          let k = 0;
          return scoresWithLoadTieBreak(
            xs.map((x, i) =>
              x ? costs[k++] + decodeCost(coeff, view.truths[i]!, context, out) : Number.POSITIVE_INFINITY,
            ),
            eps.map((ep) => ep.state.inflight),
            coeff.baseSec,
          );
        },
        onDispatch(ctx, ep) {
          const view = viewOf(ctx);
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
