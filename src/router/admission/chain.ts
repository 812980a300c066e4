// Admission stages run after route resolution and before scheduling: auth, rate limits, fairness queues and the like
// (issue #6) plug in here without touching the core. A stage rejects by throwing a RouterError, may wait (queues), and
// may return a release callback that runs once on the request's terminal path.
import type { RequestContext, ResponseOutcome } from '../request/context.js';

export type Release = () => void;

export interface AdmissionStage {
  readonly name: string;
  admit(ctx: RequestContext): Release | undefined | Promise<Release | undefined>;
  /** Called on every request that got a context, with its final outcome (usage); stages keep their own state keyed by the context. */
  onResponseDone?(ctx: RequestContext, outcome: ResponseOutcome): void;
  /** Called when the router closes (timers, Redis connections). */
  close?(): void | Promise<void>;
}

/** Runs stages in order; on rejection releases what earlier stages acquired, then rethrows. */
export async function admit(stages: readonly AdmissionStage[], ctx: RequestContext): Promise<Release[]> {
  const releases: Release[] = [];
  try {
    for (const s of stages) {
      const r = await s.admit(ctx);
      if (typeof r === 'function') releases.push(r);
    }
  } catch (e) {
    for (const r of releases.reverse()) r();
    throw e;
  }
  return releases;
}
