import assert from 'node:assert/strict';
import { test } from 'node:test';
import { countTokens } from '../../src/tokens/index.js';
import {
  constantRateStages,
  gammaGaps,
  mixed,
  multiTurn,
  rng,
  sharedPrefix,
  stagedSharedPrefix,
  words,
} from './dataset.js';

test('rng: deterministic for a seed, uniform-ish in [0, 1)', () => {
  const a = rng(5);
  const b = rng(5);
  const xs = Array.from({ length: 10_000 }, () => a());
  assert.deepEqual(
    xs.slice(0, 5),
    Array.from({ length: 5 }, () => b()),
  );
  assert.ok(xs.every((x) => x >= 0 && x < 1));
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  assert.ok(Math.abs(mean - 0.5) < 0.02, `mean ${mean}`);
  assert.notEqual(rng(6)(), rng(5)());
});

test('words: n five-letter words, each exactly one token of the built-in tokenizer', () => {
  const w = words(rng(1), 300);
  assert.equal(w.length, 300 * 6);
  assert.match(w, /^( [a-z]{5})+$/);
  assert.equal(countTokens(w), 300);
});

test('sharedPrefix: groups × prompts, each a group system prompt plus its own question, shuffled', () => {
  const reqs = sharedPrefix({ groups: 4, promptsPerGroup: 5, systemLen: 64, questionLen: 16, outputLen: 7, seed: 3 });
  assert.equal(reqs.length, 20);
  const systems = new Map<string, number>();
  for (const r of reqs) {
    assert.equal(countTokens(r.prompt), 80);
    assert.equal(r.maxTokens, 7);
    const sys = r.prompt.slice(0, 64 * 6);
    systems.set(sys, (systems.get(sys) ?? 0) + 1);
  }
  assert.deepEqual([...systems.values()], [5, 5, 5, 5]);
  assert.equal(new Set(reqs.map((r) => r.prompt)).size, 20, 'questions differ');
  const order = reqs.map((r) => [...systems.keys()].indexOf(r.prompt.slice(0, 64 * 6)));
  assert.notDeepEqual(order, [...order].sort(), 'not grouped in order');
  assert.deepEqual(
    sharedPrefix({ groups: 4, promptsPerGroup: 5, systemLen: 64, questionLen: 16, outputLen: 7, seed: 3 }),
    reqs,
  );
});

test('multiTurn: each turn is the previous turn, its answer and a new user message', () => {
  const reqs = multiTurn({ tenants: 2, sessions: 3, turns: 3, systemLen: 32, userLen: 8, outputLen: 4, seed: 1 });
  assert.equal(reqs.length, 9);
  for (let s = 0; s < 3; s++) {
    const turns = reqs.filter((r) => r.session === s);
    assert.deepEqual(
      turns.map((t) => t.turn),
      [0, 1, 2],
    );
    assert.deepEqual(
      turns.map((t) => countTokens(t.prompt)),
      [40, 52, 64],
    );
    for (let k = 1; k < 3; k++) assert.ok(turns[k].prompt.startsWith(turns[k - 1].prompt));
  }
  // Sessions 0 and 2 share tenant 0's system prompt.
  assert.equal(reqs[0].prompt.slice(0, 192), reqs[6].prompt.slice(0, 192));
  assert.notEqual(reqs[0].prompt.slice(0, 192), reqs[3].prompt.slice(0, 192));
});

test('mixed: the asked numbers of prefix and plain requests; hot groups carry most prefix traffic', () => {
  const reqs = mixed({
    groups: 8,
    prefixRequests: 600,
    plainRequests: 400,
    systemLen: 32,
    questionLen: 8,
    plainLen: 20,
    outputLen: 4,
    seed: 2,
  });
  assert.equal(reqs.filter((r) => r.cls === 'prefix').length, 600);
  const plain = reqs.filter((r) => r.cls === 'plain');
  assert.equal(plain.length, 400);
  assert.ok(plain.every((r) => countTokens(r.prompt) === 20));
  const counts = new Map<string, number>();
  for (const r of reqs.filter((x) => x.cls === 'prefix')) {
    const k = r.prompt.slice(0, 192);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  const sorted = [...counts.values()].sort((a, b) => b - a);
  assert.equal(sorted.length, 8);
  assert.ok(sorted[0] > 3 * sorted[7], `Zipf-like skew: ${sorted}`);
});

test('gammaGaps: mean 1/rate; burstiness 1 is Poisson (CV ≈ 1), larger is smoother; infinite rate sends at once', () => {
  const stats = (g: number[]) => {
    const m = g.reduce((a, b) => a + b, 0) / g.length;
    const v = g.reduce((a, b) => a + (b - m) ** 2, 0) / g.length;
    return { m, cv: Math.sqrt(v) / m };
  };
  const p = stats(gammaGaps(rng(9), 20_000, 100, 1));
  assert.ok(Math.abs(p.m - 0.01) < 0.0005, `mean ${p.m}`);
  assert.ok(Math.abs(p.cv - 1) < 0.05, `cv ${p.cv}`);
  const smooth = stats(gammaGaps(rng(9), 20_000, 100, 4));
  assert.ok(Math.abs(smooth.m - 0.01) < 0.0005 && Math.abs(smooth.cv - 0.5) < 0.05, JSON.stringify(smooth));
  assert.ok(gammaGaps(rng(1), 5, Number.POSITIVE_INFINITY, 1).every((g) => g === 0));
});

test('constantRateStages and stagedSharedPrefix: every (group, prompt) once per stage, evenly spaced', () => {
  assert.deepEqual(constantRateStages([2, 4], 3), [0.5, 0.5, 0.5, 0.25, 0.25, 0.25]);
  const reqs = stagedSharedPrefix({
    groups: 3,
    promptsPerGroup: 2,
    stages: 2,
    systemLen: 16,
    questionLen: 4,
    outputLen: 9,
    seed: 1,
  });
  assert.equal(reqs.length, 12);
  for (const k of [0, 1]) {
    const stage = reqs.filter((r) => r.cls === `stage${k}`);
    assert.equal(stage.length, 6);
    assert.equal(new Set(stage.map((r) => r.prompt.slice(0, 96))).size, 3);
  }
  assert.deepEqual(
    new Set(reqs.slice(0, 6).map((r) => r.prompt.slice(0, 96))),
    new Set(reqs.slice(6).map((r) => r.prompt.slice(0, 96))),
    'the same system prompts in every stage',
  );
});
