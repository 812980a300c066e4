import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
// Independent oracle: a published parser, used only in tests.
import parseOracle from 'parse-prometheus-text-format';
import { parsePrometheusText } from './parse.js';

const VLLM = `# HELP vllm:num_requests_running Number of requests in model execution batches.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="Qwen/Qwen3-8B"} 3.0
# HELP vllm:num_requests_waiting Number of requests waiting to be processed.
# TYPE vllm:num_requests_waiting gauge
vllm:num_requests_waiting{engine="0",model_name="Qwen/Qwen3-8B"} 0.0
# HELP vllm:kv_cache_usage_perc KV-cache usage. 1 means 100 percent usage.
# TYPE vllm:kv_cache_usage_perc gauge
vllm:kv_cache_usage_perc{engine="0",model_name="Qwen/Qwen3-8B"} 0.0123
# HELP vllm:time_to_first_token_seconds Histogram of time to first token in seconds.
# TYPE vllm:time_to_first_token_seconds histogram
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.001",model_name="Qwen/Qwen3-8B"} 0.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="0.005",model_name="Qwen/Qwen3-8B"} 2.0
vllm:time_to_first_token_seconds_bucket{engine="0",le="+Inf",model_name="Qwen/Qwen3-8B"} 9.0
vllm:time_to_first_token_seconds_count{engine="0",model_name="Qwen/Qwen3-8B"} 9.0
vllm:time_to_first_token_seconds_sum{engine="0",model_name="Qwen/Qwen3-8B"} 1.25
# HELP weird a label with escapes
# TYPE weird gauge
weird{path="C:\\\\dir",quote="say \\"hi\\"",nl="a\\nb"} -Inf
weird{path="x"} NaN 1700000000000
`;

interface OracleFamily {
  name: string;
  type: string;
  metrics: {
    labels?: Record<string, string>;
    value?: string;
    buckets?: Record<string, string>;
    count?: string;
    sum?: string;
  }[];
}

const num = (v: string | undefined) => (v === '+Inf' ? Infinity : v === '-Inf' ? -Infinity : Number(v));

/** Flattens the oracle's families into (name, labels, value) samples, histogram parts included. */
function flatten(fams: OracleFamily[]): { name: string; labels: Record<string, string>; value: number }[] {
  const out: { name: string; labels: Record<string, string>; value: number }[] = [];
  for (const f of fams) {
    for (const m of f.metrics) {
      const labels = m.labels ?? {};
      // The oracle drops histogram labels (and sometimes sum/count), so histograms are checked separately below.
      if (f.type !== 'HISTOGRAM') out.push({ name: f.name, labels, value: num(m.value) });
    }
  }
  return out;
}

const key = (s: { name: string; labels: Record<string, string> }) =>
  `${s.name}${JSON.stringify(Object.entries(s.labels).sort())}`;

function sameSamples(text: string): void {
  const ours = parsePrometheusText(text).filter((s) => !/_(bucket|sum|count)$/.test(s.name));
  const theirs = flatten(parseOracle(text) as OracleFamily[]);
  const m = new Map(theirs.map((s) => [key(s), s.value]));
  assert.equal(ours.length, theirs.length, 'same number of samples');
  for (const s of ours) {
    assert.ok(m.has(key(s)), `oracle has ${key(s)}`);
    const v = m.get(key(s))!;
    if (Number.isNaN(v)) assert.ok(Number.isNaN(s.value));
    else assert.equal(s.value, v, key(s));
  }
}

test('agrees with an independent parser on vLLM-shaped output with escapes, NaN, Inf and timestamps', () => {
  sameSamples(VLLM);
  const h = parsePrometheusText(VLLM, (n) => n.startsWith('vllm:time_to_first_token_seconds'));
  assert.deepEqual(
    h.map((x) => [x.name.replace('vllm:time_to_first_token_seconds', ''), x.labels.le ?? '', x.value]),
    [
      ['_bucket', '0.001', 0],
      ['_bucket', '0.005', 2],
      ['_bucket', '+Inf', 9],
      ['_count', '', 9],
      ['_sum', '', 1.25],
    ],
  );
  const weird = parsePrometheusText(VLLM, (n) => n === 'weird');
  assert.deepEqual(weird[0].labels, { path: 'C:\\dir', quote: 'say "hi"', nl: 'a\nb' });
  assert.equal(weird[0].value, -Infinity);
});

test('agrees with the oracle on generated gauges and label values', () => {
  const name = fc.stringMatching(/^[a-z_][a-z0-9_:]{0,12}$/);
  const labelValue = fc.string({ maxLength: 8 }).map((s) => s.replace(/[\n\\"]/g, ''));
  const family = fc.record({
    name,
    series: fc.uniqueArray(
      fc.record({ lv: labelValue, v: fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e9, max: 1e9 }) }),
      {
        minLength: 1,
        maxLength: 4,
        selector: (s) => s.lv,
      },
    ),
  });
  fc.assert(
    fc.property(fc.uniqueArray(family, { minLength: 1, maxLength: 4, selector: (f) => f.name }), (fams) => {
      let text = '';
      for (const f of fams) {
        text += `# TYPE ${f.name} gauge\n`;
        for (const s of f.series) text += `${f.name}{l="${s.lv}"} ${s.v}\n`;
      }
      sameSamples(text);
    }),
    { numRuns: 200 },
  );
});

test('filters by name and skips malformed lines instead of failing', () => {
  const s = parsePrometheusText('a 1\nb{x="1"} 2\nc{broken 3\nd notanumber\na{q="2"} 4\n', (n) => n !== 'b');
  assert.deepEqual(
    s.map((x) => [x.name, x.value]),
    [
      ['a', 1],
      ['a', 4],
    ],
  );
});
