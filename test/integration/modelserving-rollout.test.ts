// `kthena rollout history|undo` against the local API server with the controller-manager running: kubectl
// applies a ModelServing and changes it twice, the history shows three revisions, undo restores a template.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { Pod } from 'kubernetes-types/core/v1.js';
import pino from 'pino';
import { crdFor, KINDS } from '../../src/api/index.js';
import { rolloutHistory, rolloutUndo } from '../../src/cli/rollout.js';
import { type ApiServer, startApiServer } from '../../src/cluster/apiserver/index.js';
import { type RunningControllerManager, startControllerManager } from '../../src/controllers/manager.js';
import { REFS } from '../../src/controllers/modelserving/controller.js';
import type { ModelServing } from '../../src/controllers/modelserving/types.js';
import { KubeClient } from '../../src/kube/client.js';
import { CRDS } from '../../src/kube/resource.js';
import { eventually, runCommand as run } from '../helpers/run.js';

const log = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });
const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;

const kthena = (...args: string[]) => run(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args]);

function manifest(image: string, cause: string): string {
  return `apiVersion: workload.serving.volcano.sh/v1alpha1
kind: ModelServing
metadata:
  name: llm
  namespace: default
  annotations:
    kubernetes.io/change-cause: "${cause}"
spec:
  replicas: 1
  template:
    roles:
      - name: decode
        replicas: 1
        workerReplicas: 0
        entryTemplate:
          spec:
            containers:
              - name: engine
                image: ${image}
`;
}

describe('kthena rollout on the local control plane', { skip: hasKubectl ? false : 'kubectl not installed' }, () => {
  let dir: string;
  let kubeconfig: string;
  let api: ApiServer;
  let client: KubeClient;
  let mgr: RunningControllerManager;
  const image = async () =>
    (await client.get<ModelServing>(REFS.modelServings as never, 'llm', 'default')).spec.template.roles[0].entryTemplate
      .spec?.containers[0].image;
  const numbers = async () =>
    (
      await client.list<ControllerRevision>(REFS.controllerRevisions as never, {
        namespace: 'default',
        labelSelector: 'modelserving.volcano.sh/name=llm',
      })
    ).items
      .map((c) => c.revision)
      .sort((a, b) => a - b)
      .join(',');
  const podImage = async () =>
    (await client.get<Pod>(REFS.pods as never, 'llm-0-decode-0-0', 'default')).spec?.containers[0].image;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'kthena-rollout-'));
    kubeconfig = join(dir, 'kubeconfig');
    api = await startApiServer({ port: 0, kubeconfigPath: kubeconfig, log });
    client = new KubeClient({ server: api.url });
    await client.create(CRDS, crdFor(KINDS.ModelServing));
    await eventually('ModelServing CRD served', async () => {
      await client.list(REFS.modelServings as never, { namespace: 'default' });
      return true;
    });
    mgr = await startControllerManager({ client, log, workers: 1 });
  });
  after(async () => {
    await mgr?.close();
    await client?.close();
    await api?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  test('apply, change twice: three revisions; undo restores the template; errors exit non-zero', async () => {
    for (const [v, want] of [
      ['v1', '1'],
      ['v2', '1,2'],
      ['v3', '1,2,3'],
    ]) {
      const r = await run(
        'kubectl',
        ['--kubeconfig', kubeconfig, 'apply', '--validate=false', '-f', '-'],
        manifest(`engine:${v}`, `set image ${v}`),
      );
      assert.equal(r.status, 0, r.stderr);
      await eventually(`revisions ${want}`, async () => (await numbers()) === want);
    }
    await eventually('pod on v3', async () => (await podImage()) === 'engine:v3');

    // the real CLI, through the kubeconfig
    const h = await kthena('rollout', 'history', 'modelserving/llm', '--kubeconfig', kubeconfig);
    assert.equal(h.status, 0, h.stderr);
    assert.equal(
      h.stdout,
      [
        'modelserving.workload.serving.volcano.sh/llm',
        'REVISION  CHANGE-CAUSE',
        '1         set image v1',
        '2         set image v2',
        '3         set image v3',
        '',
      ].join('\n'),
    );
    const one = await rolloutHistory(client, 'default', ['modelserving/llm'], 2);
    assert.match(one, /with revision #2[\s\S]*image: engine:v2/);

    // the CLI action's own function, in-process (each CLI start costs seconds on a loaded machine; the flag
    // parsing is covered by src/cli/rollout.test.ts)
    assert.equal(
      await rolloutUndo(client, 'default', ['modelserving/llm']),
      'modelserving.workload.serving.volcano.sh/llm rolled back to revision 2\n',
    );
    assert.equal(await image(), 'engine:v2');
    await eventually('revision 2 renumbered as 4', async () => (await numbers()) === '1,3,4');
    await eventually('pod back on v2', async () => (await podImage()) === 'engine:v2');

    assert.equal(
      await rolloutUndo(client, 'default', ['modelserving', 'llm'], 1),
      'modelserving.workload.serving.volcano.sh/llm rolled back to revision 1\n',
    );
    assert.equal(await image(), 'engine:v1');
    await eventually('revision 1 renumbered as 5', async () => (await numbers()) === '3,4,5');
    assert.match(
      await rolloutUndo(client, 'default', ['modelserving/llm'], 5),
      /skipped rollback \(current template already matches revision 5\)/,
    );

    // errors: clear message on stderr, non-zero exit, nothing changed
    const bad = await kthena('rollout', 'undo', 'deployment/llm', '--kubeconfig', kubeconfig);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /doesn't have a resource type "deployment"/);
    // the other errors in-process (each CLI start costs seconds on a loaded machine); main.ts turns any of
    // them into `kthena: <message>` and exit 1, as the case above shows
    await assert.rejects(
      rolloutUndo(client, 'default', ['modelserving/llm'], 42),
      /unable to find the specified revision 42/,
    );
    await assert.rejects(rolloutHistory(client, 'default', ['modelserving/llm'], 42), /unable to find/);
    await assert.rejects(
      rolloutHistory(client, 'default', ['modelserving/ghost']),
      /modelservings.workload.serving.volcano.sh "ghost" not found/,
    );
    await assert.rejects(rolloutUndo(client, 'nowhere', ['modelserving/llm']), /not found/);
    assert.equal(await image(), 'engine:v1');
  });
});
