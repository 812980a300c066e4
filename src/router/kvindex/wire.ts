// Decoding of vLLM's KV-event wire format (msgpack): what engines publish on ZMQ as [topic, 8-byte big-endian sequence,
// payload]. Written against the format, not the simulator's encoder, so the router reads real vLLM publishers:
//   KVEventBatch    [ts, events, data_parallel_rank]                 (msgspec array_like, older vLLM and consumers)
//                   {ts, events, data_parallel_rank}                  (newer vLLM, PR #42892)
//   BlockStored     ["BlockStored", block_hashes, parent_block_hash, token_ids, block_size, lora_id, medium,
//                    lora_name, extra_keys, group_idx, kv_cache_spec_kind, kv_cache_spec_sliding_window]
//                   or the same fields in a map with the tag under "type"; trailing fields may be absent (older vLLM)
//   BlockRemoved    ["BlockRemoved", block_hashes, medium, group_idx]
//   AllBlocksCleared["AllBlocksCleared"]
// Block hashes are opaque to the router (vLLM hashes pickled tuples with sha256 or xxhash, as ints or bytes): they are
// kept only as keys (EngineHash) to follow parents and removals; the index re-hashes token_ids itself.
import { decode } from '@msgpack/msgpack';
import type { BatchOutcome, EngineHash, KvBlockIndex, KvEvent } from './block-index.js';

export interface KvEventBatch {
  ts: number;
  events: KvEvent[];
  dataParallelRank: number | null;
}

/** An engine's block hash as a Map key: exact numbers stay numbers; big ints and bytes become strings. */
export function engineHash(v: unknown): EngineHash {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return v >= -(2n ** 53n) && v <= 2n ** 53n ? Number(v) : `n${v}`;
  if (v instanceof Uint8Array) return `x${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('hex')}`;
  if (typeof v === 'string') return `s${v}`;
  throw new Error(`block hash must be an integer or bytes, got ${typeof v}`);
}

function hashes(v: unknown): EngineHash[] {
  if (!Array.isArray(v)) throw new Error('block_hashes must be an array');
  return v.map(engineHash);
}

const STORED = [
  'block_hashes',
  'parent_block_hash',
  'token_ids',
  'block_size',
  'lora_id',
  'medium',
  'lora_name',
  'extra_keys',
  'group_idx',
] as const;
const REMOVED = ['block_hashes', 'medium', 'group_idx'] as const;

/** Field access over either encoding: positional (index i → wire[i + 1]) or by name. */
function fields(raw: unknown): { tag: string; get(name: string, names: readonly string[]): unknown } {
  if (Array.isArray(raw) && typeof raw[0] === 'string')
    return { tag: raw[0], get: (name, names) => raw[names.indexOf(name) + 1] };
  if (raw && typeof raw === 'object' && typeof (raw as { type?: unknown }).type === 'string') {
    const o = raw as Record<string, unknown>;
    return { tag: o.type as string, get: (name) => o[name] };
  }
  throw new Error('malformed KV event');
}

const optNum = (v: unknown): number | null =>
  typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : v === null || v === undefined ? null : Number.NaN;

function tokenIds(v: unknown): number[] | undefined {
  if (!Array.isArray(v)) return undefined;
  return v.map((t) => (typeof t === 'bigint' ? Number(t) : (t as number)));
}

/** One event in either encoding; undefined for tags the router does not use. */
export function decodeKvEvent(raw: unknown): KvEvent | undefined {
  const f = fields(raw);
  if (f.tag === 'BlockStored') {
    const g = (n: (typeof STORED)[number]) => f.get(n, STORED);
    const bs = optNum(g('block_size'));
    const parent = g('parent_block_hash');
    return {
      type: 'BlockStored',
      blockHashes: hashes(g('block_hashes')),
      blockSize: bs !== null && Number.isFinite(bs) && bs > 0 ? bs : undefined,
      parentBlockHash: parent === null || parent === undefined ? null : engineHash(parent),
      tokenIds: tokenIds(g('token_ids')),
      loraName: typeof g('lora_name') === 'string' ? (g('lora_name') as string) : null,
      medium: typeof g('medium') === 'string' ? (g('medium') as string) : null,
      extraKeys: Array.isArray(g('extra_keys')) ? (g('extra_keys') as unknown[]) : null,
      groupIdx: optNum(g('group_idx')),
    };
  }
  if (f.tag === 'BlockRemoved') {
    const g = (n: (typeof REMOVED)[number]) => f.get(n, REMOVED);
    return {
      type: 'BlockRemoved',
      blockHashes: hashes(g('block_hashes')),
      medium: typeof g('medium') === 'string' ? (g('medium') as string) : null,
      groupIdx: optNum(g('group_idx')),
    };
  }
  if (f.tag === 'AllBlocksCleared') return { type: 'AllBlocksCleared' };
  return undefined;
}

/** Decodes one payload (either encoding); throws on anything that is not a KV event batch. Unknown tags are skipped. */
export function decodeKvBatch(payload: Uint8Array): KvEventBatch {
  const raw = decode(payload, { useBigInt64: true }) as unknown;
  let ts: unknown;
  let list: unknown;
  let rank: unknown;
  if (Array.isArray(raw)) [ts, list, rank] = raw;
  else if (raw && typeof raw === 'object')
    ({ ts, events: list, data_parallel_rank: rank } = raw as Record<string, unknown>);
  if (!Array.isArray(list)) throw new Error('not a KV event batch');
  const events: KvEvent[] = [];
  for (const w of list) {
    const e = decodeKvEvent(w);
    if (e) events.push(e);
  }
  const r = optNum(rank);
  return { ts: Number(ts), events, dataParallelRank: r !== null && Number.isFinite(r) ? r : null };
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
