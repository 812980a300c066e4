// The door of the router: the running data plane (startRouter), and the scheduling seam — the router's decision
// apart from its I/O, which the twin (src/twin) and tests drive without HTTP and on an injected clock:
//   configuration → plugins → Scheduler (buildScheduler, the registry), a store of endpoints (RouterStore), request
//   contexts from a parsed OpenAI body (buildRequestContext), engine metrics from a scrape's text
//   (EngineMetricsIngest), KV events into the precise index (kvAwarenessOf + applyKvMessage), and the per-attempt
//   hooks (dispatchAttempt / commitAttempt / releaseAttempt / responseDone). See docs/decisions/0009-scheduling-seam.md.
export {
  type Coefficients,
  type LatencyInputs,
  placementCosts,
  predictTtft,
  scoresWithLoadTieBreak,
} from './kvindex/latency-model.js';
export { applyKvMessage } from './kvindex/wire.js';
export {
  buildRequestContext,
  type ContextInput,
  type RequestContext,
  type ResponseOutcome,
} from './request/context.js';
export { type RouterOptions, type RunningRouter, startRouter } from './router.js';
export { resolveRoute } from './routing/match.js';
export {
  buildScheduler,
  DEFAULT_ROUTER_CONFIG_YAML,
  parseRouterConfig,
  type RouterConfiguration,
  UPSTREAM_HELM_ROUTER_CONFIG_YAML,
} from './scheduler/config.js';
export type { ScheduleResult, Scheduler } from './scheduler/framework.js';
export { commitAttempt, dispatchAttempt, releaseAttempt, reportAttempt, responseDone } from './scheduler/lifecycle.js';
export {
  type KvEventSource,
  type PluginArgs,
  type PluginDefinition,
  type PluginDeps,
  processClock,
  type RouterClock,
  type SchedulerPlugin,
} from './scheduler/plugin.js';
export { kvAwarenessOf } from './scheduler/plugins/kv-shared.js';
export type { DecisionRecord } from './scheduler/plugins/latency-predictor.js';
export { BUILTIN_PLUGINS, PluginRegistry } from './scheduler/registry.js';
export type { EndpointState } from './store/endpoint-state.js';
export { EngineMetricsIngest } from './store/metrics-ingest.js';
export type { EndpointSpec, ModelRoute, ModelServer } from './store/resources.js';
export { RouterStore, type ServerEndpoint } from './store/store.js';
export { RouterMetrics } from './telemetry/metrics.js';
