import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnlineLatencyModel, predictTtft, scoresFromPredictions, scoresWithLoadTieBreak } from './latency-model.js';

const C = { baseSec: 0.01, secPerToken: 1e-4, secPerDecodingSeq: 1e-3 };

test('predicted TTFT adds base, queued prefill, own uncached prefill and decode interference', () => {
  const p = predictTtft(C, { promptTokens: 4352, cachedTokens: 4096, queuedPrefillTokens: 1000, decoding: 20 });
  assert.equal(p.queueSec, 0.1);
  assert.ok(Math.abs(p.prefillSec - 0.0256) < 1e-12);
  assert.equal(p.decodeSec, 0.02);
  assert.ok(Math.abs(p.ttftSec - 0.1556) < 1e-12);
});

test('cache affinity fades smoothly: the warm endpoint wins until its queue outweighs the missing cache', () => {
  const warm = (queued: number) =>
    predictTtft(C, { promptTokens: 4352, cachedTokens: 4096, queuedPrefillTokens: queued, decoding: 0 }).ttftSec;
  const cold = predictTtft(C, { promptTokens: 4352, cachedTokens: 0, queuedPrefillTokens: 0, decoding: 0 }).ttftSec;
  assert.ok(warm(0) < cold);
  assert.ok(warm(4000) < cold);
  assert.ok(warm(4100) > cold, 'switches once queued work exceeds the 4096 cached tokens');
  const s = scoresFromPredictions([warm(2048), cold]);
  assert.equal(s[0], 100);
  assert.ok(s[1] > 50 && s[1] < 100, 'graded, not a flip');
});

test('online model learns the coefficients of a linear world', () => {
  const m = new OnlineLatencyModel();
  const truth = { baseSec: 0.005, secPerToken: 2e-4, secPerDecodingSeq: 5e-4 };
  let x = 1;
  const rnd = () => {
    x = (x * 48271) % 2147483647;
    return x / 2147483647;
  };
  for (let i = 0; i < 3000; i++) {
    const inp = {
      promptTokens: Math.floor(rnd() * 8000),
      cachedTokens: 0,
      queuedPrefillTokens: Math.floor(rnd() * 20000),
      decoding: Math.floor(rnd() * 200),
    };
    m.observe(inp, predictTtft(truth, inp).ttftSec);
  }
  const c = m.coefficients;
  assert.ok(Math.abs(c.secPerToken - 2e-4) / 2e-4 < 0.02, `secPerToken ${c.secPerToken}`);
  assert.ok(Math.abs(c.secPerDecodingSeq - 5e-4) / 5e-4 < 0.05, `secPerDecodingSeq ${c.secPerDecodingSeq}`);
  assert.ok(Math.abs(c.baseSec - 0.005) < 0.002, `baseSec ${c.baseSec}`);
  m.observe({ promptTokens: 1, cachedTokens: 0, queuedPrefillTokens: 0, decoding: 0 }, Number.NaN);
  assert.equal(m.observations, 3000, 'non-finite samples are ignored');
});

test('scores leave out the part every candidate pays, so a large learned base does not flatten them', () => {
  // Variable parts 1 s and 2 s on top of a 5 s base: 100 and 50, not 100 and 86.
  const s = scoresFromPredictions([6, 7], 5);
  assert.equal(s[0], 100);
  assert.equal(s[1], 50);
  assert.deepEqual(scoresFromPredictions([6, 7]).map(Math.round), [100, 86]);
  assert.equal(scoresFromPredictions([1, Number.POSITIVE_INFINITY])[1], 0, 'an unusable candidate scores 0');
});

test('ties in predicted TTFT go to the endpoint with fewer requests in flight; real differences still win', () => {
  // Two idle-equivalent endpoints, one with more in flight: the lighter one ranks first.
  const tied = scoresWithLoadTieBreak([2, 2, 3], [4, 1, 0], 1);
  assert.ok(tied[1] > tied[0], `${tied}`);
  assert.ok(tied[0] > tied[2]);
  // A prediction 1 % better beats any load difference.
  const real = scoresWithLoadTieBreak([1.99, 2], [50, 0], 1);
  assert.ok(real[0] > real[1], `${real}`);
});

test('queue wait and uncached prefill are separate components: a warm replica with a queue vs a cold idle one', () => {
  // Hand-built state: A holds the 4096-token prefix but has 3 requests (3 × 256 uncached tokens) queued; B is idle
  // and cold; C is cold with a full 4352-token prompt queued.
  const x = { promptTokens: 4352, decoding: 0 };
  const a = predictTtft(C, { ...x, cachedTokens: 4096, queuedPrefillTokens: 768 });
  const b = predictTtft(C, { ...x, cachedTokens: 0, queuedPrefillTokens: 0 });
  const c = predictTtft(C, { ...x, cachedTokens: 0, queuedPrefillTokens: 4352 });
  assert.ok(Math.abs(a.queueSec - 0.0768) < 1e-12 && Math.abs(a.prefillSec - 0.0256) < 1e-12);
  assert.equal(b.queueSec, 0);
  assert.ok(Math.abs(b.prefillSec - 0.4352) < 1e-12);
  assert.ok(Math.abs(c.ttftSec - (0.01 + 0.8704)) < 1e-12);
  const s = scoresWithLoadTieBreak(
    [a, b, c].map((p) => p.ttftSec),
    [3, 0, 1],
    C.baseSec,
  );
  assert.deepEqual(
    s.map((v) => Math.round(v)),
    [100, 24, 12],
  );
});
