import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ctxFor, ep } from '../testing/fixtures.js';
import { KvAwareness } from './awareness.js';

test('backlog: an endpoint whose requests are overdue (no first byte long after their prediction) is charged for it', async () => {
  let now = 0;
  const kv = new KvAwareness({
    tokenizer: 'local',
    blockSize: 16,
    hashSeed: 0,
    kvEventsPort: 5557,
    subscribe: false,
    now: () => now,
  });
  const a = ep('a');
  const b = ep('b');
  const send = async (id: string, to: typeof a) => {
    const ctx = ctxFor('m', '', { id, body: { prompt: `hello ${id} `.repeat(50) } });
    await kv.prepare(ctx, [a, b]);
    kv.dispatch(ctx, to);
    return ctx;
  };
  const r1 = await send('r1', a);
  const r2 = await send('r2', b);
  assert.equal(kv.backlog().size, 0, 'nothing overdue right after dispatch');
  now = 60_000; // one minute later neither has produced a first token
  kv.firstByte(r2, b);
  const late = kv.backlog();
  assert.ok((late.get('default/a') ?? 0) > 59, `a is ~60 s behind: ${late.get('default/a')}`);
  assert.equal(late.get('default/b'), undefined, 'b answered: not behind');
  const probe = ctxFor('m', '', { id: 'p', body: { prompt: 'probe '.repeat(50) } });
  await kv.prepare(probe, [a, b]);
  const [ia, ib] = kv.inputsFor(probe, [a, b]);
  assert.ok((ia.backlogSec ?? 0) > 59 && (ib.backlogSec ?? 0) === 0);
  kv.done(r1, 'default/a', undefined);
  assert.equal(kv.backlog().size, 0, 'a finished: its backlog is gone');
});
