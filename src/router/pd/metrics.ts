// PD-only metrics, on the router's registry (upstream names, reference §4.2). Everything else — requests, tokens,
// active upstream requests, attempts — goes through the router's usual metrics for both legs.
import { Histogram, type Registry } from 'prom-client';

const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class PdMetrics {
  readonly prefillDuration: Histogram<'model' | 'path' | 'status_code'>;
  readonly decodeDuration: Histogram<'model' | 'path' | 'status_code'>;

  constructor(registry: Registry) {
    this.prefillDuration = new Histogram({
      name: 'kthena_router_request_prefill_duration_seconds',
      help: 'Prefill leg of prefill/decode requests, from dispatch to the complete prefill answer',
      labelNames: ['model', 'path', 'status_code'],
      buckets: BUCKETS,
      registers: [registry],
    });
    this.decodeDuration = new Histogram({
      name: 'kthena_router_request_decode_duration_seconds',
      help: 'Decode leg of prefill/decode requests, from dispatch to the end of the relayed response',
      labelNames: ['model', 'path', 'status_code'],
      buckets: BUCKETS,
      registers: [registry],
    });
  }
}
