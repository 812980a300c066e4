// Resource lists in canonical integer units (see quantity.ts) and the arithmetic the scheduler needs.
import type { Container, Pod } from 'kubernetes-types/core/v1.js';
import { canonicalAmount } from './quantity.js';

export type ResourceList = Record<string, number>;

export function toResourceList(raw: Record<string, string | number> | undefined): ResourceList {
  const out: ResourceList = {};
  for (const [k, v] of Object.entries(raw ?? {})) out[k] = canonicalAmount(k, v as string | number);
  return out;
}

/** A container's effective requests: requests, falling back to limits (as the API server defaults them). */
function containerRequests(c: Container): ResourceList {
  const limits = toResourceList(c.resources?.limits as Record<string, string> | undefined);
  const requests = toResourceList(c.resources?.requests as Record<string, string> | undefined);
  return { ...limits, ...requests };
}

export function addInto(target: ResourceList, add: ResourceList, factor = 1): ResourceList {
  for (const [k, v] of Object.entries(add)) target[k] = (target[k] ?? 0) + v * factor;
  return target;
}

function maxInto(target: ResourceList, other: ResourceList): void {
  for (const [k, v] of Object.entries(other)) target[k] = Math.max(target[k] ?? 0, v);
}

/**
 * What a pod asks a node for, as kube-scheduler computes it: the sum over app containers, at least the largest
 * init container, plus the pod overhead, plus one "pods" slot.
 */
export function podRequests(pod: Pod): ResourceList {
  const sum: ResourceList = {};
  for (const c of pod.spec?.containers ?? []) addInto(sum, containerRequests(c));
  for (const c of pod.spec?.initContainers ?? []) maxInto(sum, containerRequests(c));
  addInto(sum, toResourceList(pod.spec?.overhead as Record<string, string> | undefined));
  sum.pods = (sum.pods ?? 0) + 1;
  return sum;
}

/** Names of resources in `want` that exceed `free` (a resource the node does not list has 0 free). */
export function insufficient(want: ResourceList, free: ResourceList): string[] {
  const out: string[] = [];
  for (const [k, v] of Object.entries(want)) {
    if (v > 0 && v > (free[k] ?? 0)) out.push(k);
  }
  return out.sort();
}

export function subtract(a: ResourceList, b: ResourceList): ResourceList {
  const out: ResourceList = { ...a };
  for (const [k, v] of Object.entries(b)) out[k] = (out[k] ?? 0) - v;
  return out;
}
