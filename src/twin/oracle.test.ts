// The benchmark's oracle combines the engines' true state with the router's in-flight view (pure parts).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeCost, oracleInputs, pendingPrefixBlocks } from './oracle.js';

const truth = (o: Partial<{ cachedBlocks: number; queuedTokens: number; decoding: number }> = {}) => ({
  cachedBlocks: 0,
  blockSize: 128,
  queuedTokens: 0,
  decoding: 0,
  ...o,
});

test('a request sent but not yet visible in the engine counts as cached prefix and as queued work', () => {
  const hashes = [1, 2, 3, 4];
  const pending = new Map([['r1', { hashes: [1, 2, 3, 9], uncached: 4000 }]]);
  const x = oracleInputs(truth(), 600, hashes, pending);
  assert.equal(x.cachedTokens, 3 * 128);
  assert.equal(x.queuedPrefillTokens, 4000);
  // Without the router's view the engine looks empty and cold.
  const bare = oracleInputs(truth(), 600, hashes, undefined);
  assert.equal(bare.cachedTokens, 0);
  assert.equal(bare.queuedPrefillTokens, 0);
});

test("the engine's truth wins where it knows more; cached tokens stop one short of the prompt", () => {
  const pending = new Map([['r1', { hashes: [1], uncached: 100 }]]);
  const x = oracleInputs(truth({ cachedBlocks: 4, queuedTokens: 9000, decoding: 7 }), 512, [1, 2, 3, 4], pending);
  assert.equal(x.cachedTokens, 511);
  assert.equal(x.queuedPrefillTokens, 9000);
  assert.equal(x.decoding, 7);
});

test('pendingPrefixBlocks is the longest leading run shared with any pending request', () => {
  const p = [
    { hashes: [1, 2], uncached: 1 },
    { hashes: [1, 2, 3, 5], uncached: 1 },
    { hashes: [7, 2, 3, 4], uncached: 1 },
  ];
  assert.equal(pendingPrefixBlocks([1, 2, 3, 4], p), 3);
  assert.equal(pendingPrefixBlocks([8], p), 0);
  assert.equal(pendingPrefixBlocks([], p), 0);
});

test('decode cost: own steps read the KV decoding there; each decoding sequence waits for ours, per output token', () => {
  const c = { baseSec: 0.01, secPerToken: 1e-4, secPerDecodingSeq: 1e-4, kvReadSecPerToken: 1e-8 };
  assert.equal(decodeCost(c, { ...truth(), decodeKvTokens: 0 }, 1000, 100), 0, 'an idle engine adds nothing');
  // 100 steps × (own: read 50 000 KV tokens + 10 sequences' work; others: 10 × (read our 1 000 tokens + our work))
  const want = 100 * (1e-8 * 50_000 + 1e-4 * 10 + 10 * (1e-8 * 1000 + 1e-4));
  assert.ok(Math.abs(decodeCost(c, { ...truth({ decoding: 10 }), decodeKvTokens: 50_000 }, 1000, 100) - want) < 1e-12);
  assert.equal(
    decodeCost(c, { ...truth({ decoding: 10 }), decodeKvTokens: 50_000 }, 1000, 0),
    0,
    'no output budget, no term',
  );
});
