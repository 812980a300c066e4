// PodDisruptionBudgets (policy/v1) and the pods/eviction subresource: what `kubectl drain` uses. An eviction
// deletes the pod only while the one PodDisruptionBudget selecting it allows a disruption, else it is refused
// with 429 TooManyRequests (the client retries), exactly as kube-apiserver answers. The budget is computed from
// the pods at the moment of the eviction (kube-controller-manager's disruption controller keeps it in
// status; here the status is written for display and never trusted), and evictions are serialised, so two
// concurrent evictions can never both spend the last allowed disruption.
import type { ApiCore } from './core.js';
import { ApiError, cause, errors, type StatusCause } from './errors.js';
import { fromLabelSelectorObject, matchLabels } from './selectors.js';
import type { StoreEvent } from './store.js';
import type { ResourceType } from './types.js';
import { isObject, type Obj, rfc3339 } from './util.js';

const PDB_RK = 'policy/poddisruptionbudgets';
const POD_RK = '/pods';

// ---- pure budget arithmetic -------------------------------------------------------------------------------

/** int-or-string: `3` or `"30%"` (percent of `total`, rounded up or down as the field wants). */
export function scaled(v: unknown, total: number, roundUp: boolean): number | undefined {
  if (typeof v === 'number' && Number.isInteger(v) && v >= 0) return v;
  if (typeof v === 'string') {
    const m = /^([0-9]+)%$/.exec(v);
    if (!m) return /^[0-9]+$/.test(v) ? Number(v) : undefined;
    const x = (Number(m[1]) * total) / 100;
    return roundUp ? Math.ceil(x) : Math.floor(x);
  }
  return undefined;
}

/** A pod counts as healthy while it is Ready and not being deleted (the disruption controller's rule). */
export function isHealthy(pod: Obj): boolean {
  if (pod.metadata?.deletionTimestamp) return false;
  return (pod.status?.conditions ?? []).some((c: Obj) => c?.type === 'Ready' && c.status === 'True');
}

const terminal = (pod: Obj) => pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/** policy/v1: a null selector selects nothing, an empty one every pod of the namespace. */
export function selects(pdb: Obj, pod: Obj): boolean {
  const sel = pdb.spec?.selector;
  if (!isObject(sel)) return false;
  try {
    return matchLabels(fromLabelSelectorObject(sel), pod.metadata?.labels);
  } catch {
    return false;
  }
}

export interface BudgetStatus {
  expectedPods: number;
  currentHealthy: number;
  desiredHealthy: number;
  disruptionsAllowed: number;
}

/** How long an evicted pod counts as expected-but-missing when nothing replaced it (upstream's DisruptedPods). */
export const DISRUPTED_POD_TIMEOUT_MS = 2 * 60_000;

/**
 * Evicted pods still remembered in `status.disruptedPods`: gone from the store, not replaced by a pod of the
 * same name created after the eviction, and evicted less than DISRUPTED_POD_TIMEOUT_MS ago.
 */
export function pendingDisruptions(pdb: Obj, pods: Obj[], nowMs: number): Record<string, string> {
  const out: Record<string, string> = {};
  const byName = new Map(pods.map((p) => [p.metadata?.name as string, p]));
  for (const [name, at] of Object.entries((pdb.status?.disruptedPods ?? {}) as Record<string, string>)) {
    const t = Date.parse(at);
    if (!Number.isFinite(t) || nowMs - t > DISRUPTED_POD_TIMEOUT_MS) continue;
    const p = byName.get(name);
    if (p && !p.metadata?.deletionTimestamp && Date.parse(p.metadata?.creationTimestamp ?? '') >= t - 1000) continue;
    out[name] = at;
  }
  return out;
}

/**
 * The budget over the pods it selects. Expected pods are the selected pods that are not finished, terminating
 * ones included, plus evicted pods not yet replaced (so a pod deleted at once by an eviction still counts as
 * missing). Deviation: kube-controller-manager takes the expected count of maxUnavailable/percent budgets
 * from the owners' scale subresource; we count pods, which is the same for one pod per replica.
 */
export function budgetStatus(pdb: Obj, pods: Obj[], nowMs = Date.now()): BudgetStatus {
  const selected = pods.filter((p) => !terminal(p) && selects(pdb, p));
  const names = new Set(selected.map((p) => p.metadata?.name));
  const missing = Object.keys(pendingDisruptions(pdb, pods, nowMs)).filter((n) => !names.has(n)).length;
  const expectedPods = selected.length + missing;
  const currentHealthy = selected.filter(isHealthy).length;
  let desiredHealthy = 0;
  const spec = pdb.spec ?? {};
  if (spec.maxUnavailable !== undefined && spec.maxUnavailable !== null) {
    const maxUnavailable = scaled(spec.maxUnavailable, expectedPods, true) ?? 0;
    desiredHealthy = Math.max(0, expectedPods - maxUnavailable);
  } else if (spec.minAvailable !== undefined && spec.minAvailable !== null) {
    desiredHealthy = scaled(spec.minAvailable, expectedPods, true) ?? 0;
  }
  return {
    expectedPods,
    currentHealthy,
    desiredHealthy,
    disruptionsAllowed: Math.max(0, currentHealthy - desiredHealthy),
  };
}

