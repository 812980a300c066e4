// The controller-manager against the local API server over HTTP: informers, work queue, writes, status,
// health/metrics, leader election with failover. Pods are made Ready by the test (no kubelet here).
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import pino from 'pino';
import { crdFor, KINDS } from '../../src/api/index.js';
import { type ApiServer, startApiServer } from '../../src/cluster/apiserver/index.js';
import { startControllerManager } from '../../src/controllers/manager.js';
import { REFS } from '../../src/controllers/modelserving/controller.js';
import { modelServing, role } from '../../src/controllers/modelserving/testkit.js';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import { KubeClient } from '../../src/kube/client.js';
import { CRDS } from '../../src/kube/resource.js';
import { eventually } from '../helpers/run.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

async function pods(client: KubeClient, prefix: string): Promise<Pod[]> {
  const list = await client.list<Pod>(REFS.pods as never, { namespace: 'default' });
  return list.items.filter((p) => p.metadata?.name?.startsWith(prefix));
}

async function makeReady(client: KubeClient, prefix: string): Promise<number> {
  let n = 0;
  for (const p of await pods(client, prefix)) {
    if (p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')) continue;
    const ready: Pod = {
      ...p,
      status: {
        phase: 'Running',
        conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: new Date().toISOString() }],
      },
    };
    await client.replace(REFS.pods as never, ready as never, { subresource: 'status' });
    n++;
  }
  return n;
}

