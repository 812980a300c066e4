// Behaviour beyond upstream, switched on per ModelServing with `kthena.io/*` annotations (decision 0002: the
// upstream CRD schema stays untouched and manifests remain portable). One grammar, used by validation
// (`kthena validate`, the admission webhook, the local control plane) and by the ModelServing controller.
// Each option is documented in docs/modelserving.md.

export const ANN_WORKER_STARTUP = 'kthena.io/worker-startup'; // LeaderCreated (default) | LeaderReady
export const ANN_ROLE_STARTUP = 'kthena.io/role-startup'; // Parallel (default) | InOrder
export const ANN_ROLE_MAX_SKEW = 'kthena.io/role-max-skew'; // e.g. "25%": RoleRollingUpdate progress skew bound
export const ANN_RESTART_BACKOFF = 'kthena.io/restart-backoff'; // "base,max" seconds, default "10,300"; "0" = off
export const ANN_EVICTION_BUDGET = 'kthena.io/eviction-budget'; // "role:N" | "group:N" pods, as PodDisruptionBudgets
export const ANN_REVISION_HISTORY = 'kthena.io/revision-history-limit'; // default 10 old ControllerRevisions

export interface ModelServingOptions {
  workerStartup: 'LeaderCreated' | 'LeaderReady';
  roleStartup: 'Parallel' | 'InOrder';
  /** fraction 0..1, undefined = unbounded */
  roleMaxSkew?: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** at most `maxUnavailable` pods of each role (across groups) or of each ServingGroup evicted at a time */
  evictionBudget?: { scope: 'group' | 'role'; maxUnavailable: number };
  revisionHistoryLimit: number;
}

export const DEFAULT_MODELSERVING_OPTIONS: ModelServingOptions = {
  workerStartup: 'LeaderCreated',
  roleStartup: 'Parallel',
  backoffBaseMs: 10_000,
  backoffMaxMs: 300_000,
  revisionHistoryLimit: 10,
};

export interface OptionProblem {
  annotation: string;
  message: string;
}

/** Reads the annotations: the options, and one problem per malformed value (that option keeps its default). */
export function parseModelServingOptions(annotations: Record<string, string> | undefined): {
  options: ModelServingOptions;
  problems: OptionProblem[];
} {
  const a = annotations ?? {};
  const o: ModelServingOptions = { ...DEFAULT_MODELSERVING_OPTIONS };
  const problems: OptionProblem[] = [];
  const bad = (annotation: string, message: string) => problems.push({ annotation, message });
  const str = (k: string): string | undefined => (typeof a[k] === 'string' ? a[k] : undefined);

  const ws = str(ANN_WORKER_STARTUP);
  if (ws !== undefined) {
    if (ws === 'LeaderCreated' || ws === 'LeaderReady') o.workerStartup = ws;
    else bad(ANN_WORKER_STARTUP, `want LeaderCreated or LeaderReady, got ${JSON.stringify(ws)}`);
  }
  const rs = str(ANN_ROLE_STARTUP);
  if (rs !== undefined) {
    if (rs === 'Parallel' || rs === 'InOrder') o.roleStartup = rs;
    else bad(ANN_ROLE_STARTUP, `want Parallel or InOrder, got ${JSON.stringify(rs)}`);
  }
  const skew = str(ANN_ROLE_MAX_SKEW);
  if (skew !== undefined) {
    const m = /^([0-9]+)%$/.exec(skew.trim());
    if (m && Number(m[1]) <= 100) o.roleMaxSkew = Number(m[1]) / 100;
    else bad(ANN_ROLE_MAX_SKEW, `want a percentage like "25%", got ${JSON.stringify(skew)}`);
  }
  const bo = str(ANN_RESTART_BACKOFF);
  if (bo !== undefined) {
    const parts = bo.split(',').map((s) => s.trim());
    const nums = parts.map((s) => (s === '' ? Number.NaN : Number(s)));
    if (parts.length > 2 || nums.some((n) => !Number.isFinite(n) || n < 0))
      bad(ANN_RESTART_BACKOFF, `want "base,max" in seconds, got ${JSON.stringify(bo)}`);
    else {
      o.backoffBaseMs = nums[0] * 1000;
      o.backoffMaxMs = (nums[1] ?? Math.max(nums[0], DEFAULT_MODELSERVING_OPTIONS.backoffMaxMs / 1000)) * 1000;
    }
  }
  const eb = str(ANN_EVICTION_BUDGET);
  if (eb !== undefined) {
    const m = /^(group|role):([0-9]{1,9})$/.exec(eb.trim());
    if (m) o.evictionBudget = { scope: m[1] as 'group' | 'role', maxUnavailable: Number(m[2]) };
    else bad(ANN_EVICTION_BUDGET, `want "role:N" or "group:N" (N pods), got ${JSON.stringify(eb)}`);
  }
  const rh = str(ANN_REVISION_HISTORY);
  if (rh !== undefined) {
    if (/^[0-9]{1,9}$/.test(rh.trim())) o.revisionHistoryLimit = Number(rh);
    else bad(ANN_REVISION_HISTORY, `want a non-negative integer, got ${JSON.stringify(rh)}`);
  }
  return { options: o, problems };
}
