// The kubelet against a real local API server: pods run as local processes on their own loopback IPs.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { EVENTS, PODS } from '../../src/kube/index.js';
import { cluster, condition, eventually, getPod, gone } from './kubelet-helpers.js';

let env: Awaited<ReturnType<typeof cluster>>;
before(async () => {
  env = await cluster({ nodes: 1, gpusPerNode: 2 });
  // Started up front: simulated engines take a few seconds to start on a loaded machine, so both run meanwhile.
  await env.client.create(
    PODS,
    pod('sim', {
      containers: [
        {
          name: 'engine',
          image: 'kthena/kthena:latest',
          args: ['engine-sim', '--port', '8000', '--model', 'tiny-model'],
          readinessProbe: { httpGet: { path: '/health', port: 8000 }, periodSeconds: 1 },
        },
      ],
    }),
  );
  await env.client.create(
    PODS,
    pod('vllm', {
      containers: [
        {
          name: 'vllm',
          image: 'vllm/vllm-openai:latest',
          command: [
            'sh',
            '-c',
            'pip install nixl && python3 -m vllm.entrypoints.openai.api_server --model /models/x --served-model-name qwen --port 8100 --kv-transfer-config \'{"kv_connector":"NixlConnector","kv_role":"kv_producer"}\'',
          ],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          resources: { limits: { 'nvidia.com/gpu': '1' } },
          readinessProbe: { httpGet: { path: '/health', port: 8100 }, initialDelaySeconds: 180, periodSeconds: 5 },
        },
      ],
    }),
  );
});
after(async () => {
  await env?.close();
});

const pod = (name: string, spec: Pod['spec']): Pod => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default' },
  spec,
});

test('a pod running `kthena engine-sim` becomes Ready and answers on its own IP; kubectl-style logs and deletion work', async () => {
  const { client } = env;
  const ready = await eventually('pod Ready', async () => {
    const p = await getPod(client, 'sim');
    return condition(p, 'Ready')?.status === 'True' ? p : undefined;
  });
  assert.equal(ready.status?.phase, 'Running');
  assert.equal(ready.spec?.nodeName, 'node-0');
  const ip = ready.status?.podIP ?? '';
  assert.match(ip, /^127\.\d+\.0\.\d+$/);
  assert.notEqual(ip, '127.0.0.1');
  const cs = ready.status?.containerStatuses?.[0];
  assert.equal(cs?.ready, true);
  assert.equal(cs?.started, true);
  assert.match(cs?.containerID ?? '', /^local:\/\/\d+$/);
  const models = (await (await fetch(`http://${ip}:8000/v1/models`)).json()) as { data: { id: string }[] };
  assert.deepEqual(
    models.data.map((m) => m.id),
    ['tiny-model'],
  );

  const logs = await eventually('logs', async () => {
    const r = await fetch(`${env.cluster.url}/api/v1/namespaces/default/pods/sim/log`);
    const t = await r.text();
    return t.includes('engine-sim listening') ? t : undefined;
  });
  assert.match(logs, new RegExp(`listening on http://${ip.replace(/\./g, '\\.')}:8000`));

  const events = await client.list<{ reason: string; source?: { component?: string } }>(EVENTS, {
    namespace: 'default',
    fieldSelector: 'involvedObject.name=sim',
  });
  const reasons = events.items.map((e) => e.reason);
  for (const r of ['Scheduled', 'Pulled', 'Created', 'Started'])
    assert.ok(reasons.includes(r), `event ${r} in ${reasons}`);

  await client.delete(PODS, 'sim', 'default');
  await eventually('pod removed after graceful termination', () => gone(client, 'sim'));
  await eventually('engine stopped listening', async () => {
    try {
      await fetch(`http://${ip}:8000/health`);
      return false;
    } catch {
      return true;
    }
  });
});

