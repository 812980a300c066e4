import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type CoreConfig, EngineCore } from './core.js';
import { coefficients, type StepCoefficients, stepSeconds } from './cost-model.js';
import { getProfile } from './profiles.js';
import { type EngineRequest, newRequest } from './request.js';

const C8B = coefficients(getProfile('llama-3.1-8b-h100'));

function core(over: Partial<CoreConfig> = {}): EngineCore {
  return new EngineCore({
    blockSize: 16,
    numGpuBlocks: 1000,
    maxNumSeqs: 256,
    maxNumBatchedTokens: 8192,
    maxModelLen: 32768,
    coefficients: C8B,
    ...over,
  });
}

let nextId = 0;
function req(promptLen: number, outLen: number, opts: { base?: number; lora?: string } = {}): EngineRequest {
  const base = opts.base ?? 1000 * nextId;
  return newRequest({
    id: `r${nextId++}`,
    promptTokens: Array.from({ length: promptLen }, (_, i) => base + i),
    maxTokens: outLen,
    targetOutputTokens: outLen,
    lora: opts.lora ?? null,
    extraKey: opts.lora ? 7 : 0,
    seed: 42,
  });
}

/** Runs steps back to back until idle; returns the end time. */
function runAll(c: EngineCore, start = 0, maxSteps = 100_000): number {
  let t = start;
  for (let i = 0; i < maxSteps; i++) {
    const end = c.runStep(t);
    if (end < 0) {
      const next = c.nextReadyTime(t);
      if (!Number.isFinite(next)) return t;
      t = next;
      continue;
    }
    t = end;
  }
  throw new Error('did not finish');
}

test('TTFT of a single request equals the profile formula; decode steps follow it', () => {
  const c = core();
  const r = req(1000, 5);
  c.add(r, 0);
  runAll(c);
  const k: StepCoefficients = C8B;
  const ttft = k.fixedSec + k.prefillSecPerToken * 1000 + k.perSeqSec;
  assert.ok(Math.abs(r.firstTokenTime - ttft) < 1e-12, `${r.firstTokenTime} vs ${ttft}`);
  // Decode step i reads the KV of 1000 + i tokens.
  let t = ttft;
  for (let i = 0; i < 4; i++) t += k.fixedSec + k.kvReadSecPerToken * (1000 + i) + k.perSeqSec;
  assert.ok(Math.abs(r.finishTime - t) < 1e-12);
  assert.equal(r.numOutputTokens, 5);
  assert.equal(r.finishReason, 'length');
  assert.equal(r.tokens.length, 1005);
});

test('chunked prefill honours max_num_batched_tokens; decodes are scheduled first', () => {
  const c = core({ maxNumBatchedTokens: 100 });
  const a = req(30, 10);
  c.add(a, 0);
  let t = c.runStep(0); // a prefills 30 tokens → first token
  assert.equal(a.numOutputTokens, 1);
  const b = req(250, 2);
  c.add(b, t);
  const chunks: number[] = [];
  for (let i = 0; i < 3; i++) {
    const before = b.numComputedTokens;
    t = c.runStep(t);
    chunks.push(b.numComputedTokens - before);
    assert.equal(c.lastStep.decodeTokens, 1, 'a decodes in every step');
    assert.ok(c.lastStep.prefillTokens + c.lastStep.decodeTokens <= 100);
  }
  assert.deepEqual(chunks, [99, 99, 52]);
  assert.equal(b.numOutputTokens, 1, 'first token after the last chunk');
});

test('max_num_seqs caps the running batch; the rest wait FCFS', () => {
  const c = core({ maxNumSeqs: 2 });
  const rs = [req(10, 3), req(10, 3), req(10, 3)];
  for (const r of rs) c.add(r, 0);
  c.runStep(0);
  assert.equal(c.running.length, 2);
  assert.deepEqual(
    c.waiting.map((r) => r.id),
    [rs[2].id],
  );
  runAll(c);
  assert.ok(rs[2].firstScheduledTime >= rs[0].finishTime);
});

test('repeated prompts hit the prefix cache (full blocks, last token recomputed)', () => {
  const c = core();
  const a = req(100, 2, { base: 5 });
  c.add(a, 0);
  const t = runAll(c);
  const b = req(100, 2, { base: 5 });
  c.add(b, t);
  const before = t;
  runAll(c, t);
  assert.equal(b.numCachedTokens, 96); // 6 full blocks of 16
  // Its prefill only computed the 4 uncached tokens.
  const k = C8B;
  const expected = k.fixedSec + k.prefillSecPerToken * 4 + k.kvReadSecPerToken * 96 + k.perSeqSec;
  assert.ok(Math.abs(b.firstTokenTime - before - expected) < 1e-12);
});

