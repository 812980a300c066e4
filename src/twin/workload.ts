// What the twin's virtual clients send and what they measure: the same shapes as the live load generator
// (bench/scheduling/loadgen.ts), so summaries and reports read either.

export interface TwinRequest {
  /** completions prompt */
  prompt: string;
  maxTokens: number;
  /** label for per-class reporting */
  cls: string;
  /** multi-turn: the session this turn belongs to; a turn is sent only after the session's previous turn ended */
  session?: number;
}

export interface Workload {
  requests: readonly TwinRequest[];
  /** seconds between planned arrivals (open loop); request i is planned at the sum of gaps[0..i] */
  gapsSec: readonly number[];
  /** at most this many requests in flight; later arrivals wait for a slot, in order */
  maxConcurrency: number;
}

export interface RequestResult {
  ok: boolean;
  cls: string;
  /** seconds, client-side (virtual time) */
  ttft: number;
  e2e: number;
  itls: number[];
  promptTokens: number;
  outputTokens: number;
  cachedTokens: number;
  error?: string;
}
