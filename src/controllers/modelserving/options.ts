// Behaviour beyond upstream, switched on per ModelServing with annotations. The grammar lives in src/api
// (shared with validation); this module is the controller's view of it.
import {
  DEFAULT_MODELSERVING_OPTIONS,
  type ModelServingOptions,
  parseModelServingOptions,
} from '../../api/modelserving-options.js';
import type { ModelServing } from './types.js';

export {
  ANN_EVICTION_BUDGET,
  ANN_RESTART_BACKOFF,
  ANN_REVISION_HISTORY,
  ANN_ROLE_MAX_SKEW,
  ANN_ROLE_STARTUP,
  ANN_WORKER_STARTUP,
} from '../../api/modelserving-options.js';

export type ControllerOptions = ModelServingOptions;
export const DEFAULT_OPTIONS: ControllerOptions = DEFAULT_MODELSERVING_OPTIONS;

/** Reads the annotations; a malformed value is an error the caller reports (as an event) rather than guessing. */
export function readOptions(ms: ModelServing): ControllerOptions {
  const { options, problems } = parseModelServingOptions(ms.metadata.annotations);
  if (problems.length > 0) throw new Error(`${problems[0].annotation}: ${problems[0].message}`);
  return options;
}

/**
 * Delay before a group that the recovery policy recreated `restarts` times may be recreated again:
 * the first recreation is immediate, then base, 2×base, … capped at max.
 */
export function restartBackoffMs(
  restarts: number,
  o: Pick<ControllerOptions, 'backoffBaseMs' | 'backoffMaxMs'>,
): number {
  if (restarts <= 1 || o.backoffBaseMs <= 0) return 0;
  return Math.min(o.backoffBaseMs * 2 ** Math.min(restarts - 2, 30), o.backoffMaxMs);
}
