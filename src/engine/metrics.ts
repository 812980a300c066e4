// Engine metrics with vLLM V1's names, types, labels and buckets (or SGLang's with --engine sglang).
// Sources: vllm/v1/metrics/loggers.py and sglang/srt/metrics/collector.py, as summarised in the reference notes.
import type { CoreListener, EngineCore } from './core.js';
import { type Counter, type Histogram, Registry } from './prom.js';
import type { EngineRequest } from './request.js';

export const VLLM_TTFT_BUCKETS = [
  0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0, 160.0,
  640.0, 2560.0,
];
export const VLLM_ITL_BUCKETS = [
  0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0,
];
export const VLLM_REQUEST_LATENCY_BUCKETS = [
  0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0, 480.0, 960.0, 1920.0,
  7680.0,
];
export const VLLM_ITERATION_TOKENS_BUCKETS = [1, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384];
export const SGLANG_TTFT_BUCKETS = [0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400];
export const SGLANG_ITL_BUCKETS = [
  0.002, 0.004, 0.006, 0.008, 0.01, 0.015, 0.02, 0.025, 0.03, 0.035, 0.04, 0.06, 0.08, 0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4,
  6, 8,
];
export const SGLANG_E2E_BUCKETS = [
  0.1, 0.2, 0.4, 0.6, 0.8, 1, 2, 4, 6, 8, 10, 20, 40, 60, 80, 100, 200, 400, 600, 1200, 1800, 2400,
];

/** vLLM's build_1_2_5_buckets: 1, 2, 5, 10, 20, 50, … up to max. */
export function buckets125(max: number): number[] {
  const out: number[] = [];
  for (let exp = 1; ; exp *= 10) {
    for (const m of [1, 2, 5]) {
      if (m * exp > max) return out;
      out.push(m * exp);
    }
  }
}

export interface MetricsInfo {
  engine: 'vllm' | 'sglang';
  modelName: string;
  maxModelLen: number;
  maxLoras: number;
  cacheConfig: Record<string, string>;
  /** Names of adapters of running / waiting requests (for vllm:lora_requests_info). */
  loraState: () => { running: string[]; waiting: string[] };
  /** Wall-clock seconds (the gauge's value in vLLM). */
  wallSeconds: () => number;
}

export class EngineMetrics implements CoreListener {
  readonly registry = new Registry();
  private readonly ttft: Histogram;
  private readonly itl: Histogram;
  private readonly e2e: Histogram;
  private readonly queue: Histogram | null = null;
  private readonly prefill: Histogram | null = null;
  private readonly decode: Histogram | null = null;
  private readonly inference: Histogram | null = null;
  private readonly tpot: Histogram | null = null;
  private readonly promptHist: Histogram | null = null;
  private readonly genHist: Histogram | null = null;
  private readonly iterTokens: Histogram | null = null;
  private readonly maxTokensHist: Histogram | null = null;
  private readonly promptTokens: Counter;
  private readonly genTokens: Counter;
  private readonly prefixQueries: Counter;
  private readonly prefixHits: Counter;
  private readonly preemptions: Counter;
  private readonly success: ((reason: string) => Counter) | null = null;
  private readonly numRequests: Counter | null = null;
  private readonly aborted: Counter | null = null;
  private queriesTotal = 0;
  private hitsTotal = 0;

