// The cost-driven autoscaler: AutoscalingPolicy → ModelServing replicas (homogeneous, heterogeneous by cost, and
// prefill/decode roles with a ratio constraint). The maths are pure (recommend, behavior, heterogeneous, ratio,
// scaler, slo); collect.ts and controller.ts are the I/O shell.
export { type Behavior, correct, ScalingHistory } from './behavior.js';
export { type FetchText, fetchText, MetricCollector } from './collect.js';
export {
  AUTOSCALER_RBAC_RULES,
  AutoscalerController,
  type AutoscalerOptions,
  currentReplicas,
  DEFAULT_SYNC_PERIOD_MS,
} from './controller.js';
export { distribute, scalingOrder } from './heterogeneous.js';
export { behaviorOf, PlanError, planOf, type ScalingPlan, type Unit } from './plan.js';
export { enforceRatio } from './ratio.js';
export { type Recommendation, recommend } from './recommend.js';
export { type PolicyOutcome, PolicyScaler, type UnitDecision, type UnitObservation } from './scaler.js';
export {
  CapacityEstimator,
  SLO_LOOKAHEAD_ANNOTATION,
  SLO_METRIC,
  SLO_QUANTILE_ANNOTATION,
  SLO_UTILIZATION_ANNOTATION,
  type SloSpec,
  sloOf,
  TTFT_SLO_ANNOTATION,
} from './slo.js';
export { statusOf } from './status.js';
