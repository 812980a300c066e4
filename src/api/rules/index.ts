// The semantic rules of each kind: upstream's CEL rules and admission-webhook checks, one file per kind.
import type { KthenaKind } from '../kinds.js';
import type { ProblemSink } from '../problems.js';

/** A rule reads the defaulted object and reports problems; it must tolerate shapes the schema rejected. */
export type SemanticRule = (obj: Record<string, any>, sink: ProblemSink) => void;

export const semanticRules: Record<KthenaKind, SemanticRule[]> = {
  ModelRoute: [],
  ModelServer: [],
  ExternalModelProvider: [],
  ModelServing: [],
  ModelBooster: [],
  AutoscalingPolicy: [],
};
