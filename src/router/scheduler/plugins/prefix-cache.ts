// prefix-cache (score + postSchedule), reference §3.3: prefer endpoints that recently served the longest prefix of
// this prompt. Chained xxHash64 over byte blocks of the prompt string; a router-local index with per-endpoint LRU and
// a global memory budget (`maxMemoryBytes`, ours) exported as kthena_router_prefix_cache_bytes.
import xxhash from 'xxhash-wasm';
import type { RequestContext } from '../../request/context.js';
import { type PluginDefinition, positiveArg } from '../plugin.js';
import { PrefixIndex } from '../prefix-index.js';

type H64 = (input: Uint8Array, seed?: bigint) => bigint;

/** h0 = xxh64(model); h_i = xxh64(decimal(h_{i-1}) ++ block_i). At most maxBlocks blocks of blockSize bytes. */
export function prefixHashes(h64: H64, model: string, prompt: string, blockSize: number, maxBlocks: number): bigint[] {
  const bytes = Buffer.from(prompt, 'utf8');
  const out: bigint[] = [];
  let prev = h64(Buffer.from(model, 'utf8'));
  // One scratch buffer for all blocks (a u64 has at most 20 decimal digits): no two allocations per block.
  const scratch = Buffer.allocUnsafe(20 + blockSize);
  for (let off = 0; off < bytes.length && out.length < maxBlocks; off += blockSize) {
    const end = Math.min(off + blockSize, bytes.length);
    const headLen = scratch.write(prev.toString(10), 0, 'latin1');
    bytes.copy(scratch, headLen, off, end);
    prev = h64(scratch.subarray(0, headLen + end - off));
    out.push(prev);
  }
  return out;
}

export const prefixCachePlugin: PluginDefinition = {
  name: 'prefix-cache',
  roles: ['score'],
  async create(args, deps) {
    const { h64Raw } = await xxhash();
    const blockSize = positiveArg(args, 'blockSizeToHash', 64);
    const maxBlocks = positiveArg(args, 'maxBlocksToMatch', 128);
    const maxEntries = positiveArg(args, 'maxHashCacheSize', 50_000);
    const topK = positiveArg(args, 'topKMatches', 5);
    const maxBytes = positiveArg(args, 'maxMemoryBytes', 64 * 1024 * 1024);
    const index = new PrefixIndex({
      maxEntriesPerEndpoint: maxEntries,
      maxBytes,
      onEvict: (model) => deps.metrics.prefixEvictions.inc({ model }),
    });
    deps.metrics.sources.prefixEntries = () => index.entries;
    deps.metrics.sources.prefixBytes = () => index.bytes;

    const hashesOf = (ctx: RequestContext): bigint[] => {
      let h = ctx.prefixHashes;
      if (!h) {
        h = ctx.promptText ? prefixHashes(h64Raw, ctx.model, ctx.promptText, blockSize, maxBlocks) : [];
        ctx.prefixHashes = h;
      }
      return h;
    };

    return {
      name: 'prefix-cache',
      index,
      score(ctx, eps) {
        const hashes = hashesOf(ctx);
        const scores = new Array<number>(eps.length).fill(0);
        if (hashes.length === 0) return scores;
        const pos = new Map<string, number>();
        for (let i = 0; i < eps.length; i++) pos.set(eps[i].state.key, i);
        const matchLen = new Map<number, number>();
        for (let i = hashes.length - 1; i >= 0 && matchLen.size < topK; i--) {
          const holders = index.holders(ctx.model, hashes[i]);
          if (!holders) continue;
          for (const key of holders) {
            const at = pos.get(key);
            if (at === undefined || matchLen.has(at)) continue;
            matchLen.set(at, i + 1);
            if (matchLen.size >= topK) break;
          }
        }
        let best = 0;
        for (const [at, len] of matchLen) {
          scores[at] = Math.trunc((len / hashes.length) * 100);
          best = Math.max(best, len);
        }
        deps.metrics.prefixMatchRatio.observe({ model: ctx.model }, best / hashes.length);
        return scores;
      },
      postSchedule(ctx, chosen) {
        const hashes = hashesOf(ctx);
        if (hashes.length) index.add(ctx.model, hashes, chosen.state.key);
      },
      onEndpointRemoved(state) {
        index.removeEndpoint(state.key);
      },
      debugState: () => ({ entries: index.entries, bytes: index.bytes, budgetBytes: maxBytes }),
    } as import('../plugin.js').SchedulerPlugin & { index: PrefixIndex };
  },
};
