// The eviction budget during a node drain: a ModelServing with `kthena.io/eviction-budget: role:1` on the local
// control plane (API server + kubelet + scheduler) with the controller-manager; real `kubectl drain` evicts
// its pods only while the budget allows (429 otherwise, retried by kubectl), the controller brings evicted
// instances back on the other node, and the Ready count never drops below replicas − 1.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import pino from 'pino';
import { crdFor, KINDS } from '../../src/api/index.js';
import { type Cluster, startCluster } from '../../src/cluster/index.js';
import { type RunningControllerManager, startControllerManager } from '../../src/controllers/manager.js';
import { REFS } from '../../src/controllers/modelserving/controller.js';
import { KubeClient } from '../../src/kube/client.js';
import { CRDS } from '../../src/kube/resource.js';
import { eventually, runCommand as run } from '../helpers/run.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const REPLICAS = 3;

const MANIFEST = `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata:
  name: llm
  namespace: default
  annotations:
    kthena.io/eviction-budget: "role:1"
spec:
  replicas: ${REPLICAS}
  schedulerName: default-scheduler
  template:
    roles:
      - name: decode
        replicas: 1
        workerReplicas: 0
        entryTemplate:
          spec:
            terminationGracePeriodSeconds: 1
            containers:
              - name: engine
                image: busybox
                command: ["sleep", "3600"]
`;

const ready = (p: Pod) =>
  !p.metadata?.deletionTimestamp && !!p.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');

describe('node drain honours the ModelServing eviction budget', {
  skip: hasKubectl ? false : 'kubectl not installed',
}, () => {
  let dir: string;
  let kubeconfig: string;
  let cluster: Cluster;
  let client: KubeClient;
  let mgr: RunningControllerManager;
  const pods = async () =>
    (
      await client.list<Pod>(REFS.pods as never, {
        namespace: 'default',
        labelSelector: 'modelserving.volcano.sh/name=llm',
      })
    ).items;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kthena-drain-'));
    kubeconfig = join(dir, 'kubeconfig');
    cluster = await startCluster({ port: 0, nodes: 2, gpusPerNode: 0, kubeconfigPath: kubeconfig, dataDir: dir, log });
    client = new KubeClient({ server: cluster.url });
    await client.create(CRDS, crdFor(KINDS.ModelServing));
    await eventually('ModelServing CRD served', async () => {
      await client.list(REFS.modelServings as never, { namespace: 'default' });
      return true;
    });
    mgr = await startControllerManager({ client, log, workers: 2 });
  });
  after(async () => {
    await mgr?.close();
    await client?.close();
    await cluster?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('kubectl drain evicts one pod at a time; Ready pods never fall below the budget', async (t) => {
    const applied = await run(
      'kubectl',
      ['--kubeconfig', kubeconfig, 'apply', '--validate=false', '-f', '-'],
      MANIFEST,
    );
    assert.equal(applied.status, 0, applied.stderr);
    const pdb = await eventually('the PodDisruptionBudget', () =>
      client.get<PodDisruptionBudget>(REFS.podDisruptionBudgets as never, 'llm-decode', 'default'),
    );
    assert.equal(pdb.spec?.minAvailable, REPLICAS - 1);
    const first = await eventually('all pods Ready', async () => {
      const ps = await pods();
      return ps.length === REPLICAS && ps.every(ready) ? ps : undefined;
    });
    // drain the node holding the most pods (≥ 2 of 3 on 2 nodes)
    const perNode = new Map<string, number>();
    for (const p of first) perNode.set(p.spec!.nodeName!, (perNode.get(p.spec!.nodeName!) ?? 0) + 1);
    const [node, count] = [...perNode].sort((a, b) => b[1] - a[1])[0];
    assert.ok(count >= 2);

    // watch the Ready count for the whole drain
    let minReady = REPLICAS;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const n = (await pods().catch(() => first)).filter(ready).length;
        minReady = Math.min(minReady, n);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const drain = await run('kubectl', [
      '--kubeconfig',
      kubeconfig,
      'drain',
      node,
      '--ignore-daemonsets',
      '--delete-emptydir-data',
      '--timeout=150s',
    ]);
    watching = false;
    await watcher;
    t.diagnostic(`kubectl drain: ${drain.stdout.trim()} / ${drain.stderr.trim()}`);
    assert.equal(drain.status, 0, `${drain.stdout}\n${drain.stderr}`);
    assert.match(drain.stdout, /evicted/);
    // kubectl met at least one refusal (429) and retried it
    assert.match(drain.stderr, /Cannot evict pod as it would violate the pod's disruption budget/);
    assert.ok(minReady >= REPLICAS - 1, `Ready pods fell to ${minReady}`);
    // everything is back, and nothing runs on the drained node
    const after = await eventually('all pods Ready again', async () => {
      const ps = await pods();
      return ps.length === REPLICAS && ps.every(ready) ? ps : undefined;
    });
    assert.ok(
      after.every((p) => p.spec?.nodeName !== node),
      'no pod on the drained node',
    );
    const shown = await run('kubectl', ['--kubeconfig', kubeconfig, 'get', 'pdb', 'llm-decode', '--no-headers']);
    assert.match(shown.stdout, /^llm-decode\s+2\s+N\/A\s+1\s/);
  });
});
