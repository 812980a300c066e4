// The simulated nodes: what `--nodes N --gpus-per-node G` (or a nodes file) turns into — Node objects shaped like a
// real kubelet registers them, plus a default HyperNode tree (racks of nodes under one spine) for Volcano's
// network-topology-aware scheduling.
import { readFileSync } from 'node:fs';
import type { Node, Taint } from 'kubernetes-types/core/v1.js';
import { parse as parseYaml } from 'yaml';
import { parseQuantity } from '../scheduler/quantity.js';
import type { HyperNode } from '../scheduler/topology.js';

export interface SimNodeSpec {
  name: string;
  cpu: string;
  memory: string;
  gpus: number;
  gpuProduct: string;
  gpuMemoryMiB: number;
  pods: number;
  rack: string;
  zone: string;
  labels: Record<string, string>;
  taints: Taint[];
}

export const RACK_LABEL = 'topology.kthena.io/rack';
export const NODES_PER_RACK = 4;
const DEFAULT_GPU = 'NVIDIA-A100-SXM4-80GB';

export function defaultNodeSpecs(count: number, gpusPerNode: number): SimNodeSpec[] {
  if (!Number.isInteger(count) || count < 0) throw new Error(`--nodes must be a non-negative integer, got ${count}`);
  if (!Number.isInteger(gpusPerNode) || gpusPerNode < 0) {
    throw new Error(`--gpus-per-node must be a non-negative integer, got ${gpusPerNode}`);
  }
  return Array.from({ length: count }, (_, i) => ({
    name: `node-${i}`,
    cpu: '16',
    memory: '128Gi',
    gpus: gpusPerNode,
    gpuProduct: DEFAULT_GPU,
    gpuMemoryMiB: 81920,
    pods: 110,
    rack: `rack-${Math.floor(i / NODES_PER_RACK)}`,
    zone: 'local-a',
    labels: {},
    taints: [],
  }));
}

export interface NodesFile {
  nodes: SimNodeSpec[];
  hyperNodes?: HyperNode[];
}

const DNS1123 = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;

/**
 * Parses a nodes file (YAML):
 *   nodes: [{ name, count?, cpu?, memory?, gpus?, gpuProduct?, gpuMemoryMiB?, pods?, rack?, zone?, labels?, taints? }]
 *   hyperNodes: [HyperNode manifests]   # optional; default: one tier-1 HyperNode per rack and a tier-2 spine
 * Errors name the offending path.
 */
