// Restart back-off lives in the cluster, not in the controller's memory: on the local API server (whose
// ModelServing CRD declares status.servingGroups) the recreation count a group accumulates is kept in status and
// survives a controller-manager restart. Pods are made Ready by the test (no kubelet here).
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

describe('restart back-off across a controller restart', () => {
  let api: ApiServer;
  let client: KubeClient;
  const POD = 'flaky-0-decode-0-0';
  const get = () => client.get<ModelServing>(REFS.modelServings as never, 'flaky', 'default');
  const restarts = async () => (await get()).status?.servingGroups?.[0]?.restarts ?? 0;
  /** Waits for a fresh pod (not `oldUid`), makes it Ready, waits for the group to be Running again. */
  const recovered = async (oldUid?: string) => {
    const pod = await eventually('a fresh pod', async () => {
      const p = await client.get<Pod>(REFS.pods as never, POD, 'default');
      return p.metadata?.uid !== oldUid && !p.metadata?.deletionTimestamp ? p : undefined;
    });
    await client.replace(
      REFS.pods as never,
      { ...pod, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } as never,
      { subresource: 'status' },
    );
    await eventually('Running', async () => (await get()).status?.servingGroups?.[0]?.phase === 'Running');
    return pod.metadata?.uid;
  };
  /** The pod fails: RoleRecreate recreates the role instance (after the back-off) and counts a restart. */
  const kill = async (uid?: string) => {
    const pod = await client.get<Pod>(REFS.pods as never, POD, 'default');
    await client.replace(
      REFS.pods as never,
      { ...pod, status: { phase: 'Failed', conditions: [{ type: 'Ready', status: 'False' }] } } as never,
      { subresource: 'status' },
    );
    return recovered(uid);
  };

  before(async () => {
    api = await startApiServer({ port: 0, log, installVolcanoCrds: false });
    client = new KubeClient({ server: api.url });
    await client.create(CRDS, crdFor(KINDS.ModelServing));
    await eventually('CRD served', async () => {
      await client.list(REFS.modelServings as never, { namespace: 'default' });
      return true;
    });
  });
  after(async () => {
    await client.close();
    await api.close();
  });

  test('the restart count is kept in status and a new manager continues from it', async () => {
    const first = await startControllerManager({ client, log, workers: 1 });
    let uid: string | undefined;
    try {
      const ms = modelServing('flaky', 1, [role('decode', 1, 0)]);
      delete (ms.metadata as { uid?: string }).uid;
      // short back-off so the test does not wait long; the arithmetic itself is unit-tested in plan.test.ts
      ms.metadata.annotations = { 'kthena.io/restart-backoff': '1,2' };
      await client.create(REFS.modelServings as never, ms, { namespace: 'default' });
      uid = await recovered();
      uid = await kill(uid);
      uid = await kill(uid);
      assert.equal(await restarts(), 2);
    } finally {
      await first.close();
    }
    const second = await startControllerManager({ client, log, workers: 1 });
    try {
      await kill(uid);
      assert.equal(await restarts(), 3, 'counted on from the status, not from zero');
      const sg = (await get()).status?.servingGroups?.[0];
      assert.ok(sg?.lastRestartTime && !Number.isNaN(Date.parse(sg.lastRestartTime)));
    } finally {
      await second.close();
    }
  });
});
