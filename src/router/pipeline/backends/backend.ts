// One interface for every kind of upstream: the aggregated path (one ModelServer, scheduler + proxy with failover),
// prefill/decode (a pair of pods, two legs) and external providers (OpenAI-compatible or translated APIs). The runner
// calls prepare (before admission: resolve the target, wait for it to be servable — scale from zero), then serve
// (after admission: schedule and forward). serve fills the exchange's result (status, usage, timings, attempts) and,
// in-cluster, the selected endpoint, and throws the RouterError to answer when nothing was relayed. Everything around
// them — in-flight gauges, admission, terminal accounting — the runner does the same way for all three.
import type { Exchange } from '../exchange.js';

export interface Backend<P = unknown> {
  /** The `backend_type` metric label. */
  readonly type: 'model_server' | 'external_provider';
  prepare(x: Exchange, target: string): Promise<P>;
  serve(x: Exchange, prepared: P): Promise<void>;
}
