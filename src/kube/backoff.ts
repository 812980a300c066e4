// Jittered exponential backoff (client-go's wait.Backoff with Jitter): each step waits base·(1 + jitter·rand)
// where base doubles from `initialMs` up to `maxMs`. Pure apart from the injected random source.

export interface BackoffOptions {
  initialMs?: number;
  maxMs?: number;
  factor?: number;
  /** Fraction of the base added at random: 1.0 means a wait in [base, 2·base). */
  jitter?: number;
  random?: () => number;
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private base: number;

  constructor(o: BackoffOptions = {}) {
    this.initialMs = o.initialMs ?? 800;
    this.maxMs = o.maxMs ?? 30_000;
    this.factor = o.factor ?? 2;
    this.jitter = o.jitter ?? 1;
    this.random = o.random ?? Math.random;
    this.base = this.initialMs;
  }

  /** The next wait in ms (never more than maxMs). */
  next(): number {
    const base = this.base;
    this.base = Math.min(this.maxMs, this.base * this.factor);
    return Math.min(this.maxMs, Math.round(base * (1 + this.jitter * this.random())));
  }

  reset(): void {
    this.base = this.initialMs;
  }
}
