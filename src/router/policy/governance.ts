// Builds the admission chain from the router configuration (`auth` section) and the environment
// (ENABLE_FAIRNESS_SCHEDULING, FAIRNESS_*, REDIS_PASSWORD): auth → concurrency cap → rate limit → fairness queue.
// Rate limits need no switch: a ModelRoute with spec.rateLimit is limited.
import type { Logger } from 'pino';
import type { AdmissionStage } from '../admission/chain.js';
import type { RouterConfiguration } from '../scheduler/config.js';
import type { RouterMetrics } from '../telemetry/metrics.js';
import { AuthStage, parseAuthConfig } from './auth.js';
import { ConcurrencyCapStage, parseConcurrencyCap } from './concurrency-cap.js';
import { FairnessStage, fairnessFromEnv } from './fairness.js';
import { GovernanceMetrics } from './metrics.js';
import { RateLimitStage } from './rate-limit.js';

export interface GovernanceDeps {
  config: RouterConfiguration;
  env: NodeJS.ProcessEnv;
  metrics: RouterMetrics;
  log: Logger;
}

export interface Governance {
  stages: AdmissionStage[];
  metrics: GovernanceMetrics;
}

export function buildGovernance(d: GovernanceDeps): Governance {
  const metrics = new GovernanceMetrics(d.metrics.registry);
  const stages: AdmissionStage[] = [];
  const auth = parseAuthConfig(d.config.auth);
  if (auth) stages.push(new AuthStage(auth, { metrics, log: d.log }));
  // Before rate limits and queues: a flood of concurrent requests costs nothing beyond this check.
  const cap = parseConcurrencyCap(d.config.limits);
  if (cap) stages.push(new ConcurrencyCapStage(cap, metrics));
  stages.push(new RateLimitStage({ metrics, log: d.log, redisPassword: d.env.REDIS_PASSWORD }));
  const fairness = fairnessFromEnv(d.env);
  if (fairness) stages.push(new FairnessStage(fairness, metrics));
  return { stages, metrics };
}
