// kvcache-aware against a real redis-server (started here on an ephemeral port) and a real simulated engine.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { startEngine } from '../../../engine/index.js';
import { RouterMetrics } from '../../telemetry/metrics.js';
import { ctxFor, ep, seeded } from '../../testing/fixtures.js';
import { blockKey, kvcacheAwarePlugin, matchOwners, standardBlockHashes } from './kvcache-aware.js';

test('standard block hashes: SHA-256 of 4-byte big-endian token ids, first 8 bytes, top bit cleared', () => {
  // Known answers computed independently (Python hashlib).
  const tokens = [...Array.from({ length: 16 }, (_, i) => i + 1), 128000, 5, 7];
  assert.deepEqual(standardBlockHashes(tokens, 16, 128), ['6615856733697512468', '1901736865782962831']);
  assert.equal(standardBlockHashes(tokens, 16, 1).length, 1, 'maxBlocksToMatch caps the blocks');
});

test('owner matching counts the leading run per candidate, upstream style', () => {
  const o = [new Set(['a', 'b']), new Set(['a']), new Set(['a', 'b']), new Set<string>()];
  assert.deepEqual(
    [...matchOwners(o, ['a', 'b', 'c'])],
    [
      ['a', 3],
      ['b', 1],
    ],
  );
  assert.equal(matchOwners([new Set()], ['a']).size, 0);
});

const hasRedis = spawnSync('redis-server', ['--version']).status === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

test('kvcache-aware reads block owners from a real redis-server', {
  skip: hasRedis ? false : 'redis-server is not installed (apt-get install redis-server)',
}, async () => {
  const port = await freePort();
  const server: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  const eng = await startEngine({ model: 'm', speedup: 100 });
  // Retries until the freshly started server accepts connections.
  const redis = new Redis({ host: '127.0.0.1', port, maxRetriesPerRequest: null, retryStrategy: () => 50 });
  const metrics = new RouterMetrics();
  let plugin: Awaited<ReturnType<typeof kvcacheAwarePlugin.create>> | undefined;
  try {
    assert.equal(await redis.ping(), 'PONG');
    const prompt = 'The quick brown fox jumps over the lazy dog. '.repeat(12);
    const body = { model: 'm', prompt };
    const tokRes = await fetch(`${eng.url}/tokenize`, { method: 'POST', body: JSON.stringify(body) });
    const tokens = ((await tokRes.json()) as { tokens: number[] }).tokens;
    const hashes = standardBlockHashes(tokens, 16, 128);
    assert.ok(hashes.length >= 6);
    const now = String(Math.floor(Date.now() / 1000));
    // a owns every block, b only the first two, c owns a later block but not the first.
    for (const [i, h] of hashes.entries()) {
      const fields: Record<string, string> = { 'a.default': now };
      if (i < 2) fields['b.default'] = now;
      if (i === 3) fields['c.default'] = now;
      await redis.hset(blockKey('m', h), fields);
    }
    plugin = await kvcacheAwarePlugin.create(
      { redisUrl: `redis://127.0.0.1:${port}`, useEndpointPort: true },
      { metrics, rand: seeded(1) },
    );
    const eps = ['a', 'b', 'c', 'd'].map((n) => ({ ...ep(n), origin: eng.url }));
    const ctx = ctxFor('m', prompt, { body });
    await plugin.preSchedule!(ctx, eps);
    const n = hashes.length;
    assert.deepEqual(Array.from(plugin.score!(ctx, eps)), [100, Math.trunc((2 / n) * 100), 0, 0]);
    // Another model's keys never match.
    const other = ctxFor('other', prompt, { body: { model: 'other', prompt } });
    await plugin.preSchedule!(other, eps);
    assert.deepEqual(Array.from(plugin.score!(other, eps)), [0, 0, 0, 0]);
    // Upstream's kvcache_aware_* metrics: one tokenize and one Redis read per request, the best match per model.
    const count = async (name: string) =>
      (await metrics.registry.getSingleMetric(name)!.get()).values
        .filter((v) => (v as { metricName?: string }).metricName?.endsWith('_count'))
        .reduce((a, v) => a + v.value, 0);
    // The engine does not serve "other": its /tokenize fails, which counts as a tokenize error (scored 0 anyway).
    const errors = (await metrics.registry.getSingleMetric('kthena_router_kvcache_aware_errors_total')!.get()).values;
    assert.deepEqual(
      errors.map((v) => [v.labels, v.value]),
      [[{ model: 'other', stage: 'tokenize' }, 1]],
    );
    assert.equal(await count('kthena_router_kvcache_aware_tokenize_duration_seconds'), 1);
    assert.equal(await count('kthena_router_kvcache_aware_redis_duration_seconds'), 1);
    const ratio = (await metrics.registry.getSingleMetric('kthena_router_kvcache_aware_match_ratio')!.get()).values;
    const sumOf = (model: string) =>
      ratio.find((v) => (v as { metricName?: string }).metricName?.endsWith('_sum') && v.labels.model === model)?.value;
    assert.equal(sumOf('m'), 1);
  } finally {
    plugin?.close?.();
    redis.disconnect();
    server.kill('SIGKILL');
    await eng.close();
  }
});
