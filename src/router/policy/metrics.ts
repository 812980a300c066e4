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
  readonly priorityRefresh: Counter<'model'>;
  readonly heapRebuild: Counter<'model'>;
  readonly boostSize: Gauge<'model'>;
  readonly boostDuration: Histogram<'model'>;
  readonly boostCancelled: Counter<'model'>;
  readonly boostDequeued: Counter<'model'>;
  readonly boostInflight: Gauge<'model'>;

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
    this.priorityRefresh = new Counter({
      name: 'kthena_router_fairness_queue_priority_refresh_total',
      help: "Picks that re-scored every user's head from current usage (ours scores at each pick)",
      labelNames: ['model'],
      registers,
    });
    this.heapRebuild = new Counter({
      name: 'kthena_router_fairness_queue_heap_rebuild_total',
      help: "Upstream's priority-heap rebuilds; always 0 here: the queue keeps no heap, it scores heads at each pick",
      labelNames: ['model'],
      registers,
    });
    // Session boost is an option of the fairness queue here (one queue, boosted requests score lower); these count
    // the boosted requests in it under upstream's session_boost_queue names.
    this.boostSize = new Gauge({
      name: 'kthena_router_session_boost_queue_size',
      help: 'Session-boosted requests waiting in the fairness queue',
      labelNames: ['model'],
      registers,
    });
    this.boostDuration = new Histogram({
      name: 'kthena_router_session_boost_queue_duration_seconds',
      help: 'Time session-boosted requests waited in the fairness queue',
      labelNames: ['model'],
      buckets: QUEUE_BUCKETS,
      registers,
    });
    this.boostCancelled = new Counter({
      name: 'kthena_router_session_boost_queue_cancelled_total',
      help: 'Session-boosted requests that left the queue without being admitted',
      labelNames: ['model'],
      registers,
    });
    this.boostDequeued = new Counter({
      name: 'kthena_router_session_boost_queue_dequeue_total',
      help: 'Session-boosted requests admitted by the fairness queue',
      labelNames: ['model'],
      registers,
    });
    this.boostInflight = new Gauge({
      name: 'kthena_router_session_boost_queue_inflight',
      help: 'Session-boosted requests admitted and not finished',
      labelNames: ['model'],
      registers,
    });
  }
}
