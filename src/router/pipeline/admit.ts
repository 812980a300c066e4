// Phase 3, admit: auth, rate limits, fairness queue, concurrency caps (src/router/admission, src/router/policy) —
// once per request, however many backends it then tries. What the stages acquire is released in account.
import { admit as runStages } from '../admission/chain.js';
import type { PipelineDeps } from './deps.js';
import type { Exchange } from './exchange.js';

export async function admit(x: Exchange, d: PipelineDeps): Promise<void> {
  if (x.admitted || !x.ctx) return;
  x.releases = await runStages(d.admission, x.ctx);
  x.admitted = true;
}
