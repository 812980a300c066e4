// metav1.LabelSelector semantics, in one place for every room that selects objects by label.

/** Structural: our TypeBox LabelSelector and kubernetes-types' (whose operator is any string) both fit. */
export interface LabelSelectorLike {
  matchLabels?: Record<string, string>;
  matchExpressions?: readonly { key: string; operator: string; values?: readonly string[] }[];
}

/** Whether `labels` satisfy the selector (all matchLabels and every matchExpression). An empty selector matches all. */
export function labelSelectorMatches(
  sel: LabelSelectorLike | undefined,
  labels: Record<string, string> | undefined,
): boolean {
  const l = labels ?? {};
  for (const [k, v] of Object.entries(sel?.matchLabels ?? {})) if (l[k] !== v) return false;
  for (const e of sel?.matchExpressions ?? []) {
    const has = Object.hasOwn(l, e.key);
    const values: readonly string[] = e.values ?? [];
    if (e.operator === 'In' && !(has && values.includes(l[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && values.includes(l[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}
