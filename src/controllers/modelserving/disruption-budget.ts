// The eviction budget (`kthena.io/eviction-budget`) as PodDisruptionBudgets. A node drain evicts pods through
// the pods/eviction subresource, which honours PodDisruptionBudgets on any Kubernetes API server (and on
// `kthena cluster`), so a budget written as PDBs works everywhere without a webhook of ours.
//
// `role:N` — one PDB per role (`<ms>-<role>`) over that role's pods in every group: at most N of them evicted
//            while not all are back and Ready.
// `group:N` — one PDB per ServingGroup (`<ms>-<g>`) over that group's pods: at most N of them at a time.
//
// Budgets are written as `minAvailable` = (pods the scope should have) − N rather than `maxUnavailable: N`:
// for maxUnavailable kube-controller-manager takes the expected count from the owner's scale subresource,
// which for a ModelServing counts groups, not pods; minAvailable counts the selected pods themselves.
import type { PodDisruptionBudget } from 'kubernetes-types/policy/v1.js';
import { groupName, LABEL_GROUP, LABEL_NAME, LABEL_ROLE } from './naming.js';
import type { ControllerOptions } from './options.js';
import { groupSize } from './pods.js';
import { ownerReference } from './revision.js';
import type { ModelServing } from './types.js';

export type BudgetAction =
  | { type: 'createPodDisruptionBudget'; object: PodDisruptionBudget }
  | { type: 'updatePodDisruptionBudget'; object: PodDisruptionBudget }
  | { type: 'deletePodDisruptionBudget'; name: string };

/** The PodDisruptionBudgets a ModelServing should have (none without the annotation). */
export function desiredBudgets(ms: ModelServing, budget: ControllerOptions['evictionBudget']): PodDisruptionBudget[] {
  if (!budget) return [];
  const name = ms.metadata.name;
  const roles = ms.spec.template.roles;
  const replicas = ms.spec.replicas ?? 1;
  const make = (pdbName: string, selector: Record<string, string>, pods: number): PodDisruptionBudget => ({
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: {
      name: pdbName,
      namespace: ms.metadata.namespace,
      labels: { [LABEL_NAME]: name },
      ownerReferences: [ownerReference(ms)],
    },
    spec: {
      minAvailable: Math.max(0, pods - budget.maxUnavailable),
      selector: { matchLabels: { [LABEL_NAME]: name, ...selector } },
    },
  });
  if (budget.scope === 'role')
    return roles.map((role) =>
      make(`${name}-${role.name}`, { [LABEL_ROLE]: role.name }, replicas * (role.replicas ?? 1) * groupSize(role)),
    );
  const perGroup = roles.reduce((n, role) => n + (role.replicas ?? 1) * groupSize(role), 0);
  return Array.from({ length: replicas }, (_, g) =>
    make(groupName(name, g), { [LABEL_GROUP]: groupName(name, g) }, perGroup),
  );
}

const sameSpec = (a: PodDisruptionBudget, b: PodDisruptionBudget) =>
  JSON.stringify(a.spec?.minAvailable) === JSON.stringify(b.spec?.minAvailable) &&
  a.spec?.maxUnavailable === undefined &&
  JSON.stringify(a.spec?.selector?.matchLabels ?? {}) === JSON.stringify(b.spec?.selector?.matchLabels ?? {}) &&
  (a.spec?.selector?.matchExpressions ?? []).length === 0;

/** Writes that turn the existing (owned) budgets into the desired ones. */
export function budgetActions(desired: PodDisruptionBudget[], existing: PodDisruptionBudget[]): BudgetAction[] {
  const out: BudgetAction[] = [];
  const byName = new Map(existing.map((b) => [b.metadata?.name ?? '', b]));
  const wanted = new Set<string>();
  for (const d of desired) {
    const n = d.metadata?.name ?? '';
    wanted.add(n);
    const cur = byName.get(n);
    if (!cur) out.push({ type: 'createPodDisruptionBudget', object: d });
    else if (!cur.metadata?.deletionTimestamp && !sameSpec(cur, d))
      // keep the server's metadata (resourceVersion: a concurrent change fails with a conflict, then retries)
      out.push({
        type: 'updatePodDisruptionBudget',
        object: { ...cur, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', spec: d.spec },
      });
  }
  for (const [n, b] of byName)
    if (!wanted.has(n) && !b.metadata?.deletionTimestamp) out.push({ type: 'deletePodDisruptionBudget', name: n });
  return out;
}
