// Public entry points of the engine simulator: start one engine or N replicas. The tokenizer and the block-hash
// scheme live in the tokens room (src/tokens), which the router imports directly; they are re-exported here for
// callers that only know the engine.

import { HfTokenizer } from '../tokens/index.js';
import type { EngineOptions } from './config.js';
import { Engine } from './engine.js';
import { EngineServer } from './http.js';
import { startKvEventPublisher } from './kv-events.js';

export {
  applyChatTemplate,
  BOS_TOKEN_ID,
  blockHashes,
  type ChatMessage,
  countTokens,
  EOS_TOKEN_ID,
  encodeChat,
  encodePrompt,
  extraKey,
  hashBlock,
  rootHash,
  tokenize,
} from '../tokens/index.js';
export { type Clock, VirtualClock, WallClock } from './clock.js';
export type { EngineKind, EngineOptions, EngineRole } from './config.js';
export { coefficients, type StepCoefficients } from './cost-model.js';
export type { FaultMode, FaultSpec, KvTransferParams } from './engine.js';
export { Engine } from './engine.js';
export { encodeKvEventBatch, seqFrame } from './kv-events.js';
export { type ParsedGeneration, parseGeneration } from './openai-request.js';
export { getProfile, kvBytesPerToken, numGpuBlocks, PROFILES, type Profile } from './profiles.js';
export type { EngineRequest } from './request.js';

export interface RunningEngine {
  url: string;
  port: number;
  host: string;
  engine: Engine;
  /** Bound KV-events endpoint (with the real port when asked for tcp://host:*), if publishing. */
  kvEventsEndpoint?: string;
  kvEventsReplayEndpoint?: string;
  close(): Promise<void>;
}

/** Starts one engine with its HTTP server (port 0 = ephemeral) and, if asked, its KV-event publisher. */
export async function startEngine(opts: EngineOptions): Promise<RunningEngine> {
  if (typeof opts.tokenizer === 'string') opts = { ...opts, tokenizer: await loadTokenizer(opts.tokenizer) };
  const engine = new Engine(opts);
  const server = new EngineServer(engine, opts.enableAdmin === true);
  const host = opts.host ?? '127.0.0.1';
  let addr: { port: number };
  try {
    addr = await server.listen(opts.port ?? 0, host);
  } catch (err) {
    engine.close();
    throw err;
  }
  let publisher: Awaited<ReturnType<typeof startKvEventPublisher>> | null = null;
  if (opts.kvEventsEndpoint) {
    try {
      publisher = await startKvEventPublisher(engine, {
        endpoint: opts.kvEventsEndpoint,
        replayEndpoint: opts.kvEventsReplayEndpoint ?? defaultReplayEndpoint(opts.kvEventsEndpoint),
        topic: opts.kvEventsTopic ?? '',
        format: opts.kvEventsFormat,
      });
    } catch (err) {
      engine.close();
      await server.close();
      throw err;
    }
  }
  engine.kvEventsReplayEndpoint = publisher?.replayEndpoint ?? null;
  const urlHost = host.includes(':') ? `[${host}]` : host === '0.0.0.0' ? '127.0.0.1' : host;
  let closed = false;
  return {
    url: `http://${urlHost}:${addr.port}`,
    port: addr.port,
    host,
    engine,
    kvEventsEndpoint: publisher?.endpoint,
    kvEventsReplayEndpoint: publisher?.replayEndpoint ?? undefined,
    async close() {
      if (closed) return;
      closed = true;
      engine.close();
      await server.close();
      await publisher?.close();
    },
  };
}

/**
 * Starts `replicas` independent engines in this process. With basePort P, replica i listens on P + i
 * (basePort 0 or omitted = ephemeral ports). A KV-events endpoint tcp://host:N is offset by i as well,
 * like vLLM's data-parallel ranks.
 */
export async function startEngines(
  opts: EngineOptions & { replicas: number; basePort?: number },
): Promise<RunningEngine[]> {
  const { replicas, basePort, ...rest } = opts;
  if (!Number.isInteger(replicas) || replicas < 1) throw new Error('replicas must be a positive integer');
  // Load a tokenizer path once for all replicas.
  if (typeof rest.tokenizer === 'string') rest.tokenizer = await loadTokenizer(rest.tokenizer);
  const out: RunningEngine[] = [];
  try {
    for (let i = 0; i < replicas; i++) {
      out.push(
        await startEngine({
          ...rest,
          port: basePort ? basePort + i : (rest.port ?? 0),
          kvEventsEndpoint: offsetEndpoint(rest.kvEventsEndpoint, i),
          kvEventsReplayEndpoint: offsetEndpoint(rest.kvEventsReplayEndpoint, i),
        }),
      );
    }
  } catch (err) {
    await Promise.all(out.map((e) => e.close()));
    throw err;
  }
  return out;
}

/**
 * Without an explicit replay endpoint, a bound tcp publisher gets a replay socket on an ephemeral port of the same
 * host (announced on /v1/models), so a router that starts later can ask for what was published before it came.
 * "none" turns it off.
 */
export function defaultReplayEndpoint(pub: string): string | undefined {
  const m = /^tcp:\/\/(\*|\[::\]|0\.0\.0\.0):\d+$/.exec(pub);
  return m ? `tcp://${m[1]}:*` : undefined;
}

/** A tokenizer directory or tokenizer.json, with the reason in the message when it does not load. */
export async function loadTokenizer(path: string): Promise<HfTokenizer> {
  try {
    return await HfTokenizer.load(path);
  } catch (err) {
    throw new Error(`cannot load tokenizer from ${path}: ${(err as Error).message}`);
  }
}

/** tcp://host:5557 → tcp://host:5557+i; other transports get a suffix. */
export function offsetEndpoint(ep: string | undefined, i: number): string | undefined {
  if (!ep || i === 0) return ep;
  const m = /^(tcp:\/\/.*):(\d+)$/.exec(ep);
  if (m) return `${m[1]}:${Number(m[2]) + i}`;
  return `${ep}-${i}`;
}
