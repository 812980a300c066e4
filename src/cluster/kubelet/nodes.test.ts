import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { claimNetworkBase, GpuAllocator, networkBaseForPort, nodeSubnet, PodIpAllocator } from './ip-allocator.js';
import { defaultHyperNodes, defaultNodeSpecs, nodeObject, parseNodesFile, RACK_LABEL } from './nodes.js';

test('default nodes: racks of four, GPUs, labels and capacity like a real kubelet registers', () => {
  const specs = defaultNodeSpecs(6, 8);
  assert.deepEqual(
    specs.map((s) => s.rack),
    ['rack-0', 'rack-0', 'rack-0', 'rack-0', 'rack-1', 'rack-1'],
  );
  const n = nodeObject(specs[0], { kubeletPort: 10250, address: '127.0.0.1', podCIDR: '127.40.0.0/24', now: 'T' });
  assert.equal(n.status?.capacity?.['nvidia.com/gpu'], '8');
  assert.deepEqual(n.status?.allocatable, n.status?.capacity);
  assert.equal(n.metadata?.labels?.['kubernetes.io/hostname'], 'node-0');
  assert.equal(n.metadata?.labels?.['nvidia.com/gpu.count'], '8');
  assert.equal(n.metadata?.labels?.[RACK_LABEL], 'rack-0');
  assert.equal(n.status?.conditions?.find((c) => c.type === 'Ready')?.reason, 'KubeletReady');
  assert.equal(n.status?.daemonEndpoints?.kubeletEndpoint?.Port, 10250);
  const cpuOnly = nodeObject(defaultNodeSpecs(1, 0)[0], { kubeletPort: 1, address: 'a', podCIDR: 'c', now: 'T' });
  assert.equal(cpuOnly.status?.capacity?.['nvidia.com/gpu'], undefined);
  assert.throws(() => defaultNodeSpecs(-1, 1), /--nodes/);
  assert.throws(() => defaultNodeSpecs(1, 1.5), /--gpus-per-node/);
});

test('default HyperNodes: one per rack at tier 1 and a spine at tier 2', () => {
  const hns = defaultHyperNodes(defaultNodeSpecs(6, 8));
  assert.deepEqual(
    hns.map((h) => [h.metadata?.name, h.spec?.tier]),
    [
      ['rack-0', 1],
      ['rack-1', 1],
      ['spine', 2],
    ],
  );
  assert.equal(defaultHyperNodes(defaultNodeSpecs(2, 8)).length, 1);
});

test('nodes file: counts expand, defaults apply, errors name the path', () => {
  const f = parseNodesFile(`
nodes:
  - name: h100
    count: 2
    gpus: 8
    gpuProduct: NVIDIA-H100
    rack: r1
    labels: { pool: big }
    taints: [{ key: gpu, value: h100, effect: NoSchedule }]
  - name: cpu
    cpu: "4"
`);
  assert.deepEqual(
    f.nodes.map((n) => n.name),
    ['h100-0', 'h100-1', 'cpu'],
  );
  assert.equal(f.nodes[0].rack, 'r1');
  assert.equal(f.nodes[2].gpus, 0);
  const bad: [string, RegExp][] = [
    ['nodes: 3', /"nodes" list/],
    ['{{{', /not valid YAML/],
    ['nodes: [{ name: Bad_Name }]', /nodes\[0\]\.name/],
    ['nodes: [{ name: a, gpus: -1 }]', /nodes\[0\]\.gpus/],
    ['nodes: [{ name: a, memory: lots }]', /nodes\[0\]\.memory/],
    ['nodes: [{ name: a }, { name: a }]', /duplicate node name "a"/],
    ['nodes: [{ name: a, taints: [{ key: x, effect: Sometimes }] }]', /taints/],
    ['nodes: [{ name: a, labels: { x: 1 } }]', /labels/],
    ['nodes: [{ name: a }]\nhyperNodes: 3', /hyperNodes must be a list/],
  ];
  for (const [text, re] of bad) assert.throws(() => parseNodesFile(text), re, text);
});

test('pod IPs: per-node /24 on loopback, round-robin, released addresses come back last', async () => {
  assert.equal(nodeSubnet(40, 0), '127.40.0');
  assert.equal(nodeSubnet(40, 257), '127.41.1');
  assert.throws(() => nodeSubnet(250, 256 * 10), /too many nodes/);
  assert.equal(networkBaseForPort(6443), 139);
  const a = new PodIpAllocator('127.40.0');
  assert.equal(a.cidr, '127.40.0.0/24');
  const first = a.allocate();
  assert.equal(first, '127.40.0.2');
  assert.equal(a.allocate(), '127.40.0.3');
  a.release(first);
  assert.equal(a.allocate(), '127.40.0.4');
  const all = new PodIpAllocator('127.40.1');
  for (let i = 0; i < 253; i++) all.allocate();
  assert.throws(() => all.allocate(), /no free pod IP/);
  all.release('127.40.1.77');
  assert.equal(all.allocate(), '127.40.1.77');
  // The premise: any 127/8 address can be listened on without configuration.
  const server = net.createServer();
  await new Promise<void>((resolve, reject) => server.once('error', reject).listen(0, '127.40.0.9', resolve));
  server.close();
});

test('GPU devices are handed out and returned', () => {
  const g = new GpuAllocator(4);
  assert.deepEqual(g.allocate(2), [0, 1]);
  assert.deepEqual(g.allocate(3), [2, 3]);
  g.release([1, 0]);
  assert.deepEqual(g.allocate(1), [0]);
});

test('two local clusters never share a pod network: the second claim of a base moves on; a released base is reused', async () => {
  const a = await claimNetworkBase(100);
  const b = await claimNetworkBase(100);
  assert.equal(a.base, 100);
  assert.equal(b.base, 101);
  await a.release();
  const c = await claimNetworkBase(100);
  assert.equal(c.base, 100, 'the same base after a restart on the same port');
  await b.release();
  await c.release();
});
