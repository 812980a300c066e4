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

/** Snapshots of one pod's histogram; restarting the pod (a new start time) forgets them. */
export class HistogramWindow {
  private snapshots: Snapshot[] = [];
  private startTime: string | undefined;

  /** Records `now`'s buckets and returns the p-quantile of what was observed since the reference snapshot. */
  observe(t: number, podStartTime: string | undefined, buckets: Buckets, quantile = 0.95): number {
    if (podStartTime !== this.startTime) {
      this.snapshots = [];
      this.startTime = podStartTime;
    }
    this.snapshots = this.snapshots.filter((s) => t - s.t <= SNAPSHOT_KEEP_MS);
    const past = this.snapshots.find((s) => t - s.t >= SNAPSHOT_MIN_AGE_MS);
    this.snapshots.push({ t, buckets });
    return bucketQuantile(quantile, bucketDelta(buckets, past?.buckets));
  }
}
