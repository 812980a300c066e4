// What the pipeline's phases and backends are built from (the router wires these once, src/router/router.ts).
import type { Logger } from 'pino';
import type { AdmissionStage } from '../admission/chain.js';
import type { ScaleFromZeroGate } from '../policy/scale-from-zero.js';
import type { ProviderHook } from '../providers/hook.js';
import type { UpstreamPools } from '../proxy/pools.js';
import type { BodyLimits } from '../request/body.js';
import type { EndpointScore, Scheduler } from '../scheduler/framework.js';
import type { RouterStore } from '../store/store.js';
import type { AccessLog } from '../telemetry/access-log.js';
import type { RouterMetrics } from '../telemetry/metrics.js';

export interface PipelineDeps {
  store: RouterStore;
  scheduler: Scheduler;
  pools: UpstreamPools;
  metrics: RouterMetrics;
  accessLog: AccessLog;
  log: Logger;
  admission: AdmissionStage[];
  limits: BodyLimits;
  rand: () => number;
  /** External model providers and route fallback (src/router/providers); absent = provider targets answer 501. */
  providers?: ProviderHook;
  /** Holds requests for scalable-to-zero ModelServers with no ready endpoint (src/router/policy/scale-from-zero). */
  scaleFromZero?: ScaleFromZeroGate;
  /** After the first bytes: stall bound and mid-stream failover (src/router/proxy/forward.ts, midstream.ts). */
  streams?: { stallTimeoutMs: number; midStreamFailover: boolean };
}

/** A ranking as the scheduler returned it; `scores` is built when read (debug view only). */
export type Ranking = { readonly scores: EndpointScore[] };

/** Where schedule phases leave each model's latest ranking (the debug view reads it). */
export interface RankingSink {
  noteRanking(model: string, ranking: Ranking): void;
}
