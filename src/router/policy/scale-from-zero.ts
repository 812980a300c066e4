// Scale from zero (beyond upstream): a request for a ModelServer that has no ready endpoint *and* is marked
// scalable-to-zero (annotation `autoscaling.kthena.io/scale-to-zero: "true"`, written by the autoscaler when a
// policy's minReplicas is 0, or by hand) is held instead of answered 503 at once. The gate signals demand (the
// Kubernetes source writes it on the ModelServer, where the autoscaler reads it: the planes meet only through the
// API), and releases the held requests when the store sees a ready endpoint. Bounded both ways: at most `maxQueue`
// requests per ModelServer and `maxWaitMs` each; past either, 503 with Retry-After. A client that leaves is dropped
// from the queue at once. Servers without the annotation keep upstream's immediate 503.
import { errors, RouterError } from '../errors.js';
import type { ServerEndpoint } from '../store/store.js';

export const SCALE_TO_ZERO_ANNOTATION = 'autoscaling.kthena.io/scale-to-zero';
export const DEMAND_ANNOTATION = 'autoscaling.kthena.io/demand';

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(h: unknown): void;
}

export interface ScaleFromZeroOptions {
  maxWaitMs: number;
  maxQueue: number;
  /** Called when a request starts waiting for a server (the caller throttles writes). */
  signalDemand: (serverKey: string) => void;
  /** Reads the server's ready endpoints now. */
  endpointsOf: (serverKey: string) => readonly ServerEndpoint[];
  timers?: Timers;
  onWaitStart?: () => void;
  /** Every held request ends exactly once; queue_full ones were never held. */
  onWaitEnd?: (outcome: 'served' | 'timeout' | 'queue_full' | 'cancelled' | 'shutdown') => void;
}

interface Waiter {
  resolve: (eps: readonly ServerEndpoint[]) => void;
  reject: (e: unknown) => void;
}

/** Only what the gate reads of a ModelServer. */
export interface AnnotatedServer {
  metadata?: { annotations?: Record<string, string> };
}

export const isScalableToZero = (s: AnnotatedServer) => s.metadata?.annotations?.[SCALE_TO_ZERO_ANNOTATION] === 'true';

export class ScaleFromZeroGate {
  private readonly waiting = new Map<string, Set<Waiter>>();
  private readonly timers: Timers;

  constructor(private readonly o: ScaleFromZeroOptions) {
    this.timers = o.timers ?? {
      setTimeout: (f, ms) => setTimeout(f, ms),
      clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
    };
  }

  /** Requests held now, across servers. */
  get held(): number {
    let n = 0;
    for (const s of this.waiting.values()) n += s.size;
    return n;
  }

  private retryAfter(): Record<string, string> {
    return { 'retry-after': String(Math.max(1, Math.ceil(this.o.maxWaitMs / 1000))) };
  }

  /**
   * The server's endpoints: at once when there are some; otherwise, for a scalable-to-zero server, once one becomes
   * ready (or a 503 when the wait or the queue bound is reached); for any other server, upstream's 503 at once.
   */
  endpoints(
    serverKey: string,
    server: AnnotatedServer,
    signal: AbortSignal,
  ): Promise<readonly ServerEndpoint[]> | readonly ServerEndpoint[] {
    const now = this.o.endpointsOf(serverKey);
    if (now.length > 0) return now;
    if (!isScalableToZero(server) || this.o.maxWaitMs <= 0) throw errors.noEndpoints(serverKey);
    const set = this.waiting.get(serverKey) ?? new Set<Waiter>();
    if (set.size >= this.o.maxQueue) {
      this.o.onWaitEnd?.('queue_full');
      throw new RouterError(
        503,
        'no_available_endpoints',
        `no available pods for model server: ${serverKey} (scaling from zero; ${set.size} requests already waiting)`,
        this.retryAfter(),
      );
    }
    this.waiting.set(serverKey, set);
    this.o.onWaitStart?.();
    this.o.signalDemand(serverKey);
    return new Promise<readonly ServerEndpoint[]>((resolve, reject) => {
      const done = () => {
        this.timers.clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        set.delete(w);
        if (set.size === 0 && this.waiting.get(serverKey) === set) this.waiting.delete(serverKey);
      };
      const w: Waiter = {
        resolve: (eps) => {
          done();
          this.o.onWaitEnd?.('served');
          resolve(eps);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const timer = this.timers.setTimeout(() => {
        this.o.onWaitEnd?.('timeout');
        w.reject(
          new RouterError(
            503,
            'no_available_endpoints',
            `no available pods for model server: ${serverKey} (scaling from zero: none ready within ${this.o.maxWaitMs} ms)`,
            this.retryAfter(),
          ),
        );
      }, this.o.maxWaitMs);
      const onAbort = () => {
        this.o.onWaitEnd?.('cancelled');
        w.reject(signal.reason ?? new Error('client went away'));
      };
      signal.addEventListener('abort', onAbort, { once: true });
      set.add(w);
    });
  }

  /** The store changed: release the waiters of every server that now has endpoints. */
  notify(): void {
    for (const [key, set] of this.waiting) {
      const eps = this.o.endpointsOf(key);
      if (eps.length === 0) continue;
      for (const w of [...set]) w.resolve(eps);
    }
  }

  /** Shutdown: every held request gets a 503. */
  close(): void {
    for (const [key, set] of this.waiting)
      for (const w of [...set]) {
        this.o.onWaitEnd?.('shutdown');
        w.reject(new RouterError(503, 'shutting_down', `router is shutting down (${key} was scaling from zero)`));
      }
  }
}