test('a vLLM container from an upstream-style manifest runs as engine-sim (probe delay for weights dropped)', async () => {
  const { client } = env;
  const ready = await eventually('vllm pod Ready', async () => {
    const p = await getPod(client, 'vllm');
    return condition(p, 'Ready')?.status === 'True' ? p : undefined;
  });
  const models = (await (await fetch(`http://${ready.status?.podIP}:8100/v1/models`)).json()) as {
    data: { id: string }[];
  };
  assert.equal(models.data[0].id, 'qwen');
  await client.delete(PODS, 'vllm', 'default', { gracePeriodSeconds: 1 });
  await eventually('vllm pod removed', () => gone(client, 'vllm'));
});

test('unrunnable images wait with ImageNotRunnable; crashing containers back off; Never+exit 0 → Succeeded', async () => {
  const { client } = env;
  await client.create(PODS, pod('redis', { containers: [{ name: 'redis', image: 'redis:7' }] }));
  await client.create(
    PODS,
    pod('crash', { containers: [{ name: 'c', image: 'busybox', command: ['sh', '-c', 'echo boom; exit 1'] }] }),
  );
  await client.create(
    PODS,
    pod('once', { restartPolicy: 'Never', containers: [{ name: 'c', image: 'busybox', command: ['true'] }] }),
  );
  const redis = await eventually('ImageNotRunnable', async () => {
    const p = await getPod(client, 'redis');
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'ImageNotRunnable' ? p : undefined;
  });
  assert.match(redis.status?.containerStatuses?.[0]?.state?.waiting?.message ?? '', /redis:7/);
  assert.equal(redis.status?.phase, 'Pending');
  const crash = await eventually('CrashLoopBackOff', async () => {
    const p = await getPod(client, 'crash');
    return p.status?.containerStatuses?.[0]?.state?.waiting?.reason === 'CrashLoopBackOff' ? p : undefined;
  });
  assert.equal(crash.status?.containerStatuses?.[0]?.restartCount, 1);
  assert.equal(crash.status?.containerStatuses?.[0]?.lastState?.terminated?.exitCode, 1);
  assert.equal(crash.status?.phase, 'Running');
  const prev = await (await fetch(`${env.cluster.url}/api/v1/namespaces/default/pods/crash/log?previous=true`)).text();
  assert.equal(prev, 'boom\n');
  const once = await eventually('Succeeded', async () => {
    const p = await getPod(client, 'once');
    return p.status?.phase === 'Succeeded' ? p : undefined;
  });
  assert.equal(condition(once, 'Ready')?.reason, 'PodCompleted');
  for (const n of ['redis', 'crash', 'once']) await client.delete(PODS, n, 'default', { gracePeriodSeconds: 0 });
});

test('an unschedulable pod gets PodScheduled=False and a FailedScheduling event', async () => {
  const { client } = env;
  await client.create(
    PODS,
    pod('greedy', {
      containers: [
        { name: 'c', image: 'busybox', command: ['sleep', '60'], resources: { limits: { 'nvidia.com/gpu': '4' } } },
      ],
    }),
  );
  const p = await eventually('PodScheduled=False', async () => {
    const x = await getPod(client, 'greedy');
    return condition(x, 'PodScheduled')?.status === 'False' ? x : undefined;
  });
  assert.equal(condition(p, 'PodScheduled')?.reason, 'Unschedulable');
  assert.equal(condition(p, 'PodScheduled')?.message, '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.');
  const ev = await eventually('FailedScheduling event', async () => {
    const l = await client.list<{ reason: string; type: string; message: string }>(EVENTS, {
      namespace: 'default',
      fieldSelector: 'involvedObject.name=greedy',
    });
    return l.items.find((e) => e.reason === 'FailedScheduling');
  });
  assert.equal(ev.type, 'Warning');
  assert.equal(ev.message, '0/1 nodes are available: 1 Insufficient nvidia.com/gpu.');
  await client.delete(PODS, 'greedy', 'default');
  await eventually('unbound pod removed at once', () => gone(client, 'greedy'));
});
