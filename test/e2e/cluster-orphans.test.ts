// #18 item 2: a SIGKILLed `kthena cluster` leaves no pod process behind, and a restart on the same --data-dir (same
// port, so the pod gets its old IP back) runs the pod without a crash loop — both when the watchdog ends the pods
// and when it was killed too, so the restarted kubelet must reap them from its records.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { parse } from 'yaml';
import { KubeClient, PODS } from '../../src/kube/index.js';
import { freePort } from '../helpers/ports.js';
import { eventually } from '../helpers/run.js';

const dirs: string[] = [];
const children: ChildProcess[] = [];
after(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

function startCli(dataDir: string, port: number): ChildProcess {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'cluster',
      ...['--port', String(port), '--data-dir', dataDir, '--kubeconfig', join(dataDir, 'kc.yaml')],
      ...['--nodes', '1', '--log-level', 'warn'],
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  children.push(child);
  return child;
}

async function clientOf(child: ChildProcess, dataDir: string): Promise<KubeClient> {
  let out = '';
  child.stdout?.on('data', (d) => {
    out += String(d);
  });
  const server = await eventually(
    'kthena cluster start-up',
    async () => /API server at (https?:\/\/\S+)/.exec(out)?.[1],
  );
  const kc = parse(await readFile(join(dataDir, 'kc.yaml'), 'utf8'));
  const ca = Buffer.from(kc.clusters[0].cluster['certificate-authority-data'], 'base64').toString();
  return new KubeClient({ server, ca, headers: { authorization: `Bearer ${kc.users[0].user.token}` } });
}

const LISTENER = `require('node:http').createServer((q, s) => s.end('ok')).listen(8000, process.env.POD_IP)`;
const listenerPod: Pod = {
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'listener', namespace: 'default' },
  spec: {
    containers: [
      {
        name: 'srv',
        image: 'busybox',
        command: [process.execPath, '-e', LISTENER],
        env: [{ name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } }],
        readinessProbe: { httpGet: { path: '/', port: 8000 }, periodSeconds: 1 },
      },
    ],
  },
};

const readyPod = (client: KubeClient) =>
  eventually('listener pod Ready', async () => {
    const p = await client.get<Pod>(PODS, 'listener', 'default');
    return p.status?.containerStatuses?.[0]?.ready ? p : undefined;
  });
const pidOf = (p: Pod) => Number(/^local:\/\/(\d+)$/.exec(p.status?.containerStatuses?.[0]?.containerID ?? '')?.[1]);

/** Running (not a zombie nobody reaped yet). */
function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return false;
  }
}

async function sigkill(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
}

test('pods die with a SIGKILLed cluster or are reaped at restart; the restarted pod keeps its IP without a crash loop', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'kthena-orphans-'));
  dirs.push(dataDir);
  const port = await freePort();
  let child = startCli(dataDir, port);
  let client = await clientOf(child, dataDir);
  await client.create(PODS, listenerPod);
  const first = await readyPod(client);
  const ip = first.status?.podIP ?? '';
  const pid1 = pidOf(first);
  assert.ok(alive(pid1));

  // 1. The watchdog ends the pod's process group once the kubelet is gone.
  await client.close();
  await sigkill(child);
  await eventually('the orphaned pod process ends', async () => !alive(pid1));

  child = startCli(dataDir, port);
  client = await clientOf(child, dataDir);
  const second = await eventually('the pod running again', async () => {
    const p = await readyPod(client);
    return pidOf(p) !== pid1 ? p : undefined;
  });
  assert.equal(second.status?.podIP, ip, 'same port, same pod network: the pod gets its IP back');
  assert.equal(second.status?.containerStatuses?.[0]?.restartCount, 0, 'no crash loop');
  const pid2 = pidOf(second);

  // 2. The watchdog killed as well: the orphan survives the cluster, and the next kubelet reaps it from its records.
  const recs = join(dataDir, 'kubelet', 'processes');
  const dog = readdirSync(recs)
    .map((n) => JSON.parse(readFileSync(join(recs, n), 'utf8')) as { pid: number; label: string })
    .find((r) => r.label === 'watchdog');
  assert.ok(dog, 'the watchdog is recorded');
  process.kill(dog.pid, 'SIGKILL');
  await client.close();
  await sigkill(child);
  assert.ok(alive(pid2), 'without its watchdog the pod outlives the cluster');

  child = startCli(dataDir, port);
  client = await clientOf(child, dataDir);
  const third = await eventually('the pod running again after reaping', async () => {
    const p = await readyPod(client);
    return pidOf(p) !== pid2 ? p : undefined;
  });
  assert.equal(alive(pid2), false, 'the orphan was reaped');
  assert.equal(third.status?.podIP, ip);
  assert.equal(third.status?.containerStatuses?.[0]?.restartCount, 0, 'no crash loop');
  assert.equal(await (await fetch(`http://${ip}:8000/`)).text(), 'ok');
  await client.close();
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  await eventually('the pod process ends with the cluster', async () => !alive(pidOf(third)));
});
