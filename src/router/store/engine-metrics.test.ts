import assert from 'node:assert/strict';
import { test } from 'node:test';
import { intervalAverage, updateEngineMetrics } from './engine-metrics.js';

const zero = { kvCacheUsage: 0, waiting: 0, running: 0, ttft: 0, tpot: 0 };

const vllm = (ttftSum: number, ttftCount: number, extra = '') => `vllm:num_requests_waiting{m="a"} 1
vllm:num_requests_waiting{m="b"} 4
vllm:num_requests_running 2
vllm:kv_cache_usage_perc 0.25
vllm:time_to_first_token_seconds_sum ${ttftSum}
vllm:time_to_first_token_seconds_count ${ttftCount}
vllm:inter_token_latency_seconds_sum 1
vllm:inter_token_latency_seconds_count 100
${extra}`;

test('interval average from histogram deltas: first sample 0, no new samples 0, reset uses totals', () => {
  assert.equal(intervalAverage(undefined, { sum: 5, count: 10 }), 0);
  assert.equal(intervalAverage({ sum: 5, count: 10 }, { sum: 5, count: 10 }), 0);
  assert.equal(intervalAverage({ sum: 5, count: 10 }, { sum: 8, count: 13 }), 1);
  assert.equal(intervalAverage({ sum: 5, count: 10 }, { sum: 2, count: 4 }), 0.5);
});

test('vLLM gauges (last series wins) and TTFT from the interval; zero keeps the previous value', () => {
  const first = updateEngineMetrics('vLLM', vllm(1, 10), zero, {});
  assert.equal(first.metrics.waiting, 4);
  assert.equal(first.metrics.running, 2);
  assert.equal(first.metrics.kvCacheUsage, 0.25);
  assert.equal(first.metrics.ttft, 0, 'no previous histogram yet');
  const second = updateEngineMetrics('vLLM', vllm(3, 12), first.metrics, first.memory);
  assert.equal(second.metrics.ttft, 1);
  const third = updateEngineMetrics('vLLM', vllm(3, 12), second.metrics, second.memory);
  assert.equal(third.metrics.ttft, 1, 'an idle interval keeps the last non-zero TTFT');
});

test('missing gauges reset to 0; SGLang names are read for SGLang engines', () => {
  const m = updateEngineMetrics('vLLM', 'other 1\n', { ...zero, waiting: 9, running: 9, kvCacheUsage: 0.9 }, {});
  assert.equal(m.metrics.waiting, 0);
  assert.equal(m.metrics.kvCacheUsage, 0);
  const s = updateEngineMetrics(
    'SGLang',
    'sglang:num_queue_reqs 3\nsglang:num_running_reqs 5\nsglang:token_usage 0.5\nvllm:num_requests_waiting 7\n',
    zero,
    {},
  );
  assert.deepEqual([s.metrics.waiting, s.metrics.running, s.metrics.kvCacheUsage], [3, 5, 0.5]);
});

test('legacy vLLM gpu_cache_usage_perc is read when the new name is absent', () => {
  const m = updateEngineMetrics('vLLM', 'vllm:gpu_cache_usage_perc 0.75\n', zero, {});
  assert.equal(m.metrics.kvCacheUsage, 0.75);
});
