// PD topology of one ModelServer, kept in the store's view beside its endpoints (src/router/pd pairs from it) (reference §5.1, §2.4): the selected endpoints split by the value of the pdGroup's
// groupKey label into groups, and within a group into decode endpoints (all decodeLabels match; checked first) and
// prefill endpoints (all prefillLabels match). Prefill and decode endpoints are only ever paired inside one group.

import type { ServerEndpoint } from './endpoint-state.js';
import type { PDGroup } from './resources.js';

export interface PdGroupMembers {
  readonly prefill: readonly ServerEndpoint[];
  readonly decode: readonly ServerEndpoint[];
}

export interface PdTopology {
  /** Group label value → its members. */
  readonly groups: ReadonlyMap<string, PdGroupMembers>;
  /** Every decode endpoint of every group (the first scheduling stage ranks these). */
  readonly decode: readonly ServerEndpoint[];
  readonly prefill: readonly ServerEndpoint[];
  /** Endpoint key → its group. */
  readonly groupOf: ReadonlyMap<string, string>;
  /** Selected but without the group label or without either role's labels: never scheduled in PD mode. */
  readonly unclassified: readonly ServerEndpoint[];
}

function matchesAll(selector: Readonly<Record<string, string>> | undefined, labels: Readonly<Record<string, string>>) {
  const entries = Object.entries(selector ?? {});
  // An empty role selector marks nothing: every pod would otherwise be both roles at once.
  if (entries.length === 0) return false;
  for (const [k, v] of entries) if (labels[k] !== v) return false;
  return true;
}

export function buildPdTopology(pd: PDGroup, endpoints: readonly ServerEndpoint[]): PdTopology {
  const groups = new Map<string, { prefill: ServerEndpoint[]; decode: ServerEndpoint[] }>();
  const groupOf = new Map<string, string>();
  const decode: ServerEndpoint[] = [];
  const prefill: ServerEndpoint[] = [];
  const unclassified: ServerEndpoint[] = [];
  for (const ep of endpoints) {
    const labels = ep.state.labels;
    const group = pd.groupKey ? labels[pd.groupKey] : undefined;
    if (group === undefined) {
      unclassified.push(ep);
      continue;
    }
    const role = matchesAll(pd.decodeLabels, labels)
      ? 'decode'
      : matchesAll(pd.prefillLabels, labels)
        ? 'prefill'
        : undefined;
    if (!role) {
      unclassified.push(ep);
      continue;
    }
    let g = groups.get(group);
    if (!g) {
      g = { prefill: [], decode: [] };
      groups.set(group, g);
    }
    g[role].push(ep);
    (role === 'decode' ? decode : prefill).push(ep);
    groupOf.set(ep.state.key, group);
  }
  return { groups, decode, prefill, groupOf, unclassified };
}
