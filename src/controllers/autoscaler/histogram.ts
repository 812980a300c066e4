// Histogram metrics for autoscaling (reference §4.2): the p95 of what happened recently, not since the pod started.
// Cumulative bucket snapshots are kept per pod for up to 300 s; the value is the quantile of the difference between
// now and the oldest snapshot at least 60 s old (all zeros when the pod restarted since). Pure state, time passed in.

export interface Buckets {
  bounds: readonly number[];
  counts: readonly number[];
}

/** The q-quantile (0..1) of a bucket histogram, interpolated linearly inside the bucket; NaN when it is empty. */
export function bucketQuantile(q: number, b: Buckets): number {
  const n = b.counts.length;
  if (n === 0) return Number.NaN;
  const total = b.counts[n - 1]!;
  if (!(total > 0)) return Number.NaN;
  const rank = q * total;
  let i = 0;
  while (i < n - 1 && b.counts[i]! < rank) i++;
  const upper = b.bounds[i]!;
  const lower = i === 0 ? 0 : b.bounds[i - 1]!;
  if (upper === Infinity) return lower; // beyond the last finite bound: report that bound, as Prometheus does
  const below = i === 0 ? 0 : b.counts[i - 1]!;
  const inBucket = b.counts[i]! - below;
  if (inBucket <= 0) return upper;
  return lower + (upper - lower) * ((rank - below) / inBucket);
}

/** now − past, bucket by bucket (negative deltas, from a counter reset, count as 0). */
export function bucketDelta(now: Buckets, past: Buckets | undefined): Buckets {
  if (!past || past.bounds.length !== now.bounds.length) return now;
  return { bounds: now.bounds, counts: now.counts.map((c, i) => Math.max(0, c - (past.counts[i] ?? 0))) };
}

interface Snapshot {
  t: number;
  buckets: Buckets;
}

export const SNAPSHOT_MIN_AGE_MS = 60_000;
export const SNAPSHOT_KEEP_MS = 300_000;

/**
 * Snapshots of one pod's histogram; restarting the pod (a new start time) forgets them. Upstream's window reaches
 * back to the oldest snapshot at least 60 s old (so up to 300 s); `recent` reaches back to the newest one at least
 * `minAgeMs` old, for a signal that follows the last half minute (the SLO estimator reads TTFT and request rate
 * from it).
 */
export class HistogramWindow {
  private snapshots: Snapshot[] = [];
  private startTime: string | undefined;
  /** When the reference snapshot of the last observation was taken (undefined: none, the pod's whole life). */
  since: number | undefined;
  constructor(
    private readonly recent = false,
    private readonly minAgeMs = SNAPSHOT_MIN_AGE_MS,
  ) {}

  /** Records `now`'s buckets and returns the p-quantile of what was observed since the reference snapshot. */
  observe(t: number, podStartTime: string | undefined, buckets: Buckets, quantile = 0.95): number {
    return bucketQuantile(quantile, this.observeDelta(t, podStartTime, buckets));
  }

  /** Records `now`'s buckets and returns what was observed since the reference snapshot, bucket by bucket. */
  observeDelta(t: number, podStartTime: string | undefined, buckets: Buckets): Buckets {
    if (podStartTime !== this.startTime) {
      this.snapshots = [];
      this.startTime = podStartTime;
    }
    this.snapshots = this.snapshots.filter((s) => t - s.t <= SNAPSHOT_KEEP_MS);
    const old = this.snapshots.filter((s) => t - s.t >= this.minAgeMs);
    const past = this.recent ? old[old.length - 1] : old[0];
    this.since = past?.t;
    this.snapshots.push({ t, buckets });
    return bucketDelta(buckets, past?.buckets);
  }
}

/** Bucket-wise sum of histograms with the same bounds (others are left out): the fleet's histogram. */
export function mergeBuckets(list: readonly Buckets[]): Buckets | undefined {
  const first = list[0];
  if (!first) return undefined;
  const same = list.filter(
    (b) => b.bounds.length === first.bounds.length && b.bounds.every((x, i) => x === first.bounds[i]),
  );
  return { bounds: first.bounds, counts: first.counts.map((_, i) => same.reduce((a, b) => a + (b.counts[i] ?? 0), 0)) };
}
