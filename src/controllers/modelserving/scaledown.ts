// Which groups or role instances go first on scale-down (§2.7): not-ready before ready, then the lowest summed
// pod-deletion-cost, then the highest ordinal; partition-protected ones only after all others.
export interface ScaleDownCandidate {
  index: number;
  running: boolean;
  deletionCost: number;
  protected?: boolean;
}

export function compareForScaleDown(a: ScaleDownCandidate, b: ScaleDownCandidate): number {
  if (!!a.protected !== !!b.protected) return a.protected ? 1 : -1;
  if (a.running !== b.running) return a.running ? 1 : -1;
  if (a.deletionCost !== b.deletionCost) return a.deletionCost - b.deletionCost;
  return b.index - a.index;
}

/** The `count` candidates to delete, in deletion order. */
export function pickForScaleDown<T extends ScaleDownCandidate>(candidates: T[], count: number): T[] {
  if (count <= 0) return [];
  return [...candidates].sort(compareForScaleDown).slice(0, count);
}
