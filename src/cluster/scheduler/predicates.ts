// Node filters of the default scheduler, each a pure function returning null (fits) or the reason it does not,
// worded as kube-scheduler words them so `kubectl describe` reads the same.
import type { NodeSelectorRequirement, NodeSelectorTerm, Pod, Taint, Toleration } from 'kubernetes-types/core/v1.js';
import { insufficient, type ResourceList, subtract } from './resources.js';

export interface NodeInfo {
  name: string;
  labels: Record<string, string>;
  taints: Taint[];
  unschedulable: boolean;
  ready: boolean;
  allocatable: ResourceList;
  /** Sum of the requests of pods bound (or assumed bound) to this node that still hold resources. */
  requested: ResourceList;
}

export function matchesRequirement(labels: Record<string, string>, r: NodeSelectorRequirement): boolean {
  const has = Object.hasOwn(labels, r.key);
  const v = labels[r.key];
  const values = r.values ?? [];
  switch (r.operator) {
    case 'In':
      return has && values.includes(v);
    case 'NotIn':
      return !has || !values.includes(v);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
    case 'Gt':
    case 'Lt': {
      if (!has || values.length !== 1) return false;
      const a = Number.parseInt(v, 10);
      const b = Number.parseInt(values[0], 10);
      if (!/^-?\d+$/.test(v) || !/^-?\d+$/.test(values[0])) return false;
      return r.operator === 'Gt' ? a > b : a < b;
    }
    default:
      return false;
  }
}

/** One term: all expressions AND all fields (only metadata.name is a valid field). An empty term matches nothing. */
export function matchesTerm(node: Pick<NodeInfo, 'name' | 'labels'>, term: NodeSelectorTerm): boolean {
  const exprs = term.matchExpressions ?? [];
  const fields = term.matchFields ?? [];
  if (exprs.length === 0 && fields.length === 0) return false;
  if (!exprs.every((r) => matchesRequirement(node.labels, r))) return false;
  return fields.every((r) => r.key === 'metadata.name' && matchesRequirement({ 'metadata.name': node.name }, r));
}

/** nodeSelector and required node affinity (terms are ORed). */
export function nodeAffinityFits(pod: Pod, node: Pick<NodeInfo, 'name' | 'labels'>): boolean {
  for (const [k, v] of Object.entries(pod.spec?.nodeSelector ?? {})) {
    if (node.labels[k] !== v) return false;
  }
  const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
  if (required) return (required.nodeSelectorTerms ?? []).some((t) => matchesTerm(node, t));
  return true;
}

export function tolerates(t: Toleration, taint: Taint): boolean {
  if (t.effect && t.effect !== taint.effect) return false;
  if (t.operator === 'Exists') return !t.key || t.key === taint.key;
  if (!t.key) return false; // an empty key is only valid with Exists
  return t.key === taint.key && (t.value ?? '') === (taint.value ?? '');
}

/** The first NoSchedule/NoExecute taint the pod does not tolerate, or undefined. */
export function untoleratedTaint(pod: Pod, taints: Taint[]): Taint | undefined {
  const tolerations = pod.spec?.tolerations ?? [];
  return taints.find(
    (taint) =>
      (taint.effect === 'NoSchedule' || taint.effect === 'NoExecute') && !tolerations.some((t) => tolerates(t, taint)),
  );
}

export function freeResources(node: NodeInfo): ResourceList {
  return subtract(node.allocatable, node.requested);
}

/**
 * All filters for one pod on one node. Returns the reasons it does not fit (several "Insufficient x" may apply at
 * once, as in kube-scheduler), or an empty list.
 */
export function filterNode(pod: Pod, requests: ResourceList, node: NodeInfo): string[] {
  if (!node.ready) return ['node(s) had untolerated taint {node.kubernetes.io/not-ready: }'];
  if (node.unschedulable) {
    const tolerated = (pod.spec?.tolerations ?? []).some((t) =>
      tolerates(t, { key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }),
    );
    if (!tolerated) return ['node(s) were unschedulable'];
  }
  if (!nodeAffinityFits(pod, node)) return ["node(s) didn't match Pod's node affinity/selector"];
  const taint = untoleratedTaint(pod, node.taints);
  if (taint) return [`node(s) had untolerated taint {${taint.key}: ${taint.value ?? ''}}`];
  const short = insufficient(requests, freeResources(node));
  return short.map((r) => (r === 'pods' ? 'Too many pods' : `Insufficient ${r}`));
}

/** "0/3 nodes are available: 1 node(s) were unschedulable, 2 Insufficient nvidia.com/gpu." */
export function fitErrorMessage(nodeCount: number, reasons: Map<string, number>): string {
  if (nodeCount === 0) return 'no nodes available to schedule pods';
  const parts = [...reasons.entries()].map(([r, n]) => `${n} ${r}`).sort();
  return `0/${nodeCount} nodes are available: ${parts.join(', ')}.`;
}
