// Pair selection (reference §5.3) on the shared scheduler framework: decode endpoints are ranked first (filters, then
// the load scorers: a decode pod receives the KV cache, so prompt-cache affinity says nothing about it), then, for
// each decode endpoint in rank order, the prefill endpoints of its own group are ranked with every configured plugin
// (load and prefix cache). The sequence is lazy and skips endpoints that failed earlier in the same request, so a dead
// prefill pod is replaced by the next prefill of the group before the router moves to another decode pod.
import { errors, RouterError } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import { Scheduler } from '../scheduler/framework.js';
import type { PdTopology } from '../store/pd-topology.js';
import type { ServerEndpoint } from '../store/store.js';
import type { PdPair } from './connector.js';

/** Scorers about where the prompt's KV blocks already are: they rank prefill endpoints only. */
export const CACHE_AFFINITY_PLUGINS: ReadonlySet<string> = new Set([
  'prefix-cache',
  'kvcache-aware',
  'precise-prefix-cache',
  'latency-predictor',
]);

export interface RankedDecodes {
  decodes: ServerEndpoint[];
  scores: { endpoint: string; total: number; perPlugin: Record<string, number> }[];
}

export class PairPlanner {
  readonly decodeScheduler: Scheduler;

  constructor(readonly scheduler: Scheduler) {
    this.decodeScheduler = new Scheduler({
      ...scheduler.opts,
      scorers: scheduler.opts.scorers.filter((s) => !CACHE_AFFINITY_PLUGINS.has(s.plugin.name)),
    });
  }

  /** Runs every plugin's per-request preparation once, over all PD endpoints. */
  async prepare(ctx: RequestContext, topo: PdTopology): Promise<void> {
    const all = [...topo.decode, ...topo.prefill];
    for (const p of this.scheduler.plugins) {
      if (!p.preSchedule) continue;
      const r = p.preSchedule(ctx, all);
      if (r) await r;
    }
  }

  /** Decode endpoints best first (top-N); throws a scheduling error when none is usable. */
  rankDecodes(ctx: RequestContext, topo: PdTopology): RankedDecodes {
    if (topo.decode.length === 0) throw errors.schedulingFailed('no decode pod found');
    const r = this.decodeScheduler.rank(ctx, topo.decode);
    return {
      decodes: r.ranked,
      get scores() {
        return r.scores;
      },
    };
  }

  /** Prefill endpoints of one group, best first; empty when the group has none or the filters removed them all. */
  rankPrefills(ctx: RequestContext, members: readonly ServerEndpoint[]): ServerEndpoint[] {
    if (members.length === 0) return [];
    try {
      return this.scheduler.rank(ctx, members).ranked;
    } catch (e) {
      if (e instanceof RouterError) return [];
      throw e;
    }
  }
}

/**
 * Candidate pairs in trial order. `failed` may grow while iterating (the caller marks the endpoint it blames):
 * a failed decode ends its group's pairs, a failed prefill is skipped for every later decode.
 */
export function* pairSequence(
  decodes: readonly ServerEndpoint[],
  prefillsFor: (decode: ServerEndpoint) => readonly ServerEndpoint[],
  failed: ReadonlySet<string>,
): Generator<PdPair> {
  for (const decode of decodes) {
    if (failed.has(decode.state.key)) continue;
    for (const prefill of prefillsFor(decode)) {
      if (failed.has(decode.state.key)) break;
      if (failed.has(prefill.state.key)) continue;
      yield { prefill, decode };
    }
  }
}

/** Memoises prefill rankings per group for one request. */
export function prefillsByGroup(
  planner: PairPlanner,
  ctx: RequestContext,
  topo: PdTopology,
): (decode: ServerEndpoint) => readonly ServerEndpoint[] {
  const memo = new Map<string, ServerEndpoint[]>();
  return (decode) => {
    const group = topo.groupOf.get(decode.state.key);
    if (group === undefined) return [];
    let ranked = memo.get(group);
    if (!ranked) {
      ranked = planner.rankPrefills(ctx, topo.groups.get(group)?.prefill ?? []);
      memo.set(group, ranked);
    }
    return ranked;
  };
}
