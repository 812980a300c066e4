// KV-cache events like vLLM's ZmqEventPublisher: each step's BlockStored / BlockRemoved / AllBlocksCleared
// events form one KVEventBatch, msgpack-encoded and published as 3 frames [topic, 8-byte big-endian
// sequence number, payload] on a PUB socket; an optional ROUTER socket replays buffered batches.
// Encoding is vLLM's msgspec array_like form (the one Kthena's runtime sidecar and older consumers read):
//   batch = [ts, [event, …], data_parallel_rank]
//   ["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium, lora_name]
//   ["BlockRemoved", block_hashes, medium]
//   ["AllBlocksCleared"]
// Newer vLLM (PR #42892) writes maps keyed by field name with the tag under "type"; `format: 'map'` does that.
// zeromq is an optional dependency; without it, asking for an endpoint fails with a clear message.
import { decode, encode } from '@msgpack/msgpack';
import type { Engine } from './engine.js';
import type { KvEvent } from './kv-cache.js';

export function kvEventToWire(e: KvEvent, loraIds?: (name: string) => number | null): unknown[] {
  switch (e.type) {
    case 'BlockStored':
      return [
        'BlockStored',
        e.blockHashes,
        e.parentBlockHash,
        e.tokenIds,
        e.blockSize,
        e.loraName ? (loraIds?.(e.loraName) ?? null) : null,
        'GPU',
        e.loraName,
      ];
    case 'BlockRemoved':
      return ['BlockRemoved', e.blockHashes, 'GPU'];
    case 'AllBlocksCleared':
      return ['AllBlocksCleared'];
  }
}

export type KvEventFormat = 'array' | 'map';

const FIELDS: Record<string, string[]> = {
  BlockStored: ['block_hashes', 'parent_block_hash', 'token_ids', 'block_size', 'lora_id', 'medium', 'lora_name'],
  BlockRemoved: ['block_hashes', 'medium'],
  AllBlocksCleared: [],
};

function toMap(wire: unknown[]): Record<string, unknown> {
  const tag = wire[0] as string;
  const out: Record<string, unknown> = { type: tag };
  FIELDS[tag].forEach((f, i) => {
    out[f] = wire[i + 1];
  });
  return out;
}

export function encodeKvEventBatch(
  events: readonly KvEvent[],
  ts: number,
  dataParallelRank: number | null = null,
  loraIds?: (name: string) => number | null,
  format: KvEventFormat = 'array',
): Uint8Array {
  const wire = events.map((e) => kvEventToWire(e, loraIds));
  if (format === 'map') return encode({ ts, events: wire.map(toMap), data_parallel_rank: dataParallelRank });
  return encode([ts, wire, dataParallelRank]);
}

/** Decodes a payload back into events (for tests and consumers written in TypeScript). */
export function decodeKvEventBatch(payload: Uint8Array): {
  ts: number;
  events: KvEvent[];
  dataParallelRank: number | null;
} {
  const decoded = decode(payload) as unknown;
  let raw: [number, unknown[][], number | null];
  if (Array.isArray(decoded)) raw = decoded as [number, unknown[][], number | null];
  else {
    // Map form: rebuild the positional form.
    const m = decoded as { ts: number; events: Record<string, unknown>[]; data_parallel_rank?: number | null };
    raw = [
      m.ts,
      m.events.map((e) => [e.type, ...(FIELDS[e.type as string] ?? []).map((f) => e[f])]),
      m.data_parallel_rank ?? null,
    ];
  }
  const events = raw[1].map((w): KvEvent => {
    const tag = w[0];
    if (tag === 'BlockStored')
      return {
        type: 'BlockStored',
        blockHashes: w[1] as number[],
        parentBlockHash: (w[2] as number | null) ?? null,
        tokenIds: w[3] as number[],
        blockSize: w[4] as number,
        loraName: (w[7] as string | null) ?? null,
      };
    if (tag === 'BlockRemoved') return { type: 'BlockRemoved', blockHashes: w[1] as number[] };
    if (tag === 'AllBlocksCleared') return { type: 'AllBlocksCleared' };
    throw new Error(`unknown KV event tag ${String(tag)}`);
  });
  return { ts: raw[0], events, dataParallelRank: raw[2] ?? null };
}

export function seqFrame(seq: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(seq);
  return b;
}

const BUFFER_STEPS = 10_000;

/** Binds (or connects) the publisher and wires it to the engine; returns a close function. */
export async function startKvEventPublisher(
  engine: Engine,
  opts: { endpoint: string; replayEndpoint?: string; topic: string; format?: KvEventFormat },
): Promise<{ endpoint: string; replayEndpoint: string | null; close: () => Promise<void> }> {
  let zmq: typeof import('zeromq');
  try {
    zmq = await import('zeromq');
  } catch {
    throw new Error('--kv-events-endpoint needs the optional dependency "zeromq", which is not installed');
  }
  const pub = new zmq.Publisher({ sendHighWaterMark: 100_000, linger: 0 });
  const ep = opts.endpoint;
  const bindIt = /^(tcp:\/\/(\*|\[::\]|0\.0\.0\.0)|ipc:|inproc:)/.test(ep) || ep.includes('*');
  if (bindIt) await pub.bind(ep);
  else pub.connect(ep);
  const topic = Buffer.from(opts.topic);
  let seq = 0n;
  const buffer: { seq: bigint; payload: Uint8Array }[] = [];
  // zeromq.js allows one send in flight per socket: queue frames and drain in order.
  const queue: Buffer[][] = [];
  let sending = false;
  let closed = false;
  const drain = async () => {
    if (sending) return;
    sending = true;
    try {
      while (queue.length > 0 && !closed) await pub.send(queue.shift()!);
    } catch (err) {
      if (!closed) engine.log(`engine-sim: KV event publish failed: ${(err as Error).message}`);
    } finally {
      sending = false;
    }
  };
  const loraIds = (name: string) => engine.loras.get(name)?.id ?? null;
  engine.setKvEventSink((events) => {
    if (closed) return;
    const payload = encodeKvEventBatch(events, Date.now() / 1000, null, loraIds, opts.format ?? 'array');
    const s = seq++;
    buffer.push({ seq: s, payload });
    if (buffer.length > BUFFER_STEPS) buffer.shift();
    queue.push([topic, seqFrame(s), Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength)]);
    void drain();
  });

  let router: InstanceType<typeof zmq.Router> | null = null;
  if (opts.replayEndpoint && opts.replayEndpoint !== 'none') {
    router = new zmq.Router({ linger: 0 });
    await router.bind(opts.replayEndpoint);
    const r = router;
    void (async () => {
      try {
        for await (const frames of r) {
          const [identity, , start] = frames;
          const from = start && start.length === 8 ? start.readBigInt64BE() : 0n;
          for (const b of buffer)
            if (b.seq >= from) await r.send([identity, Buffer.alloc(0), seqFrame(b.seq), Buffer.from(b.payload)]);
          await r.send([identity, Buffer.alloc(0), seqFrame(-1n), Buffer.alloc(0)]);
        }
      } catch (err) {
        if (!closed) engine.log(`engine-sim: KV replay failed: ${(err as Error).message}`);
      }
    })();
  }
  return {
    endpoint: pub.lastEndpoint ?? ep,
    replayEndpoint: router ? (router.lastEndpoint ?? opts.replayEndpoint ?? null) : null,
    close: async () => {
      closed = true;
      pub.close();
      router?.close();
    },
  };
}
