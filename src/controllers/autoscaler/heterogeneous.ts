// The heterogeneous optimizer (reference §4.5): several ModelServings of one model on different hardware, each with a
// cost. Capacity above each minimum is cut into blocks of size 1, P, P², … (P = costExpansionRatePercent/100), the
// blocks are sorted by cost, and a total K is served by the cheapest prefix of that order. Scale-up adds the next
// cheapest block; scale-down removes the last added, so the most recently started (coldest) units go first. Pure.

export interface CostParam {
  cost?: number;
  min: number;
  max: number;
}

export interface Block {
  /** Index into the params. */
  param: number;
  size: number;
  cost: number;
}

/** The scaling order: every param's blocks, cheapest first (ties by param order, then block order). */
export function scalingOrder(params: readonly CostParam[], costExpansionRatePercent: number): Block[] {
  const blocks: (Block & { seq: number })[] = [];
  let seq = 0;
  params.forEach((p, i) => {
    let remaining = p.max - p.min;
    const cost = p.cost ?? 0;
    if (remaining <= 0) return;
    if (costExpansionRatePercent === 100) {
      // Upstream's special case: one block whose cost is not multiplied by its size.
      blocks.push({ param: i, size: remaining, cost, seq: seq++ });
      return;
    }
    const growth = costExpansionRatePercent / 100;
    let packageLen = 1;
    while (remaining > 0) {
      const size = Math.min(remaining, Math.max(Math.trunc(packageLen), 1));
      blocks.push({ param: i, size, cost: cost * size, seq: seq++ });
      remaining -= size;
      packageLen *= growth;
    }
  });
  blocks.sort((a, b) => a.cost - b.cost || a.param - b.param || a.seq - b.seq);
  return blocks.map(({ param, size, cost }) => ({ param, size, cost }));
}

/** Replicas per param that serve `total` along the order (clamped to the sum of minimums and maximums). */
export function distribute(params: readonly CostParam[], order: readonly Block[], total: number): number[] {
  const out = params.map((p) => p.min);
  const minTotal = out.reduce((a, b) => a + b, 0);
  const maxTotal = params.reduce((a, p) => a + Math.max(p.min, p.max), 0);
  let remaining = Math.min(maxTotal, Math.max(minTotal, total)) - minTotal;
  for (const b of order) {
    if (remaining <= 0) break;
    const take = Math.min(remaining, b.size);
    out[b.param]! += take;
    remaining -= take;
  }
  return out;
}

/**
 * Upstream aggregates an external metric across targets by its name: utilisation-like names (`_utilization`,
 * `_usage`, `_ratio`, `_percent`, `_saturation`) as a replica-weighted average, everything else as a sum.
 */
export function aggregateExternal(name: string, values: readonly { value: number; replicas: number }[]): number {
  if (/(_utilization|_usage|_ratio|_percent|_saturation)$/.test(name.toLowerCase())) {
    const weight = values.reduce((a, v) => a + v.replicas, 0);
    if (weight === 0) return values.reduce((a, v) => a + v.value, 0) / Math.max(1, values.length);
    return values.reduce((a, v) => a + v.value * v.replicas, 0) / weight;
  }
  return values.reduce((a, v) => a + v.value, 0);
}