describe('controller-manager on the local API server', () => {
  let api: ApiServer;
  let client: KubeClient;
  before(async () => {
    api = await startApiServer({ port: 0, log });
    client = new KubeClient({ server: api.url });
    await client.create(CRDS, crdFor(KINDS.ModelServing));
    await eventually('ModelServing CRD served', async () => {
      await client.list(REFS.modelServings as never, { namespace: 'default' });
      return true;
    });
  });
  after(async () => {
    await client.close();
    await api.close();
  });

  test('reconciles a PD ModelServing to Available; idle means no writes; health and metrics', async () => {
    const mgr = await startControllerManager({ client, log, workers: 2 });
    try {
      const ms = modelServing('pd', 2, [role('prefill', 1, 1), role('decode', 1, 0)]);
      delete (ms.metadata as { uid?: string }).uid;
      await client.create(REFS.modelServings as never, ms, { namespace: 'default' });
      await eventually('6 pods', async () => (await pods(client, 'pd-')).length === 6);
      const entry = (await pods(client, 'pd-0-prefill-0-0'))[0];
      assert.equal(entry.metadata?.labels?.['modelserving.volcano.sh/entry'], 'true');
      assert.equal(entry.spec?.schedulerName, 'volcano');
      assert.ok(
        (await client.list<any>(REFS.podGroups as never, { namespace: 'default' })).items.some(
          (pg) => pg.metadata.name === 'pd-0' && pg.spec.minMember === 3,
        ),
        'a PodGroup per ServingGroup (the Volcano CRDs are installed)',
      );
      await makeReady(client, 'pd-');
      const done = await eventually('Available', async () => {
        const cur = await client.get<ModelServing>(REFS.modelServings as never, 'pd', 'default');
        return cur.status?.availableReplicas === 2 ? cur : undefined;
      });
      assert.equal(done.status?.conditions?.find((c) => c.type === 'Available')?.status, 'True');
      assert.match(done.status?.labelSelector ?? '', /modelserving.volcano.sh\/role=prefill/);
      // health, readiness, metrics
      assert.equal((await fetch(`${mgr.url}/healthz`)).status, 200);
      assert.equal((await fetch(`${mgr.url}/readyz`)).status, 200);
      assert.equal((await fetch(`${mgr.url}/nope`)).status, 404);
      assert.equal((await fetch(`${mgr.url}/metrics`, { method: 'POST' })).status, 405);
      const text = await (await fetch(`${mgr.url}/metrics`)).text();
      assert.match(text, /kthena_controller_reconcile_total\{controller="modelserving",result="success"\} \d+/);
      // controller-runtime's and client-go's conventional names, for the community's dashboards
      assert.match(text, /controller_runtime_reconcile_total\{controller="modelserving",result="success"\} [1-9]/);
      assert.match(text, /workqueue_adds_total\{name="modelserving"\} [1-9]/);
      assert.match(text, /workqueue_depth\{name="modelserving"\} \d+/);
      assert.match(text, /workqueue_work_duration_seconds_count\{name="modelserving"\} [1-9]/);
      assert.match(text, /kthena_modelserving_replicas\{namespace="[^"]+",name="[^"]+",state="available"\} \d+/);
      assert.match(
        text,
        /kthena_controller_api_requests_total\{controller="modelserving",verb="create",resource="pods",outcome="ok"\} 6/,
      );
      // idle: nothing written for a while
      const writes = () =>
        mgr.metrics
          .getSingleMetric('kthena_controller_api_requests_total')!
          .get()
          .then((m) => m.values.reduce((s, v) => s + v.value, 0));
      const w0 = await writes();
      await new Promise((r) => setTimeout(r, 1500));
      assert.equal(await writes(), w0, 'an idle cluster causes no writes');
    } finally {
      await mgr.close();
    }
  });

  test('state is rebuilt from the cluster: a new manager converges what the old one left half done', async () => {
    const first = await startControllerManager({ client, log, workers: 1 });
    const ms = modelServing('restart', 3, [role('decode', 2, 1)]);
    delete (ms.metadata as { uid?: string }).uid;
    await client.create(REFS.modelServings as never, ms, { namespace: 'default' });
    await eventually('some pods', async () => (await pods(client, 'restart-')).length > 0);
    await first.close();
    // scale while nobody is watching, and lose a pod
    const cur = await client.get<ModelServing>(REFS.modelServings as never, 'restart', 'default');
    cur.spec.replicas = 2;
    await client.replace(REFS.modelServings as never, cur);
    const second = await startControllerManager({ client, log, workers: 3 });
    try {
      await eventually('8 pods', async () => (await pods(client, 'restart-')).length === 8);
      await makeReady(client, 'restart-');
      await eventually('Available 2', async () => {
        const m = await client.get<ModelServing>(REFS.modelServings as never, 'restart', 'default');
        return m.status?.availableReplicas === 2 && m.status.replicas === 2;
      });
    } finally {
      await second.close();
    }
  });

  test('two managers with leader election: one leads, the other takes over when it goes', async () => {
    const lease = {
      leaderElect: true,
      leaseDurationMs: 1500,
      renewDeadlineMs: 1000,
      retryPeriodMs: 200,
      leaseName: 'ms-test',
    };
    const a = await startControllerManager({ client, log, identity: 'a', ...lease });
    const b = await startControllerManager({ client, log, identity: 'b', ...lease });
    try {
      const leader = await eventually('a leader', async () => (a.isLeader() ? a : b.isLeader() ? b : undefined));
      const standby = leader === a ? b : a;
      assert.equal(standby.isLeader(), false, 'exactly one leader');
      assert.equal((await fetch(`${standby.url}/readyz`)).status, 200, 'a standby is ready');
      const ms = modelServing('ha', 1, [role('decode', 1, 0)]);
      delete (ms.metadata as { uid?: string }).uid;
      await client.create(REFS.modelServings as never, ms, { namespace: 'default' });
      await eventually('pod from the leader', async () => (await pods(client, 'ha-')).length === 1);
      await leader.close(); // a graceful stop releases the Lease, so the standby takes over at once
      await eventually('standby takes over', async () => standby.isLeader(), 10_000);
      const oldUid = (await pods(client, 'ha-'))[0].metadata?.uid;
      await client.delete(REFS.pods as never, 'ha-0-decode-0-0', 'default', { gracePeriodSeconds: 0 } as never);
      await eventually('the new leader recreates the pod', async () => {
        const p = await pods(client, 'ha-');
        return p.length === 1 && p[0].metadata?.uid !== oldUid && !p[0].metadata?.deletionTimestamp;
      });
    } finally {
      await a.close();
      await b.close();
    }
  });
});
