// latency-predictor (score), ours and the recommended default: for each candidate, predict this request's TTFT —
// waiting for the prefill work already queued there, plus prefilling the tokens it does not hold yet (from the
// precise KV index), plus decode interference — with coefficients learned online, and prefer the lowest
// (score = 100 × best / predicted). Every decision's components are kept for the debug endpoint.

import {
  type LatencyInputs,
  type LatencyPrediction,
  placementCosts,
  predictTtft,
  scoresWithLoadTieBreak,
} from '../../kvindex/latency-model.js';
import type { RequestContext } from '../../request/context.js';
import type { DecisionRecord } from '../../request/decision.js';
import type { ServerEndpoint } from '../../store/store.js';
import type { PluginDefinition, SchedulerPlugin } from '../plugin.js';
import { sharedAwareness } from './kv-shared.js';

export type { DecisionRecord };

const KEEP = 64;

export const latencyPredictorPlugin: PluginDefinition = {
  name: 'latency-predictor',
  roles: ['score'],
  create(args, deps): SchedulerPlugin {
    const kv = sharedAwareness(deps, args);
    const recent: DecisionRecord[] = [];
    const record = (ctx: RequestContext, rec: DecisionRecord) => {
      recent.push(rec);
      if (recent.length > KEEP) recent.shift();
      ctx.latencyDecision = rec;
    };
    return {
      name: 'latency-predictor',
      preSchedule: (ctx, eps) => kv.prepare(ctx, eps),
      score(ctx, eps) {
        const coeff = kv.model.coefficients;
        const inputs = kv.inputsFor(ctx, eps);
        const preds = inputs.map((x) => predictTtft(coeff, x));
        record(ctx, decisionRecord(ctx, eps, inputs, preds));
        return scoresWithLoadTieBreak(
          placementCosts(preds, inputs),
          eps.map((ep) => ep.state.inflight),
          coeff.baseSec,
        );
      },
      onDispatch: (ctx, ep) => kv.dispatch(ctx, ep),
      postSchedule: (ctx, ep) => kv.firstByte(ctx, ep),
      onRelease: (ctx, ep) => kv.release(ctx, ep),
      onResponseDone: (ctx, o) => kv.done(ctx, o.endpoint?.state.key, o.cachedTokens),
      onEndpointAdded: (s) => kv.endpointAdded(s),
      onEndpointRemoved: (s) => kv.forgetEndpoint(s.key),
      close: () => kv.close(),
      debugState: () => ({ kv: kv.debugState(), recentDecisions: recent }),
    };
  },
};

/**
 * The decision as the debug view and the twin's traces show it. Built on first read: a decision is made for every
 * request, its record is read for a few.
 */
function decisionRecord(
  ctx: RequestContext,
  eps: readonly ServerEndpoint[],
  inputs: readonly LatencyInputs[],
  preds: readonly LatencyPrediction[],
): DecisionRecord {
  let candidates: DecisionRecord['candidates'] | undefined;
  return {
    request: ctx.id,
    model: ctx.model,
    promptTokens: inputs[0]?.promptTokens ?? 0,
    get candidates() {
      candidates ??= eps.map((ep, i) => ({
        endpoint: ep.state.key,
        cachedTokens: inputs[i].cachedTokens,
        queuedPrefillTokens: inputs[i].queuedPrefillTokens,
        decoding: inputs[i].decoding,
        ...round(preds[i]),
      }));
      return candidates;
    },
  };
}

function round(p: LatencyPrediction): LatencyPrediction {
  const r = (v: number) => Math.round(v * 1e6) / 1e6;
  return {
    baseSec: r(p.baseSec),
    queueSec: r(p.queueSec),
    prefillSec: r(p.prefillSec),
    decodeSec: r(p.decodeSec),
    backlogSec: r(p.backlogSec),
    ttftSec: r(p.ttftSec),
  };
}
