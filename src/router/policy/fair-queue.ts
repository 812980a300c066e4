// The fairness queue's ordering, apart from I/O. One FIFO per user (a user's own requests never overtake each other);
// the next request is the head with the lowest score:
//
//   score = tokenWeight × windowTokens(user) + requestWeight × windowRequests(user)
//           − agingPerSecond × secondsWaited − tierWeight × tier − sessionBoost (optional)
//
// Usage is read at pick time (not frozen at enqueue, upstream's #1771 class of bugs), and the aging term grows without
// bound, so every waiting request eventually has the lowest score: no user starves, not even one in a lower tier.
// Ties go to the earlier arrival.
import type { Usage } from './usage-window.js';

export interface Waiter {
  user: string;
  tier: number;
  enqueuedAt: number;
  seq: number;
  /** Subtracted from the score: session boost (a follow-up of a conversation that just completed). */
  boost?: number;
}

export interface FairOrder {
  tokenWeight: number;
  requestWeight: number;
  agingPerSecond: number;
  tierWeight: number;
}

export function score(w: Waiter, usage: Usage, o: FairOrder, now: number): number {
  return (
    o.tokenWeight * usage.tokens +
    o.requestWeight * usage.requests -
    (o.agingPerSecond * Math.max(0, now - w.enqueuedAt)) / 1000 -
    o.tierWeight * w.tier -
    (w.boost ?? 0)
  );
}

export class FairQueue<W extends Waiter> {
  private readonly byUser = new Map<string, W[]>();
  private count = 0;

  constructor(
    private readonly order: FairOrder,
    private readonly usage: (user: string) => Usage,
  ) {}

  get length(): number {
    return this.count;
  }

  queuedFor(user: string): number {
    return this.byUser.get(user)?.length ?? 0;
  }

  push(w: W): void {
    let q = this.byUser.get(w.user);
    if (!q) {
      q = [];
      this.byUser.set(w.user, q);
    }
    q.push(w);
    this.count++;
  }

  remove(w: W): boolean {
    const q = this.byUser.get(w.user);
    const i = q ? q.indexOf(w) : -1;
    if (!q || i < 0) return false;
    q.splice(i, 1);
    if (q.length === 0) this.byUser.delete(w.user);
    this.count--;
    return true;
  }

  /** Removes and returns the next request (O(users)). */
  pop(now: number): W | undefined {
    let best: W | undefined;
    let bestScore = Number.POSITIVE_INFINITY;
    for (const [user, q] of this.byUser) {
      const head = q[0];
      const s = score(head, this.usage(user), this.order, now);
      if (s < bestScore || (s === bestScore && best !== undefined && head.seq < best.seq)) {
        best = head;
        bestScore = s;
      }
    }
    if (best) this.remove(best);
    return best;
  }

  *all(): Iterable<W> {
    for (const q of this.byUser.values()) yield* q;
  }
}
