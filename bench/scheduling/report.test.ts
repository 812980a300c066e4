import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestResult } from './loadgen.js';
import { lineSvg, medianOf, quantile, type Summary, summarize } from './report.js';

const res = (o: Partial<RequestResult>): RequestResult => ({
  ok: true,
  cls: 'x',
  ttft: 0,
  e2e: 0,
  itls: [],
  promptTokens: 0,
  outputTokens: 0,
  cachedTokens: 0,
  ...o,
});

test('summarize: throughput over the run, means of successful requests, TPOT, cache hit and success rates', () => {
  const s = summarize('s', {
    durationSec: 4,
    results: [
      res({ ttft: 1, e2e: 3, itls: [0.5, 0.5], promptTokens: 100, outputTokens: 5, cachedTokens: 50 }),
      res({ ttft: 2, e2e: 6, itls: [1], promptTokens: 300, outputTokens: 3, cachedTokens: 0 }),
      res({ ok: false, ttft: 99, e2e: 99, promptTokens: 1000, outputTokens: 0, error: 'HTTP 500' }),
    ],
  });
  assert.equal(s.throughput_rps, 0.5); // 2 successes / 4 s
  assert.equal(s.output_tokens_per_s, 2); // 8 tokens / 4 s
  assert.equal(s.ttft_mean_s, 1.5);
  assert.equal(s.e2e_mean_s, 4.5);
  assert.equal(s.tpot_mean_s, ((3 - 1) / 4 + (6 - 2) / 2) / 2);
  assert.equal(s.itl_mean_s, (0.5 + 0.5 + 1) / 3);
  assert.equal(s.success_rate, 2 / 3);
  assert.equal(s.cache_hit_rate, 50 / 400, 'failed requests count neither prompt nor cached tokens');
  assert.equal(s.ttft_p90_s, 2);
});

test('summarize: the steady-state means leave out the opening wave; without a wave they equal the whole-run means', () => {
  const run = {
    durationSec: 10,
    results: [
      res({ ttft: 9, e2e: 12 }),
      res({ ttft: 7, e2e: 10 }),
      res({ ttft: 1, e2e: 3 }),
      res({ ok: false, ttft: 50, e2e: 50, error: 'HTTP 503' }),
      res({ ttft: 2, e2e: 4 }),
    ],
  };
  const waved = summarize('s', run, 2);
  assert.equal(waved.ttft_mean_s, (9 + 7 + 1 + 2) / 4);
  assert.equal(waved.ttft_mean_steady_s, 1.5, 'requests 3 and 5; the failed one counts in neither');
  assert.equal(waved.e2e_mean_steady_s, 3.5);
  const none = summarize('s', run);
  assert.equal(none.ttft_mean_steady_s, none.ttft_mean_s);
  assert.equal(summarize('s', run, 100).e2e_mean_steady_s, none.e2e_mean_s, 'a wave as large as the run is no wave');
});

test('quantile: nearest rank from below; empty input is 0', () => {
  assert.equal(quantile([5, 1, 4, 2, 3], 0.5), 3);
  assert.equal(quantile([5, 1, 4, 2, 3], 0.9), 5);
  assert.equal(quantile([5, 1, 4, 2, 3], 0), 1);
  assert.equal(quantile([], 0.9), 0);
});

test('medianOf: per-field median (mean of the middle two for an even count) and min–max spread', () => {
  const mk = (v: number): Summary => ({
    name: 'd',
    throughput_rps: v,
    output_tokens_per_s: v * 10,
    ttft_mean_s: 1 / v,
    ttft_p90_s: 0,
    e2e_mean_s: 0,
    tpot_mean_s: 0,
    itl_mean_s: 0,
    success_rate: 1,
    cache_hit_rate: 0.5,
    ttft_mean_steady_s: 0,
    e2e_mean_steady_s: 0,
  });
  const odd = medianOf([mk(3), mk(1), mk(2)]);
  assert.equal(odd.name, 'd');
  assert.equal(odd.throughput_rps, 2);
  assert.deepEqual(odd.spread.throughput_rps, [1, 3]);
  assert.equal(odd.ttft_mean_s, 0.5);
  const even = medianOf([mk(1), mk(4), mk(2), mk(3)]);
  assert.equal(even.throughput_rps, 2.5);
  assert.equal(even.output_tokens_per_s, 25);
  assert.equal(medianOf([mk(7)]).throughput_rps, 7);
});

test('lineSvg draws one polyline per series and labels every x value', () => {
  const svg = lineSvg(
    't',
    'replicas',
    'ratio',
    [2, 4, 8],
    [
      { name: 'default', ys: [1, 2, 3] },
      { name: 'random', ys: [1, 1, 1] },
    ],
  );
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  for (const x of ['>2<', '>4<', '>8<']) assert.ok(svg.includes(x));
  assert.ok(svg.startsWith('<svg') && svg.trim().endsWith('</svg>'));
});
