// The PD examples load in the router as documented: two groups of one prefill and one decode engine (pd-demo),
// and the SGLang example picks the sglang connector without a kvConnector.
import assert from 'node:assert/strict';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { ROUTER_FILE } from '../sources/files.js';
import { loadManifests } from '../sources/manifests.js';
import { RouterStore } from '../store/store.js';
import { connectorName } from './connector.js';

const ROOT = join(import.meta.dirname, '../../../examples/router');

test('examples/router/pd-demo: two PD groups, NIXL, every endpoint classified', async () => {
  const dir = join(ROOT, 'pd-demo');
  const files = (await readdir(dir)).filter((f) => ROUTER_FILE.test(f));
  const r = loadManifests(
    await Promise.all(files.map(async (f) => ({ file: f, text: await readFile(join(dir, f), 'utf8') }))),
  );
  assert.deepEqual(r.errors, []);
  const store = new RouterStore();
  store.replaceAll(r.snapshot);
  const topo = store.view.pdByServer.get('default/pd-demo');
  assert.ok(topo);
  assert.deepEqual([...topo.groups.keys()].sort(), ['g0', 'g1']);
  for (const g of topo.groups.values()) {
    assert.equal(g.prefill.length, 1);
    assert.equal(g.decode.length, 1);
  }
  assert.equal(topo.unclassified.length, 0);
  assert.equal(connectorName(store.view.servers.get('default/pd-demo')!), 'nixl');
});

test('examples/router/pd-sglang.yaml: the sglang connector follows from the engine', async () => {
  const r = loadManifests([{ file: 'pd-sglang.yaml', text: await readFile(join(ROOT, 'pd-sglang.yaml'), 'utf8') }]);
  assert.deepEqual(r.errors, []);
  const server = r.snapshot.servers.find((s) => s.metadata.name === 'qwen-sglang-pd');
  assert.ok(server?.spec.workloadSelector.pdGroup);
  assert.equal(connectorName(server), 'sglang');
});
