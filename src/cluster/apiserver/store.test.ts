import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { DiskLog } from './persistence.js';
import { Store, type StoreEvent } from './store.js';

const obj = (name: string, v = 0) => ({ metadata: { name, namespace: 'ns' }, v });

test('one global RV; history window per resource; 410 beyond it', () => {
  const s = new Store(3);
  const seen: StoreEvent[] = [];
  s.addWatcher('/a', { onEvent: (e) => seen.push(e) });
  for (let i = 0; i < 5; i++) s.commit('/a', 'ADDED', `ns/x${i}`, obj(`x${i}`));
  s.commit('/b', 'ADDED', 'ns/y', obj('y'));
  assert.equal(s.rv, 7);
  assert.deepEqual(
    seen.map((e) => e.rv),
    [2, 3, 4, 5, 6],
  );
  assert.equal(s.historySince('/a', 2), 'expired');
  const h = s.historySince('/a', 4);
  assert.ok(h !== 'expired');
  assert.deepEqual(
    (h as StoreEvent[]).map((e) => e.rv),
    [5, 6],
  );
  assert.deepEqual(s.historySince('/b', 1), s.historySince('/b', 1), 'a quiet resource keeps its own window');
  assert.equal((s.historySince('/b', 1) as StoreEvent[]).length, 1);
  assert.deepEqual(
    s.list('/a').map((o) => o.metadata.name),
    ['x0', 'x1', 'x2', 'x3', 'x4'],
  );
  s.compactHistory();
  assert.equal(s.historySince('/a', 6), 'expired');
  assert.deepEqual(s.historySince('/a', 7), []);
});

test('disk log: group commit, compaction into a snapshot, reload', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'kthena-store-'));
  try {
    const { log } = await DiskLog.open(dir, 10);
    const s = new Store(100, log);
    const pending: Promise<void>[] = [];
    for (let i = 0; i < 25; i++) pending.push(s.commit('/a', 'ADDED', `ns/x${i}`, obj(`x${i}`, i)).durable);
    await Promise.all(pending);
    await s.commit('/a', 'DELETED', 'ns/x3', obj('x3')).durable;
    await s.commit('/a', 'MODIFIED', 'ns/x4', obj('x4', 44)).durable;
    await s.close();
    assert.ok((await readdir(dir)).includes('snapshot.json'));
    const { log: log2, state } = await DiskLog.open(dir, 10);
    assert.equal(state.rv, 28);
    const a = state.objects.get('/a')!;
    assert.equal(a.size, 24);
    assert.equal(a.has('ns/x3'), false);
    assert.equal(a.get('ns/x4')?.v, 44);
    await log2.close();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
