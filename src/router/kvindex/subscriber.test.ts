import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DEFAULT_KV_INDEX_OPTIONS, KvBlockIndex } from './block-index.js';
import { KvEventSubscriber } from './subscriber.js';

test('close() while zeromq is still loading leaves no socket behind (the process can exit)', async (t) => {
  try {
    await import('zeromq');
  } catch {
    return t.skip('zeromq is not installed');
  }
  const sub = new KvEventSubscriber(new KvBlockIndex({ ...DEFAULT_KV_INDEX_OPTIONS, now: () => 0 }), undefined, 0);
  // Port 9 (discard) on loopback: nothing answers; the socket would reconnect forever if it were created.
  const pending = sub.subscribe('default/e0', 'tcp://127.0.0.1:9');
  sub.close();
  await pending;
  assert.equal(sub.size, 0);
});
