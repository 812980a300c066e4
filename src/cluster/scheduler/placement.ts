// Pure placement decisions: one pod (default scheduler) or one gang (Volcano PodGroup), given a snapshot of the
// nodes with what is already bound to them. No I/O here — the scheduler component feeds snapshots in and
// turns the answers into bindings, conditions and events.
import type { Pod } from 'kubernetes-types/core/v1.js';
import { filterNode, fitErrorMessage, freeResources, matchesRequirement, type NodeInfo } from './predicates.js';
import { addInto, insufficient, podRequests, type ResourceList, toResourceList } from './resources.js';
import { candidateHyperNodes, type HyperNode, resolveHyperNodes, tierOfName } from './topology.js';

export interface Binding {
  pod: Pod;
  node: string;
}

export type SingleResult = { ok: true; node: string } | { ok: false; message: string };

export interface PodGroupSpec {
  minMember?: number;
  minTaskMember?: Record<string, number>;
  minResources?: Record<string, string>;
  queue?: string;
  networkTopology?: { mode?: 'hard' | 'soft' | string; highestTierAllowed?: number; highestTierName?: string };
}

/** The task a pod belongs to inside its gang (Volcano's task-spec annotation). */
export const TASK_ANNOTATION = 'volcano.sh/task-spec';
export function taskOf(pod: Pod): string {
  return pod.metadata?.annotations?.[TASK_ANNOTATION] ?? '';
}

function preferredAffinityScore(pod: Pod, node: NodeInfo): number {
  let score = 0;
  for (const p of pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
    const exprs = p.preference?.matchExpressions ?? [];
    const ok = exprs.length > 0 && exprs.every((e) => matchesRequirement(node.labels, e));
    if (ok) score += p.weight ?? 0;
  }
  return score;
}

/**
 * Higher is better. Preferred node affinity first, then avoid PreferNoSchedule taints, then the least-allocated
 * node (spreads load like kube-scheduler's default NodeResourcesFit strategy) over cpu, memory and GPUs.
 */
function score(pod: Pod, requests: ResourceList, node: NodeInfo): number {
  const tolerations = pod.spec?.tolerations ?? [];
  const softTaints = node.taints.filter(
    (t) => t.effect === 'PreferNoSchedule' && !tolerations.some((x) => x.key === t.key || x.operator === 'Exists'),
  ).length;
  const free = freeResources(node);
  let leastAllocated = 0;
  let n = 0;
  for (const r of ['cpu', 'memory', 'nvidia.com/gpu']) {
    const cap = node.allocatable[r] ?? 0;
    if (cap <= 0) continue;
    leastAllocated += Math.max(0, (free[r] ?? 0) - (requests[r] ?? 0)) / cap;
    n++;
  }
  return preferredAffinityScore(pod, node) * 1000 - softTaints * 100 + (n ? (leastAllocated / n) * 10 : 0);
}

function copyNodes(nodes: NodeInfo[]): NodeInfo[] {
  return nodes.map((n) => ({ ...n, requested: { ...n.requested } }));
}

/** Picks a node for one pod; `nodes` is updated (the pod is "assumed" on the chosen node) when it fits. */
function placeInto(pod: Pod, nodes: NodeInfo[], allNodeCount: number): SingleResult {
  const requests = podRequests(pod);
  const reasons = new Map<string, number>();
  let best: NodeInfo | undefined;
  let bestScore = Number.NEGATIVE_INFINITY;
  for (const node of nodes) {
    const why = filterNode(pod, requests, node);
    if (why.length > 0) {
      for (const r of why) reasons.set(r, (reasons.get(r) ?? 0) + 1);
      continue;
    }
    const s = score(pod, requests, node);
    if (s > bestScore || (s === bestScore && best && node.name < best.name)) {
      best = node;
      bestScore = s;
    }
  }
  if (!best) return { ok: false, message: fitErrorMessage(allNodeCount, reasons) };
  addInto(best.requested, requests);
  return { ok: true, node: best.name };
}

/** Default-scheduler decision for a single pod. */
export function scheduleOne(pod: Pod, nodes: NodeInfo[]): SingleResult {
  return placeInto(pod, copyNodes(nodes), nodes.length);
}

export interface GangInput {
  name: string;
  spec: PodGroupSpec;
  /** Members not bound yet, to place now. */
  pending: Pod[];
  /** Members already bound to a node and still holding resources. */
  bound: Binding[];
  nodes: NodeInfo[];
  hyperNodes?: HyperNode[];
}

export type GangResult =
  | { ok: true; bindings: Binding[]; hyperNode?: string }
  | { ok: false; reason: 'NotEnoughTasks' | 'NotEnoughResources' | 'NetworkTopology'; message: string };

function taskCounts(pods: Pod[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pods) m.set(taskOf(p), (m.get(taskOf(p)) ?? 0) + 1);
  return m;
}

/** Missing members per task minimum, e.g. ["decode-0: 0/1"]; empty when every task minimum is met. */
function unmetTasks(spec: PodGroupSpec, pods: Pod[]): string[] {
  const counts = taskCounts(pods);
  return Object.entries(spec.minTaskMember ?? {})
    .filter(([task, min]) => (counts.get(task) ?? 0) < min)
    .map(([task, min]) => `${task}: ${counts.get(task) ?? 0}/${min}`)
    .sort();
}

