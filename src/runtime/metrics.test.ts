import assert from 'node:assert/strict';
import { test } from 'node:test';
import { engineFamily, normaliseMetrics } from './metrics.js';

const VLLM = `# HELP vllm:num_requests_waiting Requests waiting.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{model_name="m"} 3.0
# TYPE vllm:gpu_cache_usage_perc gauge
vllm:gpu_cache_usage_perc{model_name="m"} 0.25
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 1
vllm:time_to_first_token_seconds_sum{model_name="m"} 0.05
vllm:time_to_first_token_seconds_count{model_name="m"} 1
vllm:other 1
`;

test('vLLM names → kthena: names; the engine exposition is kept in front', () => {
  const out = normaliseMetrics(VLLM, 'vllm');
  assert.ok(out.startsWith(VLLM));
  const added = out.slice(VLLM.length).trim().split('\n');
  assert.deepEqual(added, [
    '# HELP kthena:num_requests_waiting Requests waiting.',
    '# TYPE kthena:num_requests_waiting gauge',
    'kthena:num_requests_waiting{model_name="m"} 3.0',
    '# TYPE kthena:kv_cache_usage_perc gauge',
    'kthena:kv_cache_usage_perc{model_name="m"} 0.25',
    '# TYPE kthena:time_to_first_token_seconds histogram',
    'kthena:time_to_first_token_seconds_bucket{le="0.1",model_name="m"} 1',
    'kthena:time_to_first_token_seconds_sum{model_name="m"} 0.05',
    'kthena:time_to_first_token_seconds_count{model_name="m"} 1',
  ]);
});

test('vLLM v1 kv_cache_usage_perc wins over the old gpu_cache_usage_perc (one family, never two)', () => {
  const out = normaliseMetrics('vllm:kv_cache_usage_perc 0.5\nvllm:gpu_cache_usage_perc 0.1\n', 'vllm');
  assert.deepEqual(
    out.split('\n').filter((l) => l.startsWith('kthena:')),
    ['kthena:kv_cache_usage_perc 0.5'],
  );
});

test('SGLang names → the same kthena: names', () => {
  const out = normaliseMetrics(
    'sglang:num_queue_reqs{a="b"} 2\nsglang:num_running_reqs 1\nsglang:token_usage 0.3\nsglang:inter_token_latency_seconds_count 4',
    'sglang',
  );
  assert.deepEqual(
    out.split('\n').filter((l) => l.startsWith('kthena:')),
    [
      'kthena:num_requests_waiting{a="b"} 2',
      'kthena:num_requests_running 1',
      'kthena:kv_cache_usage_perc 0.3',
      'kthena:time_per_output_token_seconds_count 4',
    ],
  );
});

test('no engine metrics: the text passes unchanged; engine names map to families', () => {
  assert.equal(normaliseMetrics('', 'vllm'), '');
  assert.equal(normaliseMetrics('foo 1\n', 'sglang'), 'foo 1\n');
  assert.equal(engineFamily('vllmdisaggregated'), 'vllm');
  assert.equal(engineFamily('SGLang'), 'sglang');
  assert.equal(engineFamily('mindie'), undefined);
});
