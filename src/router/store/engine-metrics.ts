// Turns an engine's /metrics samples into the scheduler's view (reference §4.1): three gauges (last series wins,
// missing = 0) and TTFT/TPOT as last-interval averages computed from histogram sum/count deltas.

import { parsePrometheusText, type Sample } from '../../promtext/index.js';
import type { EngineMetrics } from './endpoint-state.js';
import type { EngineKind } from './resources.js';

interface Names {
  kv: string;
  waiting: string;
  running: string;
  tpot: string;
  ttft: string;
  /** Prefix-cache lookups and hits (tokens), cumulative counters; the console shows their ratio. */
  prefixQueries: string;
  prefixHits: string;
}

export const ENGINE_METRIC_NAMES: Record<EngineKind, Names> = {
  vLLM: {
    kv: 'vllm:kv_cache_usage_perc',
    waiting: 'vllm:num_requests_waiting',
    running: 'vllm:num_requests_running',
    tpot: 'vllm:inter_token_latency_seconds',
    ttft: 'vllm:time_to_first_token_seconds',
    prefixQueries: 'vllm:prefix_cache_queries_total',
    prefixHits: 'vllm:prefix_cache_hits_total',
  },
  SGLang: {
    kv: 'sglang:token_usage',
    waiting: 'sglang:num_queue_reqs',
    running: 'sglang:num_running_reqs',
    tpot: 'sglang:inter_token_latency_seconds',
    ttft: 'sglang:time_to_first_token_seconds',
    prefixQueries: 'sglang:prefix_cache_queries_total',
    prefixHits: 'sglang:prefix_cache_hits_total',
  },
};

// Older vLLM releases export the KV gauge under this name.
const VLLM_LEGACY_KV = 'vllm:gpu_cache_usage_perc';

export interface HistogramTotals {
  sum: number;
  count: number;
}

export interface HistogramMemory {
  ttft?: HistogramTotals;
  tpot?: HistogramTotals;
}

/** Cumulative prefix-cache counters of one engine (tokens looked up, tokens found), when it exports them. */
export interface PrefixCacheTotals {
  queries: number;
  hits: number;
}

/** Average of the samples observed since `prev`; 0 when nothing new or no previous observation. */
export function intervalAverage(prev: HistogramTotals | undefined, now: HistogramTotals | undefined): number {
  if (!now || !prev) return 0;
  if (now.count < prev.count || now.sum < prev.sum) return now.count > 0 ? now.sum / now.count : 0;
  const dc = now.count - prev.count;
  return dc > 0 ? (now.sum - prev.sum) / dc : 0;
}

function lastGauge(samples: Sample[], name: string): number | undefined {
  let v: number | undefined;
  for (const s of samples) if (s.name === name) v = s.value;
  return v;
}

function histogramTotals(samples: Sample[], base: string): HistogramTotals | undefined {
  let sum = 0;
  let count = 0;
  let seen = false;
  for (const s of samples) {
    if (s.name === `${base}_sum`) {
      sum += s.value;
      seen = true;
    } else if (s.name === `${base}_count`) {
      count += s.value;
      seen = true;
    }
  }
  return seen ? { sum, count } : undefined;
}

/**
 * Next metrics for an endpoint from one scrape. TTFT/TPOT keep their previous non-zero values when the interval had
 * no new samples (upstream behaviour), so an idle engine keeps its last known latency.
 */
export function updateEngineMetrics(
  engine: EngineKind,
  text: string,
  prev: EngineMetrics,
  memory: HistogramMemory,
): { metrics: EngineMetrics; memory: HistogramMemory; prefixCache?: PrefixCacheTotals } {
  const n = ENGINE_METRIC_NAMES[engine];
  const wanted = new Set([n.kv, n.waiting, n.running, VLLM_LEGACY_KV, n.prefixQueries, n.prefixHits]);
  for (const h of [n.ttft, n.tpot]) {
    wanted.add(`${h}_sum`);
    wanted.add(`${h}_count`);
  }
  const samples = parsePrometheusText(text, (name) => wanted.has(name));
  const kv = lastGauge(samples, n.kv) ?? (engine === 'vLLM' ? lastGauge(samples, VLLM_LEGACY_KV) : undefined);
  const ttftNow = histogramTotals(samples, n.ttft);
  const tpotNow = histogramTotals(samples, n.tpot);
  const ttft = intervalAverage(memory.ttft, ttftNow);
  const tpot = intervalAverage(memory.tpot, tpotNow);
  const queries = lastGauge(samples, n.prefixQueries);
  const hits = lastGauge(samples, n.prefixHits);
  return {
    prefixCache: queries === undefined ? undefined : { queries, hits: hits ?? 0 },
    metrics: {
      kvCacheUsage: kv ?? 0,
      waiting: lastGauge(samples, n.waiting) ?? 0,
      running: lastGauge(samples, n.running) ?? 0,
      ttft: ttft > 0 ? ttft : prev.ttft,
      tpot: tpot > 0 ? tpot : prev.tpot,
    },
    memory: { ttft: ttftNow ?? memory.ttft, tpot: tpotNow ?? memory.tpot },
  };
}
