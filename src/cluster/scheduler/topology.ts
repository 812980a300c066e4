// Volcano HyperNodes (topology.volcano.sh/v1alpha1): a tree whose leaves select Nodes and whose inner vertices
// select other HyperNodes; `spec.tier` grows away from the nodes (tier 1 = one leaf switch).
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { labelSelectorMatches } from '../../api/selector.js';

export interface HyperNodeMember {
  type?: 'Node' | 'HyperNode' | string;
  selector?: {
    exactMatch?: { name?: string };
    regexMatch?: { pattern?: string };
    labelMatch?: LabelSelector;
  };
}
export interface HyperNode {
  metadata?: { name?: string; labels?: Record<string, string> };
  spec?: { tier?: number; tierName?: string; members?: HyperNodeMember[] };
}

/** A member's labelMatch: an absent selector selects nothing here (metav1 semantics otherwise). */
export function matchesLabelSelector(labels: Record<string, string>, sel: LabelSelector | undefined): boolean {
  return sel !== undefined && labelSelectorMatches(sel, labels);
}

function memberMatches(m: HyperNodeMember, name: string, labels: Record<string, string>): boolean {
  const s = m.selector ?? {};
  if (s.exactMatch) return s.exactMatch.name === name;
  if (s.regexMatch?.pattern) {
    try {
      return new RegExp(s.regexMatch.pattern).test(name);
    } catch {
      return false; // an invalid pattern selects nothing rather than breaking the scheduler
    }
  }
  if (s.labelMatch) return matchesLabelSelector(labels, s.labelMatch);
  return false;
}

export interface TopologyNode {
  name: string;
  labels: Record<string, string>;
}

export interface ResolvedHyperNode {
  name: string;
  tier: number;
  tierName?: string;
  nodes: Set<string>;
}

/** Resolves every HyperNode to the set of Nodes below it. Cycles are cut (a HyperNode is not its own member). */
export function resolveHyperNodes(hyperNodes: HyperNode[], nodes: TopologyNode[]): ResolvedHyperNode[] {
  const byName = new Map(hyperNodes.map((h) => [h.metadata?.name ?? '', h]));
  const memo = new Map<string, Set<string>>();
  const resolve = (name: string, visiting: Set<string>): Set<string> => {
    const cached = memo.get(name);
    if (cached) return cached;
    const hn = byName.get(name);
    const out = new Set<string>();
    if (!hn || visiting.has(name)) return out;
    visiting.add(name);
    for (const m of hn.spec?.members ?? []) {
      if ((m.type ?? 'Node') === 'Node') {
        for (const n of nodes) if (memberMatches(m, n.name, n.labels)) out.add(n.name);
      } else {
        for (const [childName, child] of byName) {
          if (childName === name) continue;
          if (memberMatches(m, childName, child.metadata?.labels ?? {})) {
            for (const n of resolve(childName, visiting)) out.add(n);
          }
        }
      }
    }
    visiting.delete(name);
    memo.set(name, out);
    return out;
  };
  return [...byName.keys()]
    .filter((n) => n !== '')
    .sort()
    .map((name) => ({
      name,
      tier: Number(byName.get(name)?.spec?.tier ?? 0),
      tierName: byName.get(name)?.spec?.tierName,
      nodes: resolve(name, new Set()),
    }));
}

/** highestTierName → tier number, using the tierName the HyperNodes declare. */
export function tierOfName(resolved: ResolvedHyperNode[], tierName: string): number | undefined {
  return resolved.find((h) => h.tierName === tierName)?.tier;
}

/**
 * HyperNodes a gang may be confined to: tier ≤ maxTier, containing every node in `mustContain`, smallest tier
 * first (closest network), then fewest nodes, then name — the order the local scheduler tries them in.
 */
export function candidateHyperNodes(
  resolved: ResolvedHyperNode[],
  maxTier: number,
  mustContain: Iterable<string> = [],
): ResolvedHyperNode[] {
  const required = [...mustContain];
  return resolved
    .filter((h) => h.tier <= maxTier && h.nodes.size > 0 && required.every((n) => h.nodes.has(n)))
    .sort((a, b) => a.tier - b.tier || a.nodes.size - b.nodes.size || a.name.localeCompare(b.name));
}
