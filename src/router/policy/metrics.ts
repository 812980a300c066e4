// Governance metrics (auth, rate limits, fairness queue) on the router's registry. Upstream's names where reference
// §4.2 defines them; our additions are kthena_router_* too and listed in docs/governance.md. No label ever carries a
// credential or a user id (cardinality, and secrets never reach metrics).
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

const QUEUE_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

export class GovernanceMetrics {
  readonly rateLimitExceeded: Counter<'model' | 'limit_type' | 'path'>;
  readonly rateLimitBackendErrors: Counter<'model' | 'outcome'>;
  readonly authFailures: Counter<'reason'>;
  readonly queueSize: Gauge<'model' | 'user_id'>;
  readonly queueDuration: Histogram<'model' | 'user_id'>;
  readonly queueCancelled: Counter<'model' | 'user_id' | 'reason'>;
  readonly queueDequeued: Counter<'model' | 'user_id'>;
  readonly queueInflight: Gauge<'model'>;
  readonly concurrencyRejected: Counter<'scope'>;

  constructor(registry: Registry) {
    const registers = [registry];
    this.concurrencyRejected = new Counter({
      name: 'kthena_router_concurrency_rejected_total',
      help: 'Requests rejected by the per-user / per-client concurrency cap (router config limits), by scope',
      labelNames: ['scope'],
      registers,
    });
    this.rateLimitExceeded = new Counter({
      name: 'kthena_router_rate_limit_exceeded_total',
      help: 'Requests rejected by a token rate limit',
      labelNames: ['model', 'limit_type', 'path'],
      registers,
    });
    this.rateLimitBackendErrors = new Counter({
      name: 'kthena_router_rate_limit_backend_errors_total',
      help: 'Rate-limit checks that could not reach Redis, by what the route did (allowed: fail-open, rejected)',
      labelNames: ['model', 'outcome'],
      registers,
    });
    this.authFailures = new Counter({
      name: 'kthena_router_auth_failures_total',
      help: 'Requests rejected by authentication, by reason',
      labelNames: ['reason'],
      registers,
    });
    this.queueSize = new Gauge({
      name: 'kthena_router_fairness_queue_size',
      help: 'Requests waiting in the fairness queue',
      labelNames: ['model', 'user_id'],
      registers,
    });
    this.queueDuration = new Histogram({
      name: 'kthena_router_fairness_queue_duration_seconds',
      help: 'Time requests waited in the fairness queue',
      labelNames: ['model', 'user_id'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.queueCancelled = new Counter({
      name: 'kthena_router_fairness_queue_cancelled_total',
      help: 'Requests that left the fairness queue without being admitted (timeout, client gone, full)',
      labelNames: ['model', 'user_id', 'reason'],
      registers,
    });
    this.queueDequeued = new Counter({
      name: 'kthena_router_fairness_queue_dequeue_total',
      help: 'Requests admitted by the fairness queue',
      labelNames: ['model', 'user_id'],
      registers,
    });
    this.queueInflight = new Gauge({
      name: 'kthena_router_fairness_queue_inflight',
      help: 'Requests admitted by the fairness queue and not finished',
      labelNames: ['model'],
      registers,
    });
  }
}