export type EvictionVerdict =
  | { allow: true }
  | { allow: false; code: 429 | 500; message: string; causes?: StatusCause[] };

/**
 * May this pod be evicted now? Pods that are finished, not yet running or already terminating may always go;
 * more than one budget is an error; an unhealthy pod may go while its budget is met (IfHealthyBudget, the
 * default) or always (AlwaysAllow); a healthy one only while a disruption is allowed.
 */
export function evictionVerdict(
  pod: Obj,
  pdbs: Obj[],
  pods: Obj[],
  nowMs = Date.now(),
): EvictionVerdict & { pdb?: Obj } {
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || pod.metadata?.deletionTimestamp)
    return { allow: true };
  const mine = pdbs.filter((b) => selects(b, pod));
  if (mine.length === 0) return { allow: true };
  if (mine.length > 1)
    return {
      allow: false,
      code: 500,
      message: 'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
    };
  const pdb = mine[0];
  const st = budgetStatus(pdb, pods, nowMs);
  const refusal: EvictionVerdict = {
    allow: false,
    code: 429,
    message: "Cannot evict pod as it would violate the pod's disruption budget.",
    causes: [
      {
        reason: 'DisruptionBudget',
        message: `The disruption budget ${pdb.metadata.name} needs ${st.desiredHealthy} healthy pods and has ${st.currentHealthy} currently`,
      },
    ],
  };
  if (!isHealthy(pod)) {
    if (pdb.spec?.unhealthyPodEvictionPolicy === 'AlwaysAllow') return { allow: true };
    return st.currentHealthy >= st.desiredHealthy ? { allow: true } : refusal;
  }
  return st.disruptionsAllowed > 0 ? { allow: true, pdb } : refusal;
}

// ---- the PodDisruptionBudget kind ------------------------------------------------------------------------

export function validatePdb(pdb: Obj): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = pdb.spec;
  if (!isObject(spec)) return out;
  const has = (v: unknown) => v !== undefined && v !== null;
  if (has(spec.minAvailable) && has(spec.maxUnavailable))
    out.push(cause.invalid('spec', spec, 'minAvailable and maxUnavailable cannot be both set'));
  for (const f of ['minAvailable', 'maxUnavailable'] as const) {
    const v = spec[f];
    if (!has(v)) continue;
    const ok =
      (typeof v === 'number' && Number.isInteger(v) && v >= 0) ||
      (typeof v === 'string' && /^[0-9]+%$/.test(v) && Number(v.slice(0, -1)) <= 100);
    if (!ok) out.push(cause.invalid(`spec.${f}`, v, 'must be a non-negative integer or a percentage from 0% to 100%'));
  }
  const p = spec.unhealthyPodEvictionPolicy;
  if (has(p) && p !== 'IfHealthyBudget' && p !== 'AlwaysAllow')
    out.push(cause.notSupported('spec.unhealthyPodEvictionPolicy', p, ['AlwaysAllow', 'IfHealthyBudget']));
  if (has(spec.selector)) {
    try {
      fromLabelSelectorObject(spec.selector);
    } catch (e) {
      out.push(cause.invalid('spec.selector', spec.selector, (e as Error).message));
    }
  }
  return out;
}

// ---- pods/eviction ---------------------------------------------------------------------------------------

export class Evictions {
  /** One eviction at a time: each decision sees the deletions of the ones before it. */
  private chain: Promise<unknown> = Promise.resolve();

  constructor(private readonly core: ApiCore) {}

  /** POST …/pods/NAME/eviction. Resolves when the pod is being deleted; throws ApiError otherwise. */
  evict(podType: ResourceType, ns: string, name: string, body: unknown): Promise<void> {
    const run = this.chain.then(() => this.evictNow(podType, ns, name, body));
    this.chain = run.catch(() => undefined);
    return run;
  }