function tryPlaceAll(
  pending: Pod[],
  nodes: NodeInfo[],
  allNodeCount: number,
): { placed: Binding[]; failures: Map<Pod, string> } {
  const work = copyNodes(nodes);
  const placed: Binding[] = [];
  const failures = new Map<Pod, string>();
  for (const pod of pending) {
    const r = placeInto(pod, work, allNodeCount);
    if (r.ok) placed.push({ pod, node: r.node });
    else failures.set(pod, r.message);
  }
  return { placed, failures };
}

function gangSatisfied(input: GangInput, placed: Binding[]): boolean {
  const members = [...input.bound.map((b) => b.pod), ...placed.map((b) => b.pod)];
  return members.length >= (input.spec.minMember ?? 0) && unmetTasks(input.spec, members).length === 0;
}

/** Stable order: by task, then name, so a gang is placed the same way on every cycle. */
function ordered(pods: Pod[]): Pod[] {
  return [...pods].sort(
    (a, b) => taskOf(a).localeCompare(taskOf(b)) || (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''),
  );
}

/**
 * Gang placement, all or nothing: place every pending member tentatively (respecting per-task minimums and the
 * network topology) and return the bindings only if at least minMember members (bound + placed) result.
 */
export function placeGang(input: GangInput): GangResult {
  const minMember = input.spec.minMember ?? 0;
  const pending = ordered(input.pending);
  const known = input.bound.length + pending.length;
  const all = [...input.bound.map((b) => b.pod), ...pending];
  if (known < minMember || unmetTasks(input.spec, all).length > 0) {
    const tasks = unmetTasks(input.spec, all);
    return {
      ok: false,
      reason: 'NotEnoughTasks',
      message:
        `pod group is not ready, ${known} Pending, ${minMember} minAvailable` +
        (tasks.length ? `; tasks below their minimum: ${tasks.join(', ')}` : ''),
    };
  }
  if (pending.length === 0) return { ok: true, bindings: [] };

  const topo = input.spec.networkTopology;
  if (topo && (topo.highestTierAllowed !== undefined || topo.highestTierName || topo.mode)) {
    return placeWithTopology(input, pending, topo);
  }
  return placeFlat(input, pending, input.nodes);
}

function notEnoughResources(input: GangInput, placedCount: number, failures: Map<Pod, string>): GangResult {
  const minMember = input.spec.minMember ?? 0;
  const firstFailure = [...failures.values()][0];
  const tasks = unmetTasks(input.spec, [...input.bound.map((b) => b.pod)]);
  return {
    ok: false,
    reason: 'NotEnoughResources',
    message:
      `${failures.size}/${input.pending.length} tasks in gang unschedulable: pod group is not ready, ` +
      `${input.bound.length + placedCount} schedulable, ${minMember} minAvailable` +
      (firstFailure ? `; ${firstFailure}` : '') +
      (tasks.length && minMember === 0 ? `; ${tasks.join(', ')}` : ''),
  };
}

function placeFlat(input: GangInput, pending: Pod[], nodes: NodeInfo[]): GangResult {
  const { placed, failures } = tryPlaceAll(pending, nodes, input.nodes.length);
  if (gangSatisfied(input, placed)) return { ok: true, bindings: placed };
  return notEnoughResources(input, placed.length, failures);
}

function placeWithTopology(
  input: GangInput,
  pending: Pod[],
  topo: NonNullable<PodGroupSpec['networkTopology']>,
): GangResult {
  const mode = topo.mode ?? 'hard';
  const resolved = resolveHyperNodes(
    input.hyperNodes ?? [],
    input.nodes.map((n) => ({ name: n.name, labels: n.labels })),
  );
  let maxTier = topo.highestTierAllowed ?? 1;
  if (topo.highestTierName) {
    const t = tierOfName(resolved, topo.highestTierName);
    if (t === undefined && mode === 'hard') {
      return { ok: false, reason: 'NetworkTopology', message: `no HyperNode has tierName "${topo.highestTierName}"` };
    }
    if (t !== undefined) maxTier = t;
  }
  if (mode !== 'hard') maxTier = Number.POSITIVE_INFINITY; // soft: any tier, closest first, then anywhere
  const boundNodes = new Set(input.bound.map((b) => b.node));
  let lastFailure: GangResult | undefined;
  for (const hn of candidateHyperNodes(resolved, maxTier, boundNodes)) {
    const r = placeFlat(
      input,
      pending,
      input.nodes.filter((n) => hn.nodes.has(n.name)),
    );
    if (r.ok) return { ...r, hyperNode: hn.name };
    lastFailure ??= r;
  }
  if (mode !== 'hard') return placeFlat(input, pending, input.nodes);
  return {
    ok: false,
    reason: 'NetworkTopology',
    message:
      `network topology (hard, highest tier ${maxTier}): no HyperNode of tier <= ${maxTier} can hold the gang` +
      (lastFailure && !lastFailure.ok ? `; closest: ${lastFailure.message}` : ''),
  };
}

/**
 * Volcano's enqueue step: a Pending group becomes Inqueue once its minResources fit into what the schedulable
 * nodes have free (a group without minResources is admitted at once).
 */
export function canEnqueue(spec: PodGroupSpec, nodes: NodeInfo[]): { ok: boolean; short: string[] } {
  const want = toResourceList(spec.minResources);
  if (Object.keys(want).length === 0) return { ok: true, short: [] };
  const free: ResourceList = {};
  for (const n of nodes) if (n.ready && !n.unschedulable) addInto(free, freeResources(n));
  const short = insufficient(want, free);
  return { ok: short.length === 0, short };
}