test('like vLLM V1, blocks are cached when scheduled: a same-prefix request in the same step hits them', () => {
  const c = core();
  const a = req(100, 2, { base: 9 });
  const b = req(100, 2, { base: 9 });
  c.add(a, 0);
  c.add(b, 0);
  const dur = c.schedule(0);
  // a computes all 100 tokens; b finds a's 6 full blocks already cached and computes only 4.
  assert.equal(a.numCachedTokens, 0);
  assert.equal(b.numCachedTokens, 96);
  const k = C8B;
  const expected = k.fixedSec + k.prefillSecPerToken * 104 + k.kvReadSecPerToken * 96 + 2 * k.perSeqSec;
  assert.ok(Math.abs(dur - expected) < 1e-12, `${dur} vs ${expected}`);
  c.complete(dur);
  // A request arriving while a's prefill is still running (chunked) hits the blocks scheduled so far.
  const d = core({ maxNumBatchedTokens: 64 });
  const x = req(200, 2, { base: 3 });
  d.add(x, 0);
  const t1 = d.schedule(0); // x: tokens 0..63 → blocks 0..3 cached at scheduling
  const y = req(200, 2, { base: 3 });
  d.add(y, 0);
  d.complete(t1);
  d.schedule(t1); // x takes the whole budget; y waits
  assert.equal(y.numCachedTokens, 0);
  d.complete(2 * t1);
  runAll(d, 2 * t1);
  assert.ok(y.numCachedTokens >= 128, `y hit ${y.numCachedTokens}`);
});

test('preemption by recompute when blocks run out; the newest running request yields', () => {
  // 10 blocks of 16 tokens; two requests of 64 prompt tokens (4 blocks each) growing to 64+40 tokens.
  const c = core({ numGpuBlocks: 10 });
  const a = req(64, 40);
  const b = req(64, 40);
  c.add(a, 0);
  c.add(b, 0);
  let preemptedSeen = false;
  let t = 0;
  while (!c.isIdle()) {
    t = c.runStep(t);
    assert.ok(t > 0);
    if (c.lastStep.preempted > 0) {
      preemptedSeen = true;
      assert.equal(c.waiting[0], b, 'the last running request is preempted to the waiting front');
      assert.equal(b.blockIds.length, 0);
      assert.equal(b.numComputedTokens, 0);
      assert.equal(c.lastStep.numScheduled, 1, 'no admissions in a step that preempted');
    }
  }
  assert.ok(preemptedSeen);
  assert.equal(c.numPreemptions >= 1, true);
  assert.equal(a.numOutputTokens, 40);
  assert.equal(b.numOutputTokens, 40);
  assert.equal(c.kv.numFreeBlocks, 10, 'all blocks returned');
});

test('a request with a LoRA beyond max_loras waits; a load adds its cost to the step', () => {
  const c = core({ maxLoras: 1 });
  const a = req(10, 3, { lora: 'A' });
  const b = req(10, 3, { lora: 'B' });
  const plain = req(10, 3);
  c.add(a, 0);
  c.add(b, 0);
  c.add(plain, 0);
  const d = c.schedule(0);
  assert.equal(c.lastStep.loraLoads, 1);
  assert.deepEqual(
    c.running.map((r) => r.id),
    [a.id, plain.id],
    'B skipped (max_loras=1), the base-model request behind it admitted',
  );
  assert.deepEqual(
    c.waiting.map((r) => r.id),
    [b.id],
  );
  const noLoad = stepSeconds(C8B, { prefillTokens: 20, kvTokensRead: 0, numSeqs: 2, loraLoads: 0 });
  assert.ok(Math.abs(d - noLoad - C8B.loraLoadSec) < 1e-12);
  c.complete(d);
  runAll(c, d);
  assert.ok(b.firstScheduledTime >= a.finishTime);
  assert.deepEqual(c.residentLoras, ['B']);
});

test('remote prefill: blocks held while loading, then only the last token is computed', () => {
  const c = core();
  const r = req(200, 3);
  r.remote = { numExternalTokens: 199, transferSeconds: 0.05 };
  c.add(r, 0);
  assert.equal(c.schedule(0), -1, 'nothing to compute while the KV is in flight');
  assert.equal(c.loading.length, 1);
  assert.equal(r.blockIds.length, Math.ceil(199 / 16));
  assert.equal(c.nextReadyTime(), 0.05);
  const end = c.runStep(0.05);
  const k = C8B;
  assert.ok(
    Math.abs(end - 0.05 - (k.fixedSec + k.prefillSecPerToken * 1 + k.kvReadSecPerToken * 199 + k.perSeqSec)) < 1e-12,
  );
  assert.equal(r.numOutputTokens, 1);
});

test('abort: a waiting request leaves at once, a running one at the end of its step', () => {
  const c = core();
  const a = req(50, 10);
  const b = req(50, 10);
  c.add(a, 0);
  const d = c.schedule(0);
  c.add(b, 0.001);
  c.abort(b, 0.001);
  assert.equal(b.state, 'finished');
  assert.equal(c.waiting.length, 0);
  c.abort(a, 0.001);
  assert.equal(a.state, 'running', 'in flight until the step completes');
  c.complete(d);
  assert.equal(a.state, 'finished');
  assert.equal(a.finishReason, 'abort');
  assert.equal(c.kv.numFreeBlocks, 1000);
});

test('a catching-up loop never admits a request before its arrival', () => {
  const c = core();
  const r = req(10, 1);
  c.add(r, 5);
  assert.equal(c.schedule(4), -1);
  assert.equal(c.nextReadyTime(4), 5);
  assert.ok(c.schedule(5) > 0);
});