  private async evictNow(podType: ResourceType, ns: string, name: string, body: unknown): Promise<void> {
    if (!isObject(body)) throw errors.badRequest('the request body must be an Eviction object');
    if (body.kind !== undefined && body.kind !== 'Eviction')
      throw errors.badRequest(
        `the kind in the data (${String(body.kind)}) does not match the expected kind (Eviction)`,
      );
    if (body.apiVersion !== undefined && body.apiVersion !== 'policy/v1' && body.apiVersion !== 'policy/v1beta1')
      throw errors.badRequest(`unsupported Eviction version ${JSON.stringify(body.apiVersion)}: want policy/v1`);
    if (body.metadata !== undefined && !isObject(body.metadata))
      throw errors.badRequest('Eviction metadata must be an object');
    if (body.metadata?.name !== undefined && body.metadata.name !== name)
      throw errors.badRequest('name in URL does not match name in Eviction object');
    const opts = body.deleteOptions;
    if (opts !== undefined && opts !== null && !isObject(opts))
      throw errors.badRequest('Eviction deleteOptions must be an object');
    const grace = opts?.gracePeriodSeconds;
    if (grace !== undefined && grace !== null && !(Number.isInteger(grace) && grace >= 0))
      throw errors.badRequest('deleteOptions.gracePeriodSeconds must be a non-negative integer');
    const pod = this.core.get(podType, ns, name);
    const pdbType = this.core.registry.builtin('policy', 'poddisruptionbudgets');
    const pdbs = pdbType ? this.core.list(pdbType, ns).items : [];
    const pods = this.core.list(podType, ns).items;
    const now = this.core.now();
    const verdict = evictionVerdict(pod, pdbs, pods, now);
    if (!verdict.allow)
      throw new ApiError(verdict.code, verdict.code === 429 ? 'TooManyRequests' : 'InternalError', verdict.message, {
        causes: verdict.causes ?? [{ message: verdict.message }],
      });
    const dryRun = Array.isArray(opts?.dryRun) && opts.dryRun.includes('All');
    // Spend the disruption first (as upstream does), so the pod counts as missing even once it is gone.
    if (verdict.pdb && pdbType && !dryRun) {
      const b = verdict.pdb;
      const st = budgetStatus(b, pods, now);
      const status = {
        ...(b.status ?? {}),
        ...st,
        disruptionsAllowed: st.disruptionsAllowed - 1,
        observedGeneration: b.metadata.generation ?? 1,
        disruptedPods: { ...pendingDisruptions(b, pods, now), [name]: rfc3339(now) },
      };
      await this.core.update(
        pdbType,
        'v1',
        ns,
        b.metadata.name,
        { ...b, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', status },
        { fieldManager: 'kube-apiserver' },
        'status',
      );
    }
    await this.core.delete(podType, ns, name, {
      gracePeriodSeconds: grace ?? undefined,
      preconditions: opts?.preconditions ?? undefined,
      dryRun,
    });
  }
}

// ---- status writer ---------------------------------------------------------------------------------------

/**
 * Keeps PodDisruptionBudget status current (what `kubectl get pdb` shows as ALLOWED DISRUPTIONS): recomputed
 * for a namespace whenever one of its pods or budgets changes, batched per tick.
 */
export class DisruptionStatusWriter {
  private unsubscribe: (() => void) | undefined;
  private readonly dirty = new Set<string>();
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(private readonly core: ApiCore) {}

  start(): void {
    this.unsubscribe = this.core.store.subscribe((ev: StoreEvent) => {
      if (ev.rk !== POD_RK && ev.rk !== PDB_RK) return;
      // our own status writes would loop: a PDB status-only change needs nothing
      if (ev.rk === PDB_RK && ev.type === 'MODIFIED' && ev.old && sameSpec(ev.old, ev.obj)) return;
      this.dirty.add(ev.obj.metadata?.namespace ?? '');
      this.timer ??= setTimeout(() => void this.flush(), 20);
    });
    for (const pdb of this.core.store.list(PDB_RK)) this.dirty.add(pdb.metadata?.namespace ?? '');
    if (this.dirty.size > 0) this.timer = setTimeout(() => void this.flush(), 0);
  }

  stop(): void {
    this.stopped = true;
    this.unsubscribe?.();
    if (this.timer) clearTimeout(this.timer);
  }

  private async flush(): Promise<void> {
    this.timer = undefined;
    const namespaces = [...this.dirty];
    this.dirty.clear();
    const pdbType = this.core.registry.builtin('policy', 'poddisruptionbudgets');
    const podType = this.core.registry.builtin('', 'pods');
    if (!pdbType || !podType) return;
    for (const ns of namespaces) {
      const pdbs = this.core.list(pdbType, ns).items;
      if (pdbs.length === 0) continue;
      const pods = this.core.list(podType, ns).items;
      for (const pdb of pdbs) {
        if (this.stopped) return;
        const now = this.core.now();
        const st = budgetStatus(pdb, pods, now);
        const status = {
          ...(pdb.status ?? {}),
          ...st,
          observedGeneration: pdb.metadata.generation ?? 1,
          disruptedPods: pendingDisruptions(pdb, pods, now),
        };
        if (JSON.stringify(status) === JSON.stringify(pdb.status)) continue;
        try {
          await this.core.update(
            pdbType,
            'v1',
            ns,
            pdb.metadata.name,
            { ...pdb, apiVersion: 'policy/v1', kind: 'PodDisruptionBudget', status },
            { fieldManager: 'kube-controller-manager' },
            'status',
          );
        } catch (e) {
          // Deleted or changed meanwhile: the event that did it marks the namespace dirty again.
          if (!(e instanceof ApiError)) throw e;
        }
      }
    }
  }
}

function sameSpec(a: Obj, b: Obj): boolean {
  return JSON.stringify(a.spec) === JSON.stringify(b.spec) && a.metadata?.generation === b.metadata?.generation;
}
