// One strategy run of a scenario in the twin (src/twin): same scenario, same router configuration as the live run,
// virtual time instead of processes. The oracle reads the engines' true state directly.
import { getProfile } from '../../src/engine/index.js';
import {
  type DecisionTrace,
  engineTruth,
  oraclePluginOver,
  runTwin,
  type TwinLatencies,
  trueCoefficients,
} from '../../src/twin/index.js';
import type { RunOutcome } from './run.js';
import { MODEL, type Scenario } from './scenarios.js';

export async function runTwinOnce(
  sc: Scenario,
  routerConfig: string,
  seed: number,
  o: {
    latencies?: Partial<TwinLatencies>;
    onDecision?: (t: DecisionTrace) => void;
    onProgress?: (done: number, total: number) => void;
  } = {},
): Promise<RunOutcome> {
  const profile = getProfile(sc.profile);
  const out = await runTwin({
    engines: { replicas: sc.replicas, model: MODEL, profile: sc.profile, numGpuBlocks: sc.numGpuBlocks },
    routerConfig,
    workload: { requests: sc.requests, gapsSec: sc.gapsSim, maxConcurrency: sc.maxConcurrency },
    latencies: o.latencies,
    seed,
    extraPlugins: (engines) => [
      oraclePluginOver(trueCoefficients(profile), profile.blockSize, (ep, hashes) => {
        const e = engines.get(ep.key);
        return e ? engineTruth(e, hashes) : undefined;
      }),
    ],
    onDecision: o.onDecision,
    onProgress: o.onProgress,
  });
  return { results: out.results, durationSec: out.durationSec };
}
