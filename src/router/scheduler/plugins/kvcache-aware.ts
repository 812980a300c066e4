// kvcache-aware (score), upstream-compatible (reference §3.3): tokens from the engine's /tokenize, 16-token blocks
// hashed independently (SHA-256 of the block's token ids as 4-byte big-endian, first 8 bytes big-endian, top bit
// cleared), owners read from Redis hashes `matrix:kv:block:{model}@{hash}` (fields "<pod>.<namespace>") that
// upstream's runtime sidecar writes from vLLM KV events. Score = 100 × leading blocks owned / blocks.
// Deviations: no pod start-time staleness check (the router has no pod status here) and no background GC;
// `useEndpointPort: true` (ours) tokenizes on the endpoint's serving port instead of a fixed tokenizer port.
import { createHash } from 'node:crypto';
import { Redis } from 'ioredis';
import { request } from 'undici';
import type { RequestContext } from '../../request/context.js';
import type { ServerEndpoint } from '../../store/store.js';
import { type PluginDefinition, positiveArg, type SchedulerPlugin } from '../plugin.js';

/** Upstream's standardized block hashes (decimal strings of 63-bit values). */
export function standardBlockHashes(tokens: readonly number[], blockSize: number, maxBlocks: number): string[] {
  const out: string[] = [];
  for (let off = 0; off < tokens.length && out.length < maxBlocks; off += blockSize) {
    const block = tokens.slice(off, off + blockSize);
    const buf = Buffer.alloc(block.length * 4);
    for (let i = 0; i < block.length; i++) buf.writeUInt32BE(block[i] >>> 0, i * 4);
    const digest = createHash('sha256').update(buf).digest();
    out.push((digest.readBigUInt64BE(0) & 0x7fffffffffffffffn).toString(10));
  }
  return out;
}

export const blockKey = (model: string, hash: string) => `matrix:kv:block:${model}@${hash}`;
export const ownerId = (ep: ServerEndpoint) => `${ep.state.name}.${ep.state.namespace}`;

/** Leading-run match over per-block owner sets (upstream's counting). */
export function matchOwners(
  owners: readonly ReadonlySet<string>[],
  candidates: readonly string[],
): Map<string, number> {
  const counts = new Map<string, number>();
  if (owners.length === 0 || owners[0].size === 0) return counts;
  for (const c of candidates) if (owners[0].has(c)) counts.set(c, 1);
  for (let i = 1; i < owners.length; i++) {
    let any = false;
    for (const [c, n] of counts)
      if (n === i && owners[i].has(c)) {
        counts.set(c, n + 1);
        any = true;
      }
    if (!any) break;
  }
  return counts;
}

function redisFromArgs(args: Record<string, unknown>): Redis {
  const url = (args.redisUrl as string | undefined) ?? process.env.REDIS_URL;
  const opts = { maxRetriesPerRequest: 1, connectTimeout: 5000, commandTimeout: 5000 };
  if (url) return new Redis(url, opts);
  return new Redis({
    host: process.env.REDIS_HOST ?? 'redis-server',
    port: Number(process.env.REDIS_PORT ?? 6379),
    password: process.env.REDIS_PASSWORD || undefined,
    ...opts,
  });
}

export const kvcacheAwarePlugin: PluginDefinition = {
  name: 'kvcache-aware',
  roles: ['score'],
  create(args, deps): SchedulerPlugin {
    const blockSize = positiveArg(args, 'blockSizeToHash', 16);
    const maxBlocks = positiveArg(args, 'maxBlocksToMatch', 128);
    const tokenizerPort = positiveArg(args, 'vllmTokenizerPort', 8000);
    const useEndpointPort = args.useEndpointPort === true;
    const redis = redisFromArgs(args);
    redis.on('error', () => {}); // reported per request via `errors`
    let errors = 0;
    const m = deps.metrics;
    const tokenize = async (ctx: RequestContext, eps: readonly ServerEndpoint[]): Promise<number[]> => {
      const ep = eps[Math.floor(deps.rand() * eps.length)];
      if (ep.state.engine !== 'vLLM') m.tokenizerUnsupportedEngine.inc({ model: ctx.model, engine: ep.state.engine });
      const host = ep.state.address.includes(':') ? `[${ep.state.address}]` : ep.state.address;
      const url = useEndpointPort ? `${ep.origin}/tokenize` : `http://${host}:${tokenizerPort}/tokenize`;
      const b = ctx.body;
      const payload = Array.isArray(b.messages)
        ? { model: ctx.model, messages: b.messages, add_special_tokens: false, add_generation_prompt: true }
        : { model: ctx.model, prompt: ctx.promptText, add_special_tokens: true, return_token_strs: false };
      const res = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(payload),
        headersTimeout: 5000,
        bodyTimeout: 5000,
      });
      const json = (await res.body.json()) as { tokens?: number[] };
      if (res.statusCode !== 200 || !Array.isArray(json.tokens)) throw new Error(`tokenize: HTTP ${res.statusCode}`);
      return json.tokens;
    };
    return {
      name: 'kvcache-aware',
      async preSchedule(ctx, eps) {
        ctx.kvOwners = undefined;
        const model = { model: ctx.model };
        let stage = 'tokenize';
        try {
          const t0 = performance.now();
          const tokens = await tokenize(ctx, eps);
          m.kvcacheAwareTokenizeDuration.observe(model, (performance.now() - t0) / 1000);
          stage = 'redis';
          const hashes = standardBlockHashes(tokens, blockSize, maxBlocks);
          const t1 = performance.now();
          const pipe = redis.pipeline();
          for (const h of hashes) pipe.hgetall(blockKey(ctx.model, h));
          const replies = (await pipe.exec()) ?? [];
          m.kvcacheAwareRedisDuration.observe(model, (performance.now() - t1) / 1000);
          const owners = replies.map(([err, v]) => {
            if (err) throw err;
            return new Set(Object.keys((v ?? {}) as Record<string, string>));
          });
          ctx.kvOwners = { owners, blocks: hashes.length };
        } catch {
          errors++;
          m.kvcacheAwareErrors.inc({ model: ctx.model, stage });
        }
      },
      score(ctx, eps) {
        const st = ctx.kvOwners;
        if (!st || st.blocks === 0) return eps.map(() => 0);
        const ids = eps.map(ownerId);
        const matched = matchOwners(st.owners, ids);
        let best = 0;
        for (const n of matched.values()) best = Math.max(best, n);
        m.kvcacheAwareMatchRatio.observe({ model: ctx.model }, best / st.blocks);
        return ids.map((id) => Math.trunc(((matched.get(id) ?? 0) / st.blocks) * 100));
      },
      close: () => redis.disconnect(),
      debugState: () => ({ errors, redis: redis.status }),
    };
  },
};
