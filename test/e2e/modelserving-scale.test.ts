// Scale measurement: N ModelServings × 4 groups × 2 roles on the local API server, time to converge and API
// writes per reconcile, then proof that an idle cluster causes no writes. Pods are made Ready by a stand-in
// kubelet (an informer that flips status), so the figure is the controller's, not process start-up.
// MS_SCALE_N=50 for the documented measurement; the default keeps CI fast.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import pino from 'pino';
import { crdFor, KINDS } from '../../src/api/index.js';
import { startApiServer } from '../../src/cluster/apiserver/index.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { REFS } from '../../src/controllers/modelserving/controller.js';
import { modelServing, role } from '../../src/controllers/modelserving/testkit.js';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import { KubeClient } from '../../src/kube/client.js';
import { Informer } from '../../src/kube/informer.js';
import { CRDS, PODS } from '../../src/kube/resource.js';

const N = Number(process.env.MS_SCALE_N ?? 8);
const log = pino({ level: 'silent' });

test(`${N} ModelServings × 4 groups × 2 roles converge; idle means no writes`, async () => {
  const api = await startApiServer({ port: 0, log, installVolcanoCrds: false });
  const client = new KubeClient({ server: api.url });
  const kubelet = new Informer<Pod>(client, PODS, { namespace: 'default' });
  const readyWrites: Promise<unknown>[] = [];
  const makeReady = (p: Pod) => {
    if (p.status?.phase === 'Running' || p.metadata?.deletionTimestamp) return;
    const ready: Pod = { ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
    readyWrites.push(client.replace(PODS, ready as never, { subresource: 'status' }).catch(() => undefined));
  };
  kubelet.on('add', makeReady);
  kubelet.on('update', (_a, b) => makeReady(b));
  kubelet.start();
  await client.create(CRDS, crdFor(KINDS.ModelServing));
  for (let i = 0; ; i++) {
    try {
      await client.list(REFS.modelServings as never, { namespace: 'default' });
      break;
    } catch (err) {
      if (i > 100) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  const mgr = await startControllerManager({ client, log, workers: 5 });
  const counter = async (name: string) =>
    (await mgr.metrics.getSingleMetric(name)!.get()).values.reduce((s, v) => s + v.value, 0);
  try {
    const t0 = performance.now();
    for (let i = 0; i < N; i++) {
      const ms = modelServing(`scale-${i}`, 4, [role('prefill', 1, 0), role('decode', 1, 0)]);
      delete (ms.metadata as { uid?: string }).uid;
      await client.create(REFS.modelServings as never, ms, { namespace: 'default' });
    }
    for (;;) {
      const list = await client.list<ModelServing>(REFS.modelServings as never, { namespace: 'default' });
      if (list.items.length === N && list.items.every((m) => m.status?.availableReplicas === 4)) break;
      if (performance.now() - t0 > 300_000) throw new Error('did not converge in 5 minutes');
      await new Promise((r) => setTimeout(r, 100));
    }
    const seconds = (performance.now() - t0) / 1000;
    const writes = await counter('kthena_controller_api_requests_total');
    const reconciles = await counter('kthena_controller_reconcile_total');
    const pods = (await client.list<Pod>(PODS, { namespace: 'default' })).items.length;
    assert.equal(pods, N * 4 * 2);
    await new Promise((r) => setTimeout(r, 2000));
    assert.equal(await counter('kthena_controller_api_requests_total'), writes, 'no writes once idle');
    process.stdout.write(
      `# modelserving scale: ${N} ModelServings, ${pods} pods converged in ${seconds.toFixed(2)} s; ` +
        `${writes} API writes over ${reconciles} reconciles (${(writes / reconciles).toFixed(2)} per reconcile); ` +
        `0 writes in 2 s idle\n`,
    );
  } finally {
    await mgr.close();
    await kubelet.stop();
    await Promise.all(readyWrites);
    await client.close();
    await api.close();
  }
});
