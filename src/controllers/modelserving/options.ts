// Behaviour beyond upstream, switched on per ModelServing with annotations (so the upstream CRD schema stays
// untouched and manifests remain portable). Each is documented in docs/modelserving.md.
import { parseIntOrPercent } from './intstr.js';
import type { ModelServing } from './types.js';

export const ANN_WORKER_STARTUP = 'kthena.io/worker-startup'; // LeaderCreated (default) | LeaderReady
export const ANN_ROLE_STARTUP = 'kthena.io/role-startup'; // Parallel (default) | InOrder
export const ANN_ROLE_MAX_SKEW = 'kthena.io/role-max-skew'; // e.g. "25%": RoleRollingUpdate progress skew bound
export const ANN_RESTART_BACKOFF = 'kthena.io/restart-backoff'; // "base,max" seconds, default "10,300"; "0" = off
export const ANN_EVICTION_BUDGET = 'kthena.io/eviction-budget'; // "group:N" | "role:N" (pods), PodDisruptionBudgets
export const ANN_REVISION_HISTORY = 'kthena.io/revision-history-limit'; // default 10 old ControllerRevisions

export interface ControllerOptions {
  workerStartup: 'LeaderCreated' | 'LeaderReady';
  roleStartup: 'Parallel' | 'InOrder';
  /** fraction 0..1, undefined = unbounded */
  roleMaxSkew?: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  evictionBudget?: { scope: 'group' | 'role'; maxUnavailable: number };
  revisionHistoryLimit: number;
}

export const DEFAULT_OPTIONS: ControllerOptions = {
  workerStartup: 'LeaderCreated',
  roleStartup: 'Parallel',
  backoffBaseMs: 10_000,
  backoffMaxMs: 300_000,
  revisionHistoryLimit: 10,
};

/** Reads the annotations; a malformed value is an error the caller reports (as an event) rather than guessing. */
export function readOptions(ms: ModelServing): ControllerOptions {
  const a = ms.metadata.annotations ?? {};
  const o: ControllerOptions = { ...DEFAULT_OPTIONS };
  const ws = a[ANN_WORKER_STARTUP];
  if (ws !== undefined) {
    if (ws !== 'LeaderCreated' && ws !== 'LeaderReady')
      throw new Error(`${ANN_WORKER_STARTUP}: want LeaderCreated or LeaderReady, got ${JSON.stringify(ws)}`);
    o.workerStartup = ws;
  }
  const rs = a[ANN_ROLE_STARTUP];
  if (rs !== undefined) {
    if (rs !== 'Parallel' && rs !== 'InOrder')
      throw new Error(`${ANN_ROLE_STARTUP}: want Parallel or InOrder, got ${JSON.stringify(rs)}`);
    o.roleStartup = rs;
  }
  const skew = a[ANN_ROLE_MAX_SKEW];
  if (skew !== undefined) {
    const p = parseIntOrPercent(skew.trim());
    if (!p.percent || p.value > 100) throw new Error(`${ANN_ROLE_MAX_SKEW}: want a percentage like "25%"`);
    o.roleMaxSkew = p.value / 100;
  }
  const bo = a[ANN_RESTART_BACKOFF];
  if (bo !== undefined) {
    const parts = bo.split(',').map((s) => s.trim());
    const nums = parts.map(Number);
    if (parts.length > 2 || nums.some((n) => !Number.isFinite(n) || n < 0))
      throw new Error(`${ANN_RESTART_BACKOFF}: want "base,max" in seconds, got ${JSON.stringify(bo)}`);
    o.backoffBaseMs = nums[0] * 1000;
    o.backoffMaxMs = (nums[1] ?? Math.max(nums[0], DEFAULT_OPTIONS.backoffMaxMs / 1000)) * 1000;
  }
  const eb = a[ANN_EVICTION_BUDGET];
  if (eb !== undefined) {
    const m = /^(group|role):([0-9]+)$/.exec(eb.trim());
    if (!m) throw new Error(`${ANN_EVICTION_BUDGET}: want "group:N" or "role:N", got ${JSON.stringify(eb)}`);
    o.evictionBudget = { scope: m[1] as 'group' | 'role', maxUnavailable: Number(m[2]) };
  }
  const rh = a[ANN_REVISION_HISTORY];
  if (rh !== undefined) {
    if (!/^[0-9]+$/.test(rh.trim())) throw new Error(`${ANN_REVISION_HISTORY}: want a non-negative integer`);
    o.revisionHistoryLimit = Number(rh);
  }
  return o;
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
