// The controller manager against the local API server over HTTP, as `kthena controller-manager` runs beside
// `kthena cluster`: it registers its admission webhooks (the API server then calls them on every create/update),
// and the ModelBooster controller makes, owns and repairs the children. No kubelet here.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pino from 'pino';
import { crdFor, KINDS } from '../../src/api/index.js';
import { type ApiServer, startApiServer } from '../../src/cluster/apiserver/index.js';
import { type RunningControllerManager, startControllerManager } from '../../src/controllers/manager.js';
import { BOOSTER_REFS } from '../../src/controllers/modelbooster/naming.js';
import { pdBooster, vllmBooster } from '../../src/controllers/modelbooster/testing/fixtures.js';
import { KubeClient } from '../../src/kube/client.js';
import { CRDS } from '../../src/kube/resource.js';
import { eventually } from '../helpers/run.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const fresh = <T extends { metadata: { uid?: string; generation?: number } }>(o: T): T => {
  const c = structuredClone(o);
  delete c.metadata.uid;
  delete c.metadata.generation;
  return c;
};

describe('controller-manager with ModelBooster and webhooks on the local API server', () => {
  let api: ApiServer;
  let client: KubeClient;
  let mgr: RunningControllerManager;
  before(async () => {
    api = await startApiServer({ port: 0, log });
    client = new KubeClient({ server: api.url });
    for (const k of ['ModelServing', 'ModelBooster', 'AutoscalingPolicy', 'ModelRoute', 'ModelServer'] as const)
      await client.create(CRDS, crdFor(KINDS[k]));
    await eventually('CRDs served', async () => {
      await client.list(BOOSTER_REFS.modelBoosters as never, { namespace: 'default' });
      await client.list(BOOSTER_REFS.modelServers as never, { namespace: 'default' });
      return true;
    });
    mgr = await startControllerManager({
      client,
      log,
      workers: 2,
      controllers: 'modelbooster',
      webhook: { port: 0, host: '127.0.0.1', register: true },
    });
  });
  after(async () => {
    await mgr.close();
    await client.close();
    await api.close();
  });

  test("a bad booster is rejected by the API server with the webhook's message and field path", async () => {
    const bad = fresh(pdBooster());
    bad.metadata.name = 'bad';
    bad.spec.backend.workers[1].config = { port: 9000 };
    const err = await client
      .create(BOOSTER_REFS.modelBoosters as never, bad as never)
      .catch((e: unknown) => e as Error & { status: number });
    assert.ok(err instanceof Error, 'rejected');
    assert.match(
      err.message,
      /admission webhook "validate\.modelbooster\.workload\.serving\.volcano\.sh" denied the request: validation failed:/,
    );
    assert.match(err.message, /spec\.backend\.workers\[1\]\.config\.port: engine port 9000 differs from 8000/);
    assert.equal(err.status, 422);
    await assert.rejects(client.get(BOOSTER_REFS.modelBoosters as never, 'bad', 'default'), /not found/);
  });

  test("an AutoscalingPolicy gets upstream's behavior defaults on create", async () => {
    const p = {
      apiVersion: 'workload.serving.volcano.sh/v1alpha1',
      kind: 'AutoscalingPolicy',
      metadata: { name: 'p', namespace: 'default' },
      spec: {
        metrics: [{ name: 'w', targetValue: '5' }],
        homogeneousTarget: { minReplicas: 1, maxReplicas: 3, target: { targetRef: { name: 'x' } } },
      },
    };
    const out = await client.create<any>(BOOSTER_REFS.autoscalingPolicies as never, p as never);
    assert.equal(out.spec.behavior.scaleDown.stabilizationWindow, '5m');
    assert.equal(out.spec.behavior.scaleUp.stablePolicy.instances, 4);
  });

  test('a booster gets its owned children and Initialized; a deleted child comes back; a hand edit is undone', async () => {
    const mb = fresh(vllmBooster());
    await client.create(BOOSTER_REFS.modelBoosters as never, mb as never);
    const server = await eventually('ModelServer demo-backend1', () =>
      client.get<any>(BOOSTER_REFS.modelServers as never, 'demo-backend1', 'default').catch(() => undefined),
    );
    assert.equal(server.metadata.ownerReferences[0].kind, 'ModelBooster');
    await eventually('ModelServing and ModelRoute', async () => {
      await client.get(BOOSTER_REFS.modelServings as never, 'demo-backend1', 'default');
      await client.get(BOOSTER_REFS.modelRoutes as never, 'demo', 'default');
      return true;
    });
    const booster = await eventually('Initialized', async () => {
      const b = await client.get<any>(BOOSTER_REFS.modelBoosters as never, 'demo', 'default');
      return b.status?.conditions?.some((c: any) => c.type === 'Initialized') ? b : undefined;
    });
    assert.equal(booster.status.observedGeneration, 1);
    assert.equal(booster.status.conditions.find((c: any) => c.type === 'Active').status, 'False');
    await client.delete(BOOSTER_REFS.modelRoutes as never, 'demo', 'default');
    await eventually('route recreated', () =>
      client.get(BOOSTER_REFS.modelRoutes as never, 'demo', 'default').catch(() => undefined),
    );
    const edited = await client.get<any>(BOOSTER_REFS.modelServers as never, 'demo-backend1', 'default');
    edited.spec.workloadPort.port = 1234;
    await client.replace(BOOSTER_REFS.modelServers as never, edited);
    await eventually('hand edit undone', async () => {
      const s = await client.get<any>(BOOSTER_REFS.modelServers as never, 'demo-backend1', 'default');
      return s.spec.workloadPort.port === 8000;
    });
  });

  test('a foreign ModelServer with the wanted name: Failed with a clear message, and it is left alone', async () => {
    const foreign = {
      apiVersion: 'networking.serving.volcano.sh/v1alpha1',
      kind: 'ModelServer',
      metadata: { name: 'other-backend1', namespace: 'default' },
      spec: {
        model: 'mine',
        inferenceEngine: 'vLLM',
        workloadSelector: { matchLabels: { app: 'mine' } },
        workloadPort: { port: 8000 },
      },
    };
    await client.create(BOOSTER_REFS.modelServers as never, foreign as never);
    const mb = fresh(vllmBooster());
    mb.metadata.name = 'other';
    await client.create(BOOSTER_REFS.modelBoosters as never, mb as never);
    const failed = await eventually('Failed', async () => {
      const b = await client.get<any>(BOOSTER_REFS.modelBoosters as never, 'other', 'default');
      return b.status?.conditions?.find((c: any) => c.type === 'Failed' && c.status === 'True');
    });
    assert.match(failed.message, /ModelServer default\/other-backend1 already exists and is owned by no controller/);
    const still = await client.get<any>(BOOSTER_REFS.modelServers as never, 'other-backend1', 'default');
    assert.equal(still.spec.model, 'mine');
  });
});
