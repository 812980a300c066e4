// Filter → score × weight → top-N. Pure over its inputs apart from the plugins themselves; timing goes to the metrics.
import { errors } from '../errors.js';
import type { RequestContext } from '../request/context.js';
import type { ServerEndpoint } from '../store/store.js';
import type { RouterMetrics } from '../telemetry/metrics.js';
import type { SchedulerPlugin } from './plugin.js';

export interface WeightedScorer {
  plugin: SchedulerPlugin;
  weight: number;
}

export interface EndpointScore {
  endpoint: string;
  total: number;
  perPlugin: Record<string, number>;
}

export interface ScheduleResult {
  /** Best first; index 0 is tried first, the rest are failover candidates. */
  ranked: ServerEndpoint[];
  scores: EndpointScore[];
}

export interface SchedulerOptions {
  filters: SchedulerPlugin[];
  scorers: WeightedScorer[];
  /** How many candidates are kept for failover (upstream: 5). */
  topN: number;
  metrics?: RouterMetrics;
  rand: () => number;
}

export class Scheduler {
  readonly plugins: SchedulerPlugin[];

  constructor(readonly opts: SchedulerOptions) {
    const all = new Set<SchedulerPlugin>([...opts.filters, ...opts.scorers.map((s) => s.plugin)]);
    this.plugins = [...all];
  }

  async schedule(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): Promise<ScheduleResult> {
    for (const p of this.plugins) {
      if (!p.preSchedule) continue;
      const r = p.preSchedule(ctx, endpoints);
      if (r) await r;
    }
    return this.rank(ctx, endpoints);
  }

  /** Synchronous part, exposed for tests and the debug view. */
  rank(ctx: RequestContext, endpoints: readonly ServerEndpoint[]): ScheduleResult {
    const metrics = this.opts.metrics;
    let pool = endpoints;
    for (const f of this.opts.filters) {
      const t0 = metrics ? process.hrtime.bigint() : 0n;
      pool = f.filter!(ctx, pool);
      if (metrics) observe(metrics, ctx.model, f.name, 'filter', t0);
      if (pool.length === 0) throw errors.schedulingFailed(`pods have all been filtered out by "${f.name}"`);
    }
    const n = pool.length;
    const totals = new Float64Array(n);
    const perPlugin: Float64Array[] = [];
    for (const { plugin, weight } of this.opts.scorers) {
      const t0 = metrics ? process.hrtime.bigint() : 0n;
      const s = plugin.score!(ctx, pool);
      if (metrics) observe(metrics, ctx.model, plugin.name, 'score', t0);
      const mine = new Float64Array(n);
      for (let i = 0; i < n; i++) {
        const v = Number(s[i]);
        const score = Number.isFinite(v) ? v : 0;
        mine[i] = score;
        totals[i] += score * weight;
      }
      perPlugin.push(mine);
    }
    // Random tie-break: equal totals must not always send traffic to the same endpoint.
    const order = new Array<number>(n);
    for (let i = 0; i < n; i++) order[i] = i;
    for (let i = n - 1; i > 0; i--) {
      const j = Math.floor(this.opts.rand() * (i + 1));
      const t = order[i];
      order[i] = order[j];
      order[j] = t;
    }
    order.sort((a, b) => totals[b] - totals[a]);
    const ranked = new Array<ServerEndpoint>(Math.min(n, this.opts.topN));
    for (let i = 0; i < ranked.length; i++) ranked[i] = pool[order[i]];
    const scorers = this.opts.scorers;
    let scores: EndpointScore[] | undefined;
    return {
      ranked,
      // Built on first read (debug view, PD pairing): every request is ranked, few rankings are looked at.
      get scores() {
        scores ??= order.map((i) => {
          const per: Record<string, number> = {};
          scorers.forEach(({ plugin }, k) => {
            per[plugin.name] = perPlugin[k][i];
          });
          return { endpoint: pool[i].state.key, total: totals[i], perPlugin: per };
        });
        return scores;
      },
    };
  }
}

function observe(metrics: RouterMetrics, model: string, plugin: string, type: string, t0: bigint): void {
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  metrics.pluginDuration.observe({ model, plugin, type }, seconds);
}
