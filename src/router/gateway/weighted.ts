/** Weighted random choice over positive weights; undefined for an empty list or a zero total. */
export function pickWeighted<T>(items: readonly T[], weight: (t: T) => number, rand: () => number): T | undefined {
  let total = 0;
  for (const t of items) total += weight(t);
  if (total <= 0) return undefined;
  let r = rand() * total;
  for (const t of items) {
    r -= weight(t);
    if (r < 0) return t;
  }
  return items[items.length - 1];
}
