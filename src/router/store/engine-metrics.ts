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
}

export const ENGINE_METRIC_NAMES: Record<EngineKind, Names> = {
  vLLM: {
    kv: 'vllm:kv_cache_usage_perc',
    waiting: 'vllm:num_requests_waiting',
    running: 'vllm:num_requests_running',
    tpot: 'vllm:inter_token_latency_seconds',
    ttft: 'vllm:time_to_first_token_seconds',
  },
  SGLang: {
    kv: 'sglang:token_usage',
    waiting: 'sglang:num_queue_reqs',
    running: 'sglang:num_running_reqs',
    tpot: 'sglang:inter_token_latency_seconds',
    ttft: 'sglang:time_to_first_token_seconds',
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
): { metrics: EngineMetrics; memory: HistogramMemory } {
  const n = ENGINE_METRIC_NAMES[engine];
  const wanted = new Set([n.kv, n.waiting, n.running, VLLM_LEGACY_KV]);
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
  return {
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
