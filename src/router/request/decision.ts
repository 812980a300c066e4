// One decision of the latency predictor (src/router/scheduler/plugins/latency-predictor.ts): every candidate's inputs
// and predicted components, in seconds. Kept on the request (RequestContext.latencyDecision) for the debug view and the
// twin's traces; declared here, below both, so the request does not import the scheduler.

/** Seconds: fixed part, waiting for queued prefill, own prefill, decode interference, backlog, and the total. */
export interface TtftParts {
  baseSec: number;
  queueSec: number;
  prefillSec: number;
  decodeSec: number;
  backlogSec: number;
  ttftSec: number;
}

export interface DecisionRecord {
  request: string;
  model: string;
  promptTokens: number;
  candidates: ({ endpoint: string; cachedTokens: number; queuedPrefillTokens: number; decoding: number } & TtftParts)[];
}
