// Where token buckets live: in this process (LocalBuckets) or in Redis (RedisBuckets, shared by router replicas).
// Both apply the same operations (token-bucket.ts); the Redis one runs them atomically in a Lua script on Redis' clock.
import { Redis } from 'ioredis';
import { applyOp, type BucketOp, type BucketSpec, type BucketState, isFull } from './token-bucket.js';

export interface BucketOutcome {
  ok: boolean;
  waitMs: number;
}

export interface BucketStore {
  apply(key: string, spec: BucketSpec, op: BucketOp, n: number): Promise<BucketOutcome>;
  close(): Promise<void>;
}

export class LocalBuckets implements BucketStore {
  private readonly buckets = new Map<string, { spec: BucketSpec; state: BucketState }>();
  private ops = 0;

  constructor(
    private readonly now: () => number = Date.now,
    private readonly sweepEvery = 1024,
  ) {}

  get size(): number {
    return this.buckets.size;
  }

  applySync(key: string, spec: BucketSpec, op: BucketOp, n: number): BucketOutcome {
    const now = this.now();
    if (++this.ops % this.sweepEvery === 0) this.sweep(now);
    const r = applyOp(this.buckets.get(key)?.state, spec, op, n, now);
    this.buckets.set(key, { spec, state: r.state });
    return { ok: r.ok, waitMs: r.waitMs };
  }

  apply(key: string, spec: BucketSpec, op: BucketOp, n: number): Promise<BucketOutcome> {
    return Promise.resolve(this.applySync(key, spec, op, n));
  }

  /** A full bucket equals a missing one: forgetting it bounds memory (users, removed routes, changed limits). */
  sweep(now = this.now()): void {
    for (const [k, b] of this.buckets) if (isFull(b.state, b.spec, now)) this.buckets.delete(k);
  }

  close(): Promise<void> {
    this.buckets.clear();
    return Promise.resolve();
  }
}

// KEYS[1] = bucket hash (fields tokens, at). ARGV = capacity, ratePerMs, op, n, ttlSeconds.
// Returns {ok, waitMs}. Same rules as applyOp; the clock is Redis TIME so replicas with skewed clocks agree.
export const BUCKET_LUA = `
local cap = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local op = ARGV[3]
local n = tonumber(ARGV[4])
local ttl = tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local s = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(s[1])
local at = tonumber(s[2])
if tokens == nil or at == nil then
  tokens = cap
  at = now
elseif now > at then
  tokens = math.min(cap, tokens + (now - at) * rate)
  at = now
end
local ok = 1
local wait = 0
if op == 'charge' then
  tokens = math.min(cap, tokens - n)
else
  local need = math.min(math.max(n, 0), cap)
  if tokens >= need then
    if op == 'take' then tokens = tokens - n end
  else
    ok = 0
    wait = math.ceil((need - tokens) / rate)
  end
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(at))
redis.call('EXPIRE', KEYS[1], ttl)
return {ok, wait}
`;

type BucketRedis = Redis & {
  kthenaBucket(key: string, cap: number, rate: number, op: string, n: number, ttl: number): Promise<[number, number]>;
};

export interface RedisBucketsOptions {
  /** host:port */
  address: string;
  password?: string;
  /** Per-command timeout: an unreachable Redis must fail fast, not hold requests. */
  commandTimeoutMs?: number;
  keyPrefix?: string;
}

export class RedisBuckets implements BucketStore {
  readonly client: BucketRedis;
  private readonly prefix: string;
  private readonly timeoutMs: number;

  constructor(opts: RedisBucketsOptions) {
    const [host, portText] = splitAddress(opts.address);
    this.prefix = opts.keyPrefix ?? 'kthena:ratelimit:';
    this.timeoutMs = opts.commandTimeoutMs ?? 500;
    const client = new Redis({
      host,
      port: Number(portText),
      password: opts.password || undefined,
      lazyConnect: false,
      // Fail fast while Redis is down (the route's failure mode decides), reconnect in the background.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: this.timeoutMs,
      connectTimeout: 1000,
      retryStrategy: (times) => Math.min(times * 100, 2000),
    });
    client.on('error', () => {
      // Errors surface per command; the connection retries by itself. Logged by the limiter, not here.
    });
    client.defineCommand('kthenaBucket', { numberOfKeys: 1, lua: BUCKET_LUA });
    this.client = client as BucketRedis;
  }

  async apply(key: string, spec: BucketSpec, op: BucketOp, n: number): Promise<BucketOutcome> {
    // Keys expire after 3 units (clamped to [10 min, 90 days]), as upstream: an idle bucket is full long before.
    const unitSec = spec.capacity / spec.ratePerMs / 1000;
    const ttl = Math.round(Math.min(90 * 86_400, Math.max(600, 3 * unitSec)));
    if (this.client.status !== 'ready') await this.waitReady();
    const [ok, wait] = await this.client.kthenaBucket(this.prefix + key, spec.capacity, spec.ratePerMs, op, n, ttl);
    return { ok: ok === 1, waitMs: Number(wait) };
  }

  /** While (re)connecting, wait at most one command timeout; after that the command fails fast. */
  private readyWait?: Promise<void>;

  private waitReady(): Promise<void> {
    // One shared waiter for every request arriving while disconnected.
    this.readyWait ??= new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, this.timeoutMs);
      this.client.once('ready', done);
    }).finally(() => {
      this.readyWait = undefined;
    });
    return this.readyWait;
  }

  async close(): Promise<void> {
    this.client.disconnect();
  }
}

function splitAddress(address: string): [string, string] {
  const i = address.lastIndexOf(':');
  if (i <= 0 || !/^\d+$/.test(address.slice(i + 1)))
    throw new Error(`redis address must be host:port, got "${address}"`);
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), address.slice(i + 1)];
}
