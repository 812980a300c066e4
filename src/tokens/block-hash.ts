// Chained block hashes over token ids, the key of the prefix cache and the `block_hashes` of KV events.
//
// Scheme (documented in docs/engine-sim.md so a consumer that knows the token ids can reproduce it):
//   hash(block i) = H(parent = hash(block i-1) or ROOT(seed), extra, token ids of block i)
// where H runs two 32-bit murmur3-style lanes over the token ids, each lane seeded from the parent's low and
// high parts and from `extra` (a per-request key: 0 without LoRA, else loraKey(name)), then keeps
// 53 bits: (lane2 & 0x1fffff) * 2^32 + lane1. 53 bits keep hashes exact JavaScript numbers (fast Map keys,
// exact msgpack integers); with ~10^6 live blocks the chance of any collision is ~10^-4.
// vLLM itself hashes a pickled tuple with sha256/xxhash; its values are not reproducible outside Python either,
// which is why consumers (like Kthena's runtime sidecar) re-hash token ids from BlockStored events.

const TWO_32 = 4294967296;

function rotl(x: number, r: number): number {
  return (x << r) | (x >>> (32 - r));
}

function fmix(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The parent value of the first block, derived from the hash seed (like vLLM's NONE_HASH from PYTHONHASHSEED). */
export function rootHash(seed = 0): number {
  const lo = fmix(Math.imul(seed | 0, 0x9e3779b1) ^ 0x27d4eb2f);
  const hi = fmix(lo ^ 0x165667b1) & 0x1fffff;
  return hi * TWO_32 + lo;
}

/**
 * Hash of the block `tokens[start:end]` chained to `parent` (null → the root for `seed`).
 * `extra` mixes request-level keys into every block (LoRA adapter, cache salt).
 */
export function hashBlock(
  parent: number | null,
  tokens: ArrayLike<number>,
  start = 0,
  end = tokens.length,
  extra = 0,
  seed = 0,
): number {
  const p = parent ?? rootHash(seed);
  const pLo = (p % TWO_32) >>> 0;
  const pHi = Math.floor(p / TWO_32) >>> 0;
  let h1 = (pLo ^ 0x9747b28c ^ extra) >>> 0;
  let h2 = (pHi ^ 0x5bd1e995 ^ Math.imul(extra, 0x27d4eb2f)) >>> 0;
  for (let i = start; i < end; i++) {
    let k = Math.imul(tokens[i] | 0, 0xcc9e2d51);
    k = rotl(k, 15);
    k = Math.imul(k, 0x1b873593);
    h1 ^= k;
    h1 = rotl(h1, 13);
    h1 = (Math.imul(h1, 5) + 0xe6546b64) | 0;
    h2 ^= Math.imul(k ^ h1, 0x85ebca77);
    h2 = rotl(h2, 17);
    h2 = (Math.imul(h2, 0xc2b2ae3d) + 0x165667b1) | 0;
  }
  const len = end - start;
  const f1 = fmix((h1 ^ len) >>> 0);
  const f2 = fmix((h2 ^ f1 ^ len) >>> 0);
  return (f2 & 0x1fffff) * TWO_32 + f1;
}

/** Hashes of every full block of `tokens`, chained from the root. */
export function blockHashes(tokens: ArrayLike<number>, blockSize: number, extra = 0, seed = 0): number[] {
  const out: number[] = [];
  let parent: number | null = null;
  for (let s = 0; s + blockSize <= tokens.length; s += blockSize) {
    parent = hashBlock(parent, tokens, s, s + blockSize, extra, seed);
    out.push(parent);
  }
  return out;
}

/** A 32-bit key for a string (LoRA adapter name, cache salt) to pass as `extra`. 0 is reserved for "none". */
export function extraKey(name: string | null | undefined): number {
  if (!name) return 0;
  let h = 0x811c9dc5;
  for (let i = 0; i < name.length; i++) {
    h ^= name.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0 || 1;
}