  constructor(
    readonly core: EngineCore,
    readonly info: MetricsInfo,
  ) {
    const r = this.registry;
    if (info.engine === 'vllm') {
      const L = { model_name: info.modelName, engine: '0' };
      r.gauge(
        'vllm:num_requests_running',
        'Number of requests in model execution batches.',
        L,
        () => core.running.length,
      );
      r.gauge(
        'vllm:num_requests_waiting',
        'Number of requests waiting to be processed.',
        L,
        () => core.waiting.length + core.loading.length,
      );
      r.gauge('vllm:kv_cache_usage_perc', 'KV-cache usage. 1 means 100 percent usage.', L, () => core.kv.usage());
      this.prefixQueries = r.counter(
        'vllm:prefix_cache_queries_total',
        'Prefix cache queries, in terms of number of queried tokens.',
        L,
      );
      this.prefixHits = r.counter(
        'vllm:prefix_cache_hits_total',
        'Prefix cache hits, in terms of number of cached tokens.',
        L,
      );
      this.preemptions = r.counter('vllm:num_preemptions_total', 'Cumulative number of preemption from the engine.', L);
      this.promptTokens = r.counter('vllm:prompt_tokens_total', 'Number of prefill tokens processed.', L);
      this.genTokens = r.counter('vllm:generation_tokens_total', 'Number of generation tokens processed.', L);
      this.success = r.labelledCounter(
        'vllm:request_success_total',
        'Count of successfully processed requests.',
        L,
        'finished_reason',
      );
      const lenBuckets = buckets125(info.maxModelLen);
      this.promptHist = r.histogram('vllm:request_prompt_tokens', 'Number of prefill tokens processed.', L, lenBuckets);
      this.genHist = r.histogram(
        'vllm:request_generation_tokens',
        'Number of generation tokens processed.',
        L,
        lenBuckets,
      );
      this.maxTokensHist = r.histogram(
        'vllm:request_params_max_tokens',
        'Histogram of the max_tokens request parameter.',
        L,
        lenBuckets,
      );
      this.iterTokens = r.histogram(
        'vllm:iteration_tokens_total',
        'Histogram of number of tokens per engine_step.',
        L,
        VLLM_ITERATION_TOKENS_BUCKETS,
      );
      this.ttft = r.histogram(
        'vllm:time_to_first_token_seconds',
        'Histogram of time to first token in seconds.',
        L,
        VLLM_TTFT_BUCKETS,
      );
      this.itl = r.histogram(
        'vllm:inter_token_latency_seconds',
        'Histogram of inter-token latency in seconds.',
        L,
        VLLM_ITL_BUCKETS,
      );
      this.tpot = r.histogram(
        'vllm:request_time_per_output_token_seconds',
        'Histogram of time_per_output_token_seconds per request.',
        L,
        VLLM_ITL_BUCKETS,
      );
      this.e2e = r.histogram(
        'vllm:e2e_request_latency_seconds',
        'Histogram of e2e request latency in seconds.',
        L,
        VLLM_REQUEST_LATENCY_BUCKETS,
      );
      this.queue = r.histogram(
        'vllm:request_queue_time_seconds',
        'Histogram of time spent in WAITING phase for request.',
        L,
        VLLM_REQUEST_LATENCY_BUCKETS,
      );
      this.inference = r.histogram(
        'vllm:request_inference_time_seconds',
        'Histogram of time spent in RUNNING phase for request.',
        L,
        VLLM_REQUEST_LATENCY_BUCKETS,
      );
      this.prefill = r.histogram(
        'vllm:request_prefill_time_seconds',
        'Histogram of time spent in PREFILL phase for request.',
        L,
        VLLM_REQUEST_LATENCY_BUCKETS,
      );
      this.decode = r.histogram(
        'vllm:request_decode_time_seconds',
        'Histogram of time spent in DECODE phase for request.',
        L,
        VLLM_REQUEST_LATENCY_BUCKETS,
      );
      r.gauge(
        'vllm:cache_config_info',
        'Information of the LLMEngine CacheConfig',
        { ...info.cacheConfig, engine: '0' },
        () => 1,
      );
      r.dynamicGauge('vllm:lora_requests_info', 'Running stats on lora requests.', () => {
        const s = info.loraState();
        return [
          {
            labels: {
              max_lora: String(info.maxLoras),
              waiting_lora_adapters: s.waiting.join(','),
              running_lora_adapters: s.running.join(','),
            },
            value: info.wallSeconds(),
          },
        ];
      });
    } else {
      const L = { model_name: info.modelName };
      const maxTokens = core.kv.numBlocks * core.kv.blockSize;
      r.gauge('sglang:num_running_reqs', 'The number of running requests.', L, () => core.running.length);
      r.gauge('sglang:num_used_tokens', 'The number of used tokens.', L, () => Math.round(core.kv.usage() * maxTokens));
      r.gauge('sglang:token_usage', 'The token usage.', L, () => core.kv.usage());
      r.gauge(
        'sglang:max_total_num_tokens',
        'Maximum total number of tokens in the KV cache pool.',
        L,
        () => maxTokens,
      );
      r.gauge('sglang:num_queue_reqs', 'The number of requests in the waiting queue.', L, () => core.waiting.length);
      r.gauge('sglang:cache_hit_rate', 'The prefix cache hit rate.', L, () =>
        this.queriesTotal > 0 ? this.hitsTotal / this.queriesTotal : 0,
      );
      this.promptTokens = r.counter('sglang:prompt_tokens_total', 'Number of prefill tokens processed.', L);
      this.genTokens = r.counter('sglang:generation_tokens_total', 'Number of generation tokens processed.', L);
      this.prefixHits = r.counter('sglang:cached_tokens_total', 'Number of cached prompt tokens.', L);
      this.numRequests = r.counter('sglang:num_requests_total', 'Number of requests processed.', L);
      this.aborted = r.counter('sglang:num_aborted_requests_total', 'Number of requests aborted.', L);
      this.preemptions = r.counter('sglang:num_retracted_reqs_total', 'Number of retracted requests.', L);
      this.prefixQueries = r.counter('sglang:prefix_cache_queries_total', 'Prefix cache queries (tokens).', L);
      this.ttft = r.histogram(
        'sglang:time_to_first_token_seconds',
        'Histogram of time to first token in seconds.',
        L,
        SGLANG_TTFT_BUCKETS,
      );
      this.itl = r.histogram(
        'sglang:inter_token_latency_seconds',
        'Histogram of inter-token latency in seconds.',
        L,
        SGLANG_ITL_BUCKETS,
      );
      this.e2e = r.histogram(
        'sglang:e2e_request_latency_seconds',
        'Histogram of End-to-end request latency in seconds',
        L,
        SGLANG_E2E_BUCKETS,
      );
    }
  }

