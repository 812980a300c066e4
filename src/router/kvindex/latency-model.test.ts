import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnlineLatencyModel, predictTtft, scoresFromPredictions } from './latency-model.js';

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
