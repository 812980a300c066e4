import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import { blockHashes, hashBlock } from '../tokens/index.js';
import { VirtualClock } from './clock.js';
import { Engine, type SubmitSpec } from './engine.js';
import type { KvEvent } from './kv-cache.js';
import type { EngineRequest } from './request.js';

// The independent Prometheus parser (test oracle); it ships no types.
type PromFamily = { name: string; type: string; metrics: any[] };
const parsePrometheusTextFormat = createRequire(import.meta.url)('parse-prometheus-text-format') as (
  text: string,
) => PromFamily[];

function engine(over: Partial<ConstructorParameters<typeof Engine>[0]> = {}) {
  const clock = new VirtualClock();
  const e = new Engine({ model: 'm', profile: 'llama-3.1-8b-h100', clock, ...over });
  return { e, clock };
}

function spec(tokens: number[], over: Partial<SubmitSpec> = {}): SubmitSpec {
  return {
    id: `r-${Math.random()}`,
    promptTokens: tokens,
    maxTokens: 8,
    minTokens: 0,
    ignoreEos: true,
    lora: null,
    onUpdate: () => {},
    ...over,
  };
}
const seq = (n: number, base = 0) => Array.from({ length: n }, (_, i) => base + i);

test('virtual clock: TTFT = frontend overhead + one prefill step, observed in the metrics', () => {
  const { e, clock } = engine();
  const r = e.submit(spec(seq(500)));
  clock.runAll();
  const k = e.cfg.coefficients;
  const expected = e.cfg.profile.requestOverheadSec + k.fixedSec + k.prefillSecPerToken * 500 + k.perSeqSec;
  assert.ok(Math.abs(r.firstTokenTime - expected) < 1e-12);
  assert.equal(r.state, 'finished');
  const fams = parsePrometheusTextFormat(e.metrics.render()) as { name: string; type: string; metrics: any[] }[];
  const by = new Map(fams.map((f) => [f.name, f]));
  const ttft = by.get('vllm:time_to_first_token_seconds')!;
  assert.equal(ttft.type, 'HISTOGRAM');
  // The oracle flattens labelled histograms to their buckets; read the sum from the text itself.
  assert.equal(ttft.metrics[0].buckets['+Inf'], '1');
  assert.equal(ttft.metrics[0].buckets['0.02'], '0', 'TTFT is ~27 ms: above the 0.02 bucket');
  assert.equal(ttft.metrics[0].buckets['0.04'], '1');
  const sumLine = e.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith('vllm:time_to_first_token_seconds_sum{model_name="m",engine="0"} '))!;
  assert.ok(Math.abs(Number(sumLine.split(' ')[1]) - expected) < 1e-9);
  assert.equal(by.get('vllm:generation_tokens_total')!.metrics[0].value, '8');
  assert.deepEqual(by.get('vllm:generation_tokens_total')!.metrics[0].labels, { model_name: 'm', engine: '0' });
  assert.equal(by.get('vllm:prompt_tokens_total')!.metrics[0].value, '500');
  assert.equal(by.get('vllm:num_requests_running')!.metrics[0].value, '0');
  assert.equal(by.get('vllm:inter_token_latency_seconds')!.metrics[0].buckets['+Inf'], '7');
  const info = by.get('vllm:cache_config_info')!.metrics[0].labels;
  assert.equal(info.block_size, '16');
  assert.equal(info.num_gpu_blocks, String(e.cfg.numGpuBlocks));
  for (const name of [
    'vllm:num_requests_waiting',
    'vllm:kv_cache_usage_perc',
    'vllm:prefix_cache_queries_total',
    'vllm:prefix_cache_hits_total',
    'vllm:num_preemptions_total',
    'vllm:e2e_request_latency_seconds',
    'vllm:request_queue_time_seconds',
    'vllm:request_prefill_time_seconds',
    'vllm:request_decode_time_seconds',
    'vllm:lora_requests_info',
  ])
    assert.ok(by.has(name), name);
  e.close();
});

test('sglang flavour exposes SGLang names', () => {
  const { e, clock } = engine({ engine: 'sglang' });
  e.submit(spec(seq(40)));
  clock.runAll();
  e.submit(spec(seq(40)));
  clock.runAll();
  const fams = parsePrometheusTextFormat(e.metrics.render()) as { name: string; metrics: any[] }[];
  const names = new Set(fams.map((f) => f.name));
  for (const n of [
    'sglang:num_running_reqs',
    'sglang:num_queue_reqs',
    'sglang:token_usage',
    'sglang:cache_hit_rate',
    'sglang:time_to_first_token_seconds',
    'sglang:inter_token_latency_seconds',
    'sglang:e2e_request_latency_seconds',
  ])
    assert.ok(names.has(n), n);
  assert.ok(![...names].some((n) => n.startsWith('vllm:')));
  const hit = fams.find((f) => f.name === 'sglang:cache_hit_rate')!;
  assert.equal(Number(hit.metrics[0].value), 32 / 80, 'second identical prompt hit 2 full blocks');
  e.close();
});