  render(): string {
    return this.registry.render();
  }

  onPrefixLookup(queried: number, hit: number): void {
    this.prefixQueries.inc(queried);
    this.prefixHits.inc(hit);
    this.queriesTotal += queried;
    this.hitsTotal += hit;
  }

  onPreempt(): void {
    this.preemptions.inc();
  }

  onStep(tokens: number): void {
    this.iterTokens?.observe(tokens);
  }

  onFirstToken(req: EngineRequest, now: number): void {
    const start = req.receivedTime >= 0 ? req.receivedTime : req.arrivalTime;
    this.ttft.observe(now - start);
    this.genTokens.inc();
    this.promptTokens.inc(req.numPromptTokens);
  }

  onToken(_req: EngineRequest, _now: number, gap: number): void {
    this.itl.observe(gap);
    this.genTokens.inc();
  }

  onFinish(req: EngineRequest, now: number): void {
    this.numRequests?.inc();
    if (req.finishReason === 'abort') {
      this.aborted?.inc();
      this.success?.('abort').inc();
      return;
    }
    const start = req.receivedTime >= 0 ? req.receivedTime : req.arrivalTime;
    this.e2e.observe(now - start);
    this.success?.(req.finishReason ?? 'stop').inc();
    if (req.firstScheduledTime >= 0) {
      this.queue?.observe(req.firstScheduledTime - req.arrivalTime);
      this.inference?.observe(now - req.firstScheduledTime);
      if (req.firstTokenTime >= 0) {
        this.prefill?.observe(req.firstTokenTime - req.firstScheduledTime);
        this.decode?.observe(now - req.firstTokenTime);
        if (req.numOutputTokens > 1) this.tpot?.observe((now - req.firstTokenTime) / (req.numOutputTokens - 1));
      }
    }
    this.promptHist?.observe(req.numPromptTokens);
    this.genHist?.observe(req.numOutputTokens);
    this.maxTokensHist?.observe(req.maxTokens);
  }
}
