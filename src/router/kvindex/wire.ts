// Decoding of vLLM's KV-event wire format (msgspec array_like, msgpack): what the engines publish on ZMQ as
// [topic, 8-byte big-endian sequence, payload]. Written against the format, not the simulator's encoder, so the router
// reads real vLLM publishers too (hashes that do not fit a double are kept as their decimal string's number value,
// which only matters for matching our own computed hashes, see docs/scheduling.md).
import { decode } from '@msgpack/msgpack';
import type { BatchOutcome, KvBlockIndex, KvEvent } from './block-index.js';

export interface KvEventBatch {
  ts: number;
  events: KvEvent[];
}

const toHash = (v: unknown): number => (typeof v === 'bigint' ? Number(v) : Number(v));

function hashes(v: unknown): number[] {
  if (!Array.isArray(v)) throw new Error('block_hashes must be an array');
  return v.map(toHash);
}

/** Decodes one payload; throws on anything that is not a KV event batch. Unknown event tags are skipped. */
export function decodeKvBatch(payload: Uint8Array): KvEventBatch {
  const raw = decode(payload) as unknown;
  if (!Array.isArray(raw) || raw.length < 2 || !Array.isArray(raw[1])) throw new Error('not a KV event batch');
  const events: KvEvent[] = [];
  for (const w of raw[1] as unknown[]) {
    if (!Array.isArray(w) || typeof w[0] !== 'string') throw new Error('malformed KV event');
    if (w[0] === 'BlockStored') {
      const bs = Number(w[4]);
      events.push({ type: 'BlockStored', blockHashes: hashes(w[1]), blockSize: Number.isFinite(bs) ? bs : undefined });
    } else if (w[0] === 'BlockRemoved') events.push({ type: 'BlockRemoved', blockHashes: hashes(w[1]) });
    else if (w[0] === 'AllBlocksCleared') events.push({ type: 'AllBlocksCleared' });
  }
  return { ts: Number(raw[0]), events };
}

/** The 8-byte big-endian sequence frame. */
export function readSeq(frame: Uint8Array): bigint {
  if (frame.byteLength !== 8) throw new Error(`sequence frame must be 8 bytes, got ${frame.byteLength}`);
  return Buffer.from(frame.buffer, frame.byteOffset, 8).readBigInt64BE();
}

/**
 * One published message into the index: the sequence frame and the msgpack payload of one engine's batch. The ZMQ
 * subscriber calls it for every message it receives; callers that carry events some other way (the twin) call it
 * directly. Throws on an undecodable payload or sequence frame.
 */
export function applyKvMessage(
  index: KvBlockIndex,
  endpoint: string,
  seqFrame: Uint8Array,
  payload: Uint8Array,
): BatchOutcome {
  return index.applyBatch(endpoint, readSeq(seqFrame), decodeKvBatch(payload).events);
}