test('KV events replay to exactly the cache contents', () => {
  const { e, clock } = engine({ numGpuBlocks: 40 });
  const batches: KvEvent[][] = [];
  e.setKvEventSink((ev) => batches.push(ev));
  // Enough distinct prompts to force evictions.
  for (let i = 0; i < 12; i++) e.submit(spec(seq(60 + i, i * 1000), { maxTokens: 20 }));
  clock.runAll();
  const mirror = new Set<number>();
  const bs = e.cfg.blockSize;
  let stored = 0;
  let removed = 0;
  for (const b of batches)
    for (const ev of b) {
      if (ev.type === 'BlockStored') {
        stored += ev.blockHashes.length;
        // A consumer can recompute every hash from the token ids and the parent.
        let parent = ev.parentBlockHash;
        assert.equal(ev.tokenIds.length, ev.blockHashes.length * bs);
        for (let j = 0; j < ev.blockHashes.length; j++) {
          assert.equal(hashBlock(parent, ev.tokenIds, j * bs, (j + 1) * bs), ev.blockHashes[j]);
          parent = ev.blockHashes[j];
          mirror.add(parent);
        }
      } else if (ev.type === 'BlockRemoved') {
        removed += ev.blockHashes.length;
        for (const h of ev.blockHashes) assert.ok(mirror.delete(h), 'removed a hash that was stored');
      } else mirror.clear();
    }
  assert.ok(removed > 0, 'evictions happened');
  assert.ok(stored > removed);
  assert.deepEqual([...mirror].sort(), e.core.kv.cachedHashes().sort());
  e.close();
});

test('BlockStored hashes are reproducible from token ids with the exported hash', () => {
  const { e, clock } = engine();
  const events: KvEvent[] = [];
  e.setKvEventSink((ev) => events.push(...ev));
  const prompt = seq(70, 3);
  e.submit(spec(prompt, { maxTokens: 1 }));
  clock.runAll();
  const st = events.find((x) => x.type === 'BlockStored') as Extract<KvEvent, { type: 'BlockStored' }>;
  assert.deepEqual(st.blockHashes, blockHashes(prompt, 16));
  assert.deepEqual(st.tokenIds, prompt.slice(0, 64));
  e.close();
});

test('PD (NixlConnector): prefill holds blocks until the decode side pulls them', () => {
  const p = engine({ role: 'prefill' });
  const d = new Engine({ model: 'm', role: 'decode', clock: p.clock });
  const prompt = seq(300, 7);
  const got: { kvp: ReturnType<Engine['holdForRemoteDecode']> | null } = { kvp: null };
  const pr = p.e.submit(
    spec(prompt, {
      maxTokens: 1,
      kvTransferParams: { do_remote_decode: true },
      onUpdate: (r) => {
        if (r.state === 'finished') got.kvp = p.e.holdForRemoteDecode(r);
      },
    }),
  );
  p.clock.advanceBy(1);
  assert.equal(pr.numOutputTokens, 1);
  assert.ok(got.kvp);
  const params = got.kvp;
  assert.equal(params.do_remote_prefill, true);
  assert.equal(params.remote_engine_id, p.e.engineId);
  assert.equal(params.remote_block_ids?.length, Math.ceil(301 / 16));
  assert.equal(p.e.held.size, 1);
  const freeBefore = p.e.core.kv.numFreeBlocks;
  const t0 = p.clock.now();
  const dr: EngineRequest = d.submit(spec(prompt, { maxTokens: 4, kvTransferParams: params }));
  p.clock.advanceBy(1);
  assert.equal(dr.numOutputTokens, 4);
  assert.equal(p.e.held.size, 0, 'released after the pull');
  assert.ok(p.e.core.kv.numFreeBlocks > freeBefore);
  // The decode side computed one token of prefill and paid the transfer instead of 300 tokens of compute.
  assert.equal(dr.numCachedTokens, 0);
  const k = d.cfg.coefficients;
  const prefillCompute = k.prefillSecPerToken * 299;
  assert.ok(
    dr.firstTokenTime - t0 < d.cfg.profile.requestOverheadSec + 0.05 + k.fixedSec + k.kvReadSecPerToken * 299 + 1e-3,
  );
  assert.ok(prefillCompute > 0);
  p.e.close();
  d.close();
});

