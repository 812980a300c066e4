// kubectl against the local control plane: apply, wait for Ready, logs, describe (events from scheduler and
// kubelet), delete that returns once the kubelet has stopped the pod.
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { cluster } from './kubelet-helpers.js';

const hasKubectl = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).status === 0;
const dir = mkdtempSync(join(tmpdir(), 'kubelet-kubectl-'));
const kubeconfig = join(dir, 'kubeconfig');
let env: Awaited<ReturnType<typeof cluster>> | undefined;

before(async () => {
  if (hasKubectl) env = await cluster({ nodes: 1, gpusPerNode: 1, kubeconfigPath: kubeconfig });
});
after(async () => {
  await env?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** kubectl, asynchronously: the API server runs in this process and must keep serving meanwhile. */
function kubectl(args: string[], input?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('kubectl', ['--kubeconfig', kubeconfig, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (b: Buffer) => {
      stdout += b.toString();
    });
    child.stderr.on('data', (b: Buffer) => {
      stderr += b.toString();
    });
    child.once('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input ?? '');
  });
}

const manifest = `apiVersion: v1
kind: Pod
metadata:
  name: hello
spec:
  terminationGracePeriodSeconds: 5
  containers:
  - name: main
    image: busybox
    command: ["sh", "-c", "echo hello from $(POD_NAME); exec sleep 600"]
    env:
    - name: POD_NAME
      valueFrom: {fieldRef: {fieldPath: metadata.name}}
    readinessProbe:
      exec: {command: ["true"]}
      periodSeconds: 1
`;

test('kubectl apply, wait, logs, describe and delete', {
  skip: !hasKubectl && 'kubectl is not installed',
}, async () => {
  const applied = await kubectl(['apply', '-f', '-'], manifest);
  assert.equal(applied.code, 0, applied.stderr);
  assert.match(applied.stdout, /pod\/hello created/);
  const waited = await kubectl(['wait', '--for=condition=Ready', 'pod/hello', '--timeout=90s']);
  assert.equal(waited.code, 0, waited.stderr);
  const logs = await kubectl(['logs', 'hello']);
  assert.equal(logs.stdout, 'hello from hello\n');
  const described = await kubectl(['describe', 'pod', 'hello']);
  assert.equal(described.code, 0, described.stderr);
  for (const r of ['Scheduled', 'Pulled', 'Created', 'Started']) assert.match(described.stdout, new RegExp(r));
  assert.match(described.stdout, /Successfully assigned default\/hello to node-0/);
  const got = await kubectl(['get', 'pod', 'hello', '-o', 'jsonpath={.status.podIP} {.status.phase}']);
  assert.match(got.stdout, /^127\.\d+\.0\.\d+ Running$/);
  const deleted = await kubectl(['delete', 'pod', 'hello', '--timeout=60s']);
  assert.equal(deleted.code, 0, deleted.stderr);
  const gone = await kubectl(['get', 'pod', 'hello']);
  assert.notEqual(gone.code, 0);
  assert.match(gone.stderr, /NotFound|not found/);
});