export function parseNodesFile(text: string, source = 'nodes file'): NodesFile {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new Error(`${source}: not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (!doc || typeof doc !== 'object' || !Array.isArray((doc as { nodes?: unknown }).nodes)) {
    throw new Error(`${source}: expected a mapping with a "nodes" list`);
  }
  const raw = (doc as { nodes: unknown[] }).nodes;
  const out: SimNodeSpec[] = [];
  const seen = new Set<string>();
  raw.forEach((entry, i) => {
    const at = `${source}: nodes[${i}]`;
    if (!entry || typeof entry !== 'object') throw new Error(`${at}: expected a mapping`);
    const e = entry as Record<string, unknown>;
    const str = (k: string, d: string) => {
      const v = e[k] ?? d;
      if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`${at}.${k}: expected a string`);
      return String(v);
    };
    const int = (k: string, d: number) => {
      const v = e[k] ?? d;
      if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
        throw new Error(`${at}.${k}: expected a non-negative integer`);
      return v;
    };
    const name = str('name', '');
    if (!DNS1123.test(name)) throw new Error(`${at}.name: "${name}" is not a valid node name`);
    const count = int('count', 1);
    for (const k of ['cpu', 'memory']) {
      try {
        parseQuantity(str(k, '1'));
      } catch {
        throw new Error(`${at}.${k}: "${e[k]}" is not a quantity`);
      }
    }
    const labels = (e.labels ?? {}) as Record<string, unknown>;
    if (
      typeof labels !== 'object' ||
      Array.isArray(labels) ||
      Object.values(labels).some((v) => typeof v !== 'string')
    ) {
      throw new Error(`${at}.labels: expected a map of strings`);
    }
    const taints = (e.taints ?? []) as Taint[];
    if (
      !Array.isArray(taints) ||
      taints.some(
        (t) => !t || typeof t.key !== 'string' || !['NoSchedule', 'PreferNoSchedule', 'NoExecute'].includes(t.effect),
      )
    ) {
      throw new Error(
        `${at}.taints: each taint needs a key and an effect of NoSchedule, PreferNoSchedule or NoExecute`,
      );
    }
    for (let k = 0; k < count; k++) {
      const n = count > 1 ? `${name}-${k}` : name;
      if (seen.has(n)) throw new Error(`${at}: duplicate node name "${n}"`);
      seen.add(n);
      out.push({
        name: n,
        cpu: str('cpu', '16'),
        memory: str('memory', '128Gi'),
        gpus: int('gpus', 0),
        gpuProduct: str('gpuProduct', DEFAULT_GPU),
        gpuMemoryMiB: int('gpuMemoryMiB', 81920),
        pods: int('pods', 110),
        rack: str('rack', `rack-${Math.floor(out.length / NODES_PER_RACK)}`),
        zone: str('zone', 'local-a'),
        labels: labels as Record<string, string>,
        taints,
      });
    }
  });
  const hyperNodes = (doc as { hyperNodes?: unknown }).hyperNodes;
  if (hyperNodes !== undefined && !Array.isArray(hyperNodes)) throw new Error(`${source}: hyperNodes must be a list`);
  return { nodes: out, hyperNodes: hyperNodes as HyperNode[] | undefined };
}

export function loadNodesFile(path: string): NodesFile {
  return parseNodesFile(readFileSync(path, 'utf8'), path);
}

/** One tier-1 HyperNode per rack (selecting nodes by the rack label) and, with several racks, a tier-2 spine. */
export function defaultHyperNodes(specs: SimNodeSpec[]): HyperNode[] {
  const racks = [...new Set(specs.map((s) => s.rack))].sort();
  const hn = (name: string, tier: number, tierName: string, members: NonNullable<HyperNode['spec']>['members']) =>
    ({
      apiVersion: 'topology.volcano.sh/v1alpha1',
      kind: 'HyperNode',
      metadata: { name, labels: { 'app.kubernetes.io/managed-by': 'kthena-kubelet' } },
      spec: { tier, tierName, members },
    }) as HyperNode;
  const out = racks.map((r) =>
    hn(r, 1, 'rack', [{ type: 'Node', selector: { labelMatch: { matchLabels: { [RACK_LABEL]: r } } } }]),
  );
  if (racks.length > 1) {
    out.push(
      hn(
        'spine',
        2,
        'spine',
        racks.map((r) => ({ type: 'HyperNode', selector: { exactMatch: { name: r } } })),
      ),
    );
  }
  return out;
}

export interface NodeObjectOptions {
  kubeletPort: number;
  address: string;
  podCIDR: string;
  now: string;
}

const archLabel = () => (process.arch === 'x64' ? 'amd64' : process.arch);

export function nodeObject(spec: SimNodeSpec, o: NodeObjectOptions): Node {
  const capacity: Record<string, string> = {
    cpu: spec.cpu,
    memory: spec.memory,
    pods: String(spec.pods),
    'ephemeral-storage': '100Gi',
  };
  if (spec.gpus > 0) capacity['nvidia.com/gpu'] = String(spec.gpus);
  const labels: Record<string, string> = {
    'kubernetes.io/hostname': spec.name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': archLabel(),
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': archLabel(),
    'node.kubernetes.io/instance-type': spec.gpus > 0 ? `sim-${spec.gpus}x-gpu` : 'sim-cpu',
    'topology.kubernetes.io/region': 'local',
    'topology.kubernetes.io/zone': spec.zone,
    [RACK_LABEL]: spec.rack,
    ...(spec.gpus > 0
      ? {
          'nvidia.com/gpu.present': 'true',
          'nvidia.com/gpu.product': spec.gpuProduct,
          'nvidia.com/gpu.count': String(spec.gpus),
          'nvidia.com/gpu.memory': String(spec.gpuMemoryMiB),
        }
      : {}),
    ...spec.labels,
  };
  const cond = (type: string, status: string, reason: string, message: string) => ({
    type,
    status,
    reason,
    message,
    lastHeartbeatTime: o.now,
    lastTransitionTime: o.now,
  });
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: { name: spec.name, labels, annotations: { 'kthena.io/simulated': 'true' } },
    spec: { podCIDR: o.podCIDR, podCIDRs: [o.podCIDR], ...(spec.taints.length ? { taints: spec.taints } : {}) },
    status: {
      capacity,
      allocatable: { ...capacity },
      conditions: [
        cond('MemoryPressure', 'False', 'KubeletHasSufficientMemory', 'kubelet has sufficient memory available'),
        cond('DiskPressure', 'False', 'KubeletHasNoDiskPressure', 'kubelet has no disk pressure'),
        cond('PIDPressure', 'False', 'KubeletHasSufficientPID', 'kubelet has sufficient PID available'),
        cond(
          'Ready',
          'True',
          'KubeletReady',
          'kubelet is posting ready status (simulated node: pods run as local processes)',
        ),
      ],
      addresses: [
        { type: 'InternalIP', address: o.address },
        { type: 'Hostname', address: spec.name },
      ],
      daemonEndpoints: { kubeletEndpoint: { Port: o.kubeletPort } },
      nodeInfo: {
        machineID: spec.name,
        systemUUID: spec.name,
        bootID: spec.name,
        kernelVersion: 'local',
        osImage: 'kthena local node',
        containerRuntimeVersion: 'local://1.0.0',
        kubeletVersion: 'v1.32.0-kthena',
        kubeProxyVersion: 'v1.32.0-kthena',
        operatingSystem: 'linux',
        architecture: archLabel(),
      },
    },
  };
}
