// The door of the twin: the platform's scheduling path in virtual time (see twin.ts and docs/benchmarks.md), and a fleet
// of engines whose size an autoscaler changes (fleet.ts, docs/autoscaling.md).
// It imports the engine and router doors; neither imports it.

export {
  Fleet,
  type FleetArrival,
  type FleetOptions,
  type FleetOutcome,
  type FleetReplica,
  type FleetRequestResult,
  type FleetSample,
} from './fleet.js';
export {
  engineTruth,
  oracleInputs,
  oraclePluginOver,
  type Pending,
  pendingPrefixBlocks,
  type Truth,
  trueCoefficients,
} from './oracle.js';
export {
  DEFAULT_LATENCIES,
  type DecisionTrace,
  runTwin,
  seededRandom,
  type TwinEngines,
  type TwinLatencies,
  type TwinOptions,
  type TwinOutcome,
} from './twin.js';
export type { RequestResult, TwinRequest, Workload } from './workload.js';
