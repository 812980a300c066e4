// The LeaderWorkerSet adapter on the local API server (upstream e2e LWSAPIBasic): with the LWS CRD installed
// (deploy/crds/lws/), an LWS applied with kubectl gets an owned ModelServing and pods carrying the LWS labels,
// its status follows the ModelServing, a change reaches the ModelServing, and deleting the LWS cleans up.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import pino from 'pino';
import { parse } from 'yaml';
import { crdFor, KINDS } from '../../src/api/index.js';
import { type ApiServer, startApiServer } from '../../src/cluster/apiserver/index.js';
import { type RunningControllerManager, startControllerManager } from '../../src/controllers/manager.js';
import { REFS } from '../../src/controllers/modelserving/controller.js';
import { LWS_REF } from '../../src/controllers/modelserving/lws-controller.js';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import { KubeClient } from '../../src/kube/client.js';
import { CRDS } from '../../src/kube/resource.js';
import { eventually, kubectl } from '../helpers/run.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

const lwsManifest = (replicas: number) => `apiVersion: leaderworkerset.x-k8s.io/v1
kind: LeaderWorkerSet
metadata:
  name: vllm
  namespace: default
spec:
  replicas: ${replicas}
  leaderWorkerTemplate:
    size: 2
    leaderTemplate:
      metadata:
        labels: {role: leader}
      spec:
        containers: [{name: vllm-leader, image: "vllm/vllm-openai:latest"}]
    workerTemplate:
      spec:
        containers: [{name: vllm-worker, image: "vllm/vllm-openai:latest"}]
`;

describe('LeaderWorkerSet adapter', { skip: hasKubectl ? false : 'kubectl not installed' }, () => {
  let dir: string;
  let kubeconfig: string;
  let api: ApiServer;
  let client: KubeClient;
  let mgr: RunningControllerManager;
  const pods = async () =>
    (
      await client.list<Pod>(REFS.pods as never, {
        namespace: 'default',
        labelSelector: 'modelserving.volcano.sh/name=vllm',
      })
    ).items;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kthena-lws-'));
    kubeconfig = join(dir, 'kubeconfig');
    api = await startApiServer({ port: 0, kubeconfigPath: kubeconfig, log });
    client = new KubeClient({ server: api.url });
    await client.create(CRDS, crdFor(KINDS.ModelServing));
    await client.create(
      CRDS,
      parse(readFileSync('deploy/crds/lws/leaderworkerset.x-k8s.io_leaderworkersets.yaml', 'utf8')),
    );
    await eventually('CRDs served', async () => {
      await client.list(REFS.modelServings as never, { namespace: 'default' });
      await client.list(LWS_REF as never, { namespace: 'default' });
      return true;
    });
    mgr = await startControllerManager({ client, log, workers: 2 });
  });
  after(async () => {
    await mgr?.close();
    await client?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('LWS → owned ModelServing and labelled pods; status written back; change and deletion follow', async () => {
    const r = await kubectl(['--kubeconfig', kubeconfig, 'apply', '--validate=false', '-f', '-'], lwsManifest(2));
    assert.equal(r.status, 0, r.stderr);
    const lws = await client.get<any>(LWS_REF as never, 'vllm', 'default');
    const ms = await eventually('the ModelServing', () =>
      client.get<ModelServing>(REFS.modelServings as never, 'vllm', 'default'),
    );
    assert.equal(ms.metadata.ownerReferences?.[0].uid, lws.metadata.uid);
    assert.equal(ms.spec.template.roles[0].workerReplicas, 1);
    const ps = await eventually('4 pods', async () => ((await pods()).length === 4 ? pods() : undefined));
    const leader = ps.find((p) => p.metadata?.name === 'vllm-1-default-0-0')!;
    assert.equal(leader.metadata?.labels?.role, 'leader', 'leader template labels');
    assert.equal(leader.metadata?.labels?.['leaderworkerset.sigs.k8s.io/name'], 'vllm');
    assert.equal(leader.metadata?.labels?.['leaderworkerset.sigs.k8s.io/group-index'], '1');
    assert.equal(leader.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index'], '0');
    const worker = ps.find((p) => p.metadata?.name === 'vllm-1-default-0-1')!;
    assert.equal(worker.spec?.containers[0].name, 'vllm-worker');
    assert.equal(worker.metadata?.labels?.['leaderworkerset.sigs.k8s.io/worker-index'], '1');

    // pods Ready (no kubelet here) → the ModelServing is available → the LWS status says so
    for (const p of ps)
      await client.replace(
        REFS.pods as never,
        { ...p, status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } } as never,
        {
          subresource: 'status',
        },
      );
    await eventually('LWS status', async () => {
      const cur = await client.get<any>(LWS_REF as never, 'vllm', 'default');
      return cur.status?.replicas === 2 && cur.status?.readyReplicas === 2;
    });

    // a change of the LWS reaches the ModelServing
    const r2 = await kubectl(['--kubeconfig', kubeconfig, 'apply', '--validate=false', '-f', '-'], lwsManifest(1));
    assert.equal(r2.status, 0, r2.stderr);
    await eventually(
      'ModelServing scaled to 1',
      async () => (await client.get<ModelServing>(REFS.modelServings as never, 'vllm', 'default')).spec.replicas === 1,
    );

    // deleting the LWS garbage-collects the ModelServing and its pods
    const del = await kubectl(['--kubeconfig', kubeconfig, 'delete', 'leaderworkerset', 'vllm', '--wait=false']);
    assert.equal(del.status, 0, del.stderr);
    await eventually('ModelServing gone', async () => {
      const list = await client.list<ModelServing>(REFS.modelServings as never, { namespace: 'default' });
      return list.items.every((m) => m.metadata.name !== 'vllm');
    });
    await eventually('pods gone', async () => (await pods()).length === 0);
  });
});
