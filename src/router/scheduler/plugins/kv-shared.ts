// One KvAwareness per router (keyed by its metrics registry), shared by the precise-prefix-cache and
// latency-predictor scorers so the index, subscriptions and dispatch bookkeeping exist once.
import { Counter, Gauge, Histogram } from 'prom-client';
import { type AwarenessOptions, KvAwareness } from '../../kvindex/awareness.js';
import type { RouterMetrics } from '../../telemetry/metrics.js';
import type { PluginArgs, PluginDeps } from '../plugin.js';

const shared = new WeakMap<RouterMetrics, KvAwareness>();

export function awarenessOptions(args: PluginArgs, deps?: Pick<PluginDeps, 'clock' | 'kvEvents'>): AwarenessOptions {
  const t = args.tokenizer ?? 'auto';
  if (t !== 'auto' && t !== 'local' && t !== 'simulator' && t !== 'remote')
    throw new Error(`tokenizer must be "auto", "local" (or "simulator") or "remote", got ${JSON.stringify(t)}`);
  const tokenizer = t === 'simulator' ? 'local' : t;
  const paths = args.tokenizers;
  if (
    paths !== undefined &&
    (paths === null ||
      typeof paths !== 'object' ||
      Array.isArray(paths) ||
      !Object.values(paths).every((v) => typeof v === 'string' && v.length > 0))
  )
    throw new Error('tokenizers must map model names to tokenizer paths (directory or tokenizer.json)');
  const int = (key: string, dflt: number, min: number, max: number): number => {
    const v = args[key];
    if (v === undefined) return dflt;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new Error(`${key} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
    return n;
  };
  return {
    tokenizer,
    tokenizers: paths as Record<string, string> | undefined,
    blockSize: int('blockSize', 16, 1, 1 << 16),
    hashSeed: int('hashSeed', 0, -(2 ** 31), 2 ** 31 - 1),
    kvEventsPort: int('kvEventsPort', 5557, 1, 65535),
    subscribe: args.subscribe !== false && deps?.kvEvents !== 'fed',
    index: { maxEntries: int('maxIndexEntries', 2_000_000, 1000, 1e9) },
    now: deps?.clock ? () => deps.clock!.now() : undefined,
  };
}

/** The KV awareness of the router whose metrics registry is `metrics`, if one of its plugins uses it. */
export function kvAwarenessOf(metrics: RouterMetrics): KvAwareness | undefined {
  return shared.get(metrics);
}

export function sharedAwareness(deps: PluginDeps, args: PluginArgs): KvAwareness {
  const metrics = deps.metrics;
  let a = shared.get(metrics);
  if (a) return a;
  a = new KvAwareness(awarenessOptions(args, deps));
  shared.set(metrics, a);
  const aw = a;
  const registers = [metrics.registry];
  new Gauge({
    name: 'kthena_router_kv_index_entries',
    help: '(endpoint, block) entries in the precise KV index',
    registers,
    collect() {
      this.set(aw.index.entries);
    },
  });
  new Gauge({
    name: 'kthena_router_kv_index_bytes',
    help: 'Approximate heap bytes of the precise KV index',
    registers,
    collect() {
      this.set(aw.index.bytes);
    },
  });
  const rel = new Gauge({
    name: 'kthena_router_kv_cached_tokens_prediction_error_ratio',
    help: 'Moving mean of |predicted - engine-reported cached tokens| / prompt tokens, per model',
    labelNames: ['model'],
    registers,
  });
  const abs = new Histogram({
    name: 'kthena_router_kv_cached_tokens_prediction_error_tokens',
    help: 'Per request |predicted - engine-reported cached prompt tokens|',
    labelNames: ['model'],
    buckets: [0, 16, 64, 256, 1024, 4096, 16384],
    registers,
  });
  const failures = new Counter({
    name: 'kthena_router_tokenizer_failures_total',
    help: 'Requests whose token ids could not be computed (scored on load only), per model and tokenizer source',
    labelNames: ['model', 'source'],
    registers,
  });
  aw.opts.onTokenizerFailure = (model, source) => failures.inc({ model, source });
  new Gauge({
    name: 'kthena_router_tokenize_seconds_mean',
    help: "Mean time to compute a request's token ids (tokenizer source chosen, tokenized or /tokenize round trip)",
    registers,
    collect() {
      this.set(aw.tokenizers.count ? Number(aw.tokenizers.nanos / BigInt(aw.tokenizers.count)) / 1e9 : 0);
    },
  });
  aw.verifier.sink = {
    observe(model, predicted, reported) {
      abs.observe({ model }, Math.abs(predicted - reported));
      rel.set({ model }, aw.verifier.meanRelError(model) ?? 0);
    },
  };
  return aw;
}