test('PD: held blocks are freed after the transfer timeout when nobody pulls', () => {
  const { e, clock } = engine({ kvTransferTimeoutSec: 5 });
  e.submit(
    spec(seq(100), {
      maxTokens: 1,
      kvTransferParams: { do_remote_decode: true },
      onUpdate: (r) => {
        if (r.state === 'finished') e.holdForRemoteDecode(r);
      },
    }),
  );
  clock.advanceBy(1);
  assert.equal(e.held.size, 1);
  assert.ok(e.core.kv.numFreeBlocks < e.cfg.numGpuBlocks);
  clock.advanceBy(5);
  assert.equal(e.held.size, 0);
  assert.equal(e.core.kv.numFreeBlocks, e.cfg.numGpuBlocks);
  e.close();
});

test('SGLang bootstrap: the decode request waits for the paired prefill, then pays the transfer', () => {
  const clock = new VirtualClock();
  const p = new Engine({ model: 'm', engine: 'sglang', role: 'prefill', clock });
  const d = new Engine({ model: 'm', engine: 'sglang', role: 'decode', clock });
  const prompt = seq(2000);
  const dr = d.submit(spec(prompt, { maxTokens: 3, bootstrapRoom: 'room-1' }));
  const pr = p.submit(spec(prompt, { maxTokens: 1, bootstrapRoom: 'room-1' }));
  clock.runAll();
  assert.equal(pr.numOutputTokens, 1);
  assert.equal(dr.numOutputTokens, 3);
  assert.ok(dr.firstTokenTime > pr.firstTokenTime, 'decode starts after the prefill');
  assert.ok(dr.firstScheduledTime >= pr.firstTokenTime);
  p.close();
  d.close();
});

test('LoRA: adapters resolve as models; unload lets running requests finish; lora_requests_info labels', () => {
  const { e, clock } = engine({ enableLora: true, maxLoras: 1, loraModules: { a: '/path/a' } });
  assert.deepEqual(e.resolveModel('a'), { lora: 'a' });
  assert.equal(e.resolveModel('b'), null);
  e.loadLora('b', '/path/b');
  const ra = e.submit(spec(seq(20), { lora: 'a', maxTokens: 50 }));
  const rb = e.submit(spec(seq(20, 99), { lora: 'b', maxTokens: 5 }));
  clock.advanceBy(0.1);
  const info = e.metrics
    .render()
    .split('\n')
    .find((l) => l.startsWith('vllm:lora_requests_info{'))!;
  assert.match(info, /running_lora_adapters="a"/);
  assert.match(info, /waiting_lora_adapters="b"/);
  assert.match(info, /max_lora="1"/);
  assert.equal(e.unloadLora('a'), true);
  assert.equal(e.resolveModel('a'), null);
  clock.runAll();
  assert.equal(ra.numOutputTokens, 50, 'the running request finished after unload');
  assert.equal(rb.numOutputTokens, 5);
  e.close();
});

test('output length follows the distribution deterministically; ignore_eos forces max_tokens', () => {
  const run = (seed: number) => {
    const { e, clock } = engine({ seed, outputLen: 'uniform:1-40' });
    const rs = [1, 2, 3, 4, 5].map((i) => e.submit(spec(seq(30, i * 100), { ignoreEos: false, maxTokens: 40 })));
    clock.runAll();
    e.close();
    return rs.map((r) => [r.numOutputTokens, r.tokens.slice(-3).join(',')].join(':'));
  };
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
  const { e, clock } = engine({ outputLen: 'fixed:3' });
  const a = e.submit(spec(seq(30), { ignoreEos: false, maxTokens: 40 }));
  const b = e.submit(spec(seq(30, 500), { ignoreEos: false, maxTokens: 40, minTokens: 10 }));
  const c = e.submit(spec(seq(30, 900), { ignoreEos: true, maxTokens: 40 }));
  clock.runAll();
  assert.equal(a.numOutputTokens, 3);
  assert.equal(a.finishReason, 'stop');
  assert.equal(b.numOutputTokens, 10, 'min_tokens');
  assert.equal(c.numOutputTokens, 40);
  assert.equal(c.finishReason, 'length');
  e.close();
});

test('slow fault multiplies step time', () => {
  const { e, clock } = engine();
  e.setFault({ mode: 'slow', factor: 3 });
  const r = e.submit(spec(seq(100), { maxTokens: 1 }));
  clock.runAll();
  const k = e.cfg.coefficients;
  const step = k.fixedSec + k.prefillSecPerToken * 100 + k.perSeqSec;
  assert.ok(Math.abs(r.firstTokenTime - e.cfg.profile.requestOverheadSec - 3 * step) < 1e-12);
  e.close();
});
