// The semantic rules of each kind: upstream's CEL rules and admission-webhook checks, one file per group of kinds.
import type { KthenaKind } from '../kinds.js';
import type { ProblemSink } from '../problems.js';
import { autoscalingPolicyRules } from './autoscaling.js';
import { modelBoosterRules } from './modelbooster.js';
import { modelServingRules } from './modelserving.js';
import { externalModelProviderRules, modelRouteRules, modelServerRules } from './networking.js';

/** A rule reads the defaulted object and reports problems; it must tolerate shapes the schema rejected. */
export type SemanticRule = (obj: Record<string, any>, sink: ProblemSink) => void;

export const semanticRules: Record<KthenaKind, SemanticRule[]> = {
  ModelRoute: [modelRouteRules],
  ModelServer: [modelServerRules],
  ExternalModelProvider: [externalModelProviderRules],
  ModelServing: [modelServingRules],
  ModelBooster: [modelBoosterRules],
  AutoscalingPolicy: [autoscalingPolicyRules],
};
