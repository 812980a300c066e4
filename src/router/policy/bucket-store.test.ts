// The Redis Lua bucket against a real redis-server (started here on a free port, no persistence).
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, before, test } from 'node:test';
import { RedisBuckets } from './bucket-store.js';
import { startRedis, type TestRedis } from './testing/redis-server.js';
import { bucketSpec } from './token-bucket.js';

let redis: TestRedis | undefined;
const skip = 'redis-server is not installed (apt-get install redis-server, or set REDIS_SERVER_BIN)';

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await redis?.stop();
});

// Hour-long units: refill during a test run is < 1 token, so results are exact without any timing assumption.
const hourly = (n: number) => bucketSpec(n, 'hour');

/** These tests are about the bucket script, not connecting: on a loaded machine a connection can take longer than the
 *  fail-fast window the limiter gives a first command (that window has its own test below). */
async function connected(...stores: RedisBuckets[]): Promise<void> {
  for (const x of stores) if (x.client.status !== 'ready') await once(x.client, 'ready');
}

test('redis bucket: take / check / charge follow the local rules', async (t) => {
  if (!redis) return t.skip(skip);
  const b = new RedisBuckets({ address: redis.address, keyPrefix: 'test1:' });
  await connected(b);
  try {
    const spec = hourly(100);
    assert.deepEqual(await b.apply('k', spec, 'take', 60), { ok: true, waitMs: 0 });
    const rej = await b.apply('k', spec, 'take', 60);
    assert.equal(rej.ok, false);
    assert.ok(rej.waitMs > 700_000 && rej.waitMs <= 720_000, `~20 tokens at 100/h = 12 min, got ${rej.waitMs}`);
    assert.equal((await b.apply('k', spec, 'check', 1)).ok, true, 'check consumes nothing');
    await b.apply('k', spec, 'charge', 50);
    assert.equal((await b.apply('k', spec, 'check', 1)).ok, false, 'charged into debt');
    await b.apply('k', spec, 'charge', -200);
    assert.equal((await b.apply('k', spec, 'take', 100)).ok, true, 'refund capped at capacity, full again');
    assert.equal((await b.apply('k', spec, 'take', 1)).ok, false);
    const ttl = await b.client.ttl('test1:k');
    assert.ok(ttl > 3 * 3600 - 5 && ttl <= 3 * 3600, `ttl = 3 units, got ${ttl}`);
  } finally {
    await b.close();
  }
});

test('redis bucket: two router replicas share one limit', async (t) => {
  if (!redis) return t.skip(skip);
  const a = new RedisBuckets({ address: redis.address, keyPrefix: 'test2:' });
  const b = new RedisBuckets({ address: redis.address, keyPrefix: 'test2:' });
  try {
    await connected(a, b);
    const spec = hourly(50);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? a : b).apply('shared', spec, 'take', 5)),
    );
    assert.equal(results.filter((r) => r.ok).length, 10, 'exactly 50 tokens admitted across both replicas');
  } finally {
    await a.close();
    await b.close();
  }
});

test('redis bucket: an unreachable redis fails fast with an error', async (t) => {
  if (!redis) return t.skip(skip);
  const b = new RedisBuckets({ address: '127.0.0.1:1', commandTimeoutMs: 200 });
  try {
    await assert.rejects(b.apply('x', hourly(5), 'take', 1));
  } finally {
    await b.close();
  }
});

test('redis bucket: a bad address is a clear error', () => {
  assert.throws(() => new RedisBuckets({ address: 'no-port' }), /host:port/);
});
