// Token-bucket arithmetic shared by the local limiter and (mirrored in Lua) the Redis limiter. Pure: the caller passes
// the time, so every rule here is tested without waiting.
//
// A bucket holds at most `capacity` tokens and refills at `ratePerMs`. Three operations:
// - take(n): admission of a request's estimated input. Needs min(n, capacity) tokens; on success n are removed, which
//   may leave the bucket in debt (negative) — so a request larger than the whole limit can pass when the bucket is full
//   (upstream rejects it forever) and the debt still keeps the long-run rate.
// - check(n): like take, but consumes nothing (the output bucket must have ≥ 1 token before a request starts).
// - charge(n): reconciliation after the response; always applied, n may be negative (refund), the result is capped at
//   capacity and may go into debt.

export type BucketOp = 'take' | 'check' | 'charge';

export interface BucketState {
  tokens: number;
  /** Time (ms) the tokens were last brought up to date. */
  at: number;
}

export interface BucketSpec {
  capacity: number;
  ratePerMs: number;
}

export interface BucketResult {
  ok: boolean;
  /** Milliseconds until the operation would succeed (0 when ok). */
  waitMs: number;
  state: BucketState;
}

/** Brings a bucket up to `now`; a missing bucket starts full. Time going backwards refills nothing. */
export function refill(state: BucketState | undefined, spec: BucketSpec, now: number): BucketState {
  if (!state) return { tokens: spec.capacity, at: now };
  if (now <= state.at) return state;
  return { tokens: Math.min(spec.capacity, state.tokens + (now - state.at) * spec.ratePerMs), at: now };
}

export function applyOp(
  state: BucketState | undefined,
  spec: BucketSpec,
  op: BucketOp,
  n: number,
  now: number,
): BucketResult {
  const cur = refill(state, spec, now);
  if (op === 'charge') {
    return { ok: true, waitMs: 0, state: { tokens: Math.min(spec.capacity, cur.tokens - n), at: cur.at } };
  }
  const need = Math.min(Math.max(n, 0), spec.capacity);
  if (cur.tokens >= need) {
    return { ok: true, waitMs: 0, state: op === 'take' ? { tokens: cur.tokens - n, at: cur.at } : cur };
  }
  return { ok: false, waitMs: Math.ceil((need - cur.tokens) / spec.ratePerMs), state: cur };
}

/** True when the bucket is indistinguishable from a fresh one (full), so it can be forgotten. */
export function isFull(state: BucketState, spec: BucketSpec, now: number): boolean {
  return refill(state, spec, now).tokens >= spec.capacity;
}

export const UNIT_SECONDS = { second: 1, minute: 60, hour: 3600, day: 86_400, month: 30 * 86_400 } as const;
export type Unit = keyof typeof UNIT_SECONDS;

export function bucketSpec(tokensPerUnit: number, unit: Unit): BucketSpec {
  return { capacity: tokensPerUnit, ratePerMs: tokensPerUnit / (UNIT_SECONDS[unit] * 1000) };
}
