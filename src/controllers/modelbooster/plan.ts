// The pure half of a reconcile: what to write for one booster, given what should exist (children.ts) and what does
// (the informers' view), and the status that follows. No I/O here; controller.ts applies the plan.
import type { BoosterChildren } from './children.js';
import { LABEL_REVISION } from './naming.js';
import type { Child, Condition, ModelBooster } from './types.js';

export type ChildKind = keyof BoosterChildren;
export const CHILD_KINDS: readonly ChildKind[] = ['modelServing', 'modelServer', 'modelRoute', 'autoscalingPolicy'];

export type ChildAction =
  | { type: 'create'; kind: ChildKind; object: Child }
  | { type: 'replace'; kind: ChildKind; object: Child }
  | { type: 'delete'; kind: ChildKind; name: string; uid: string };

/** The children of one kind that exist: those labelled with the booster's uid, plus the one with the wanted name. */
export interface ObservedKind {
  /** objects labelled `model-uid=<booster uid>` */
  labelled: Child[];
  /** the object with the wanted name, whoever owns it (undefined = absent) */
  named?: Child;
}

export type Observed = Record<ChildKind, ObservedKind>;

export interface ChildPlan {
  actions: ChildAction[];
  /** children we may not touch: someone else owns the wanted name */
  conflicts: string[];
}

const KIND_NAMES: Record<ChildKind, string> = {
  modelServing: 'ModelServing',
  modelServer: 'ModelServer',
  modelRoute: 'ModelRoute',
  autoscalingPolicy: 'AutoscalingPolicy',
};

export function ownedBy(o: Child, uid: string | undefined): boolean {
  return (o.metadata.ownerReferences ?? []).some((r) => r.controller && r.kind === 'ModelBooster' && r.uid === uid);
}

/**
 * Is every field we set present, with our value, in the live object? Fields the API server or other controllers
 * add (defaults, status) are allowed; a hand edit of a field we own is not. Arrays must match element by element.
 */
export function covers(actual: unknown, wanted: unknown): boolean {
  if (wanted === undefined) return true;
  if (wanted === null || typeof wanted !== 'object') return actual === wanted;
  if (Array.isArray(wanted)) {
    return Array.isArray(actual) && actual.length === wanted.length && wanted.every((w, i) => covers(actual[i], w));
  }
  if (actual === null || typeof actual !== 'object' || Array.isArray(actual)) return false;
  const a = actual as Record<string, unknown>;
  return Object.entries(wanted as Record<string, unknown>).every(([k, v]) => covers(a[k], v));
}

function upToDate(live: Child, wanted: Child, ourWrite: boolean): boolean {
  if (live.metadata.labels?.[LABEL_REVISION] !== wanted.metadata.labels?.[LABEL_REVISION]) return false;
  // Our own last write, as the server stored it: whatever it defaulted or pruned is not a drift to fight over.
  if (ourWrite) return true;
  return covers(live.metadata.labels ?? {}, wanted.metadata.labels) && covers(live.spec, wanted.spec);
}

function describeOwner(o: Child): string {
  const owner = (o.metadata.ownerReferences ?? []).find((r) => r.controller);
  return owner ? `${owner.kind} ${owner.name}` : 'no controller';
}

/** Create what is missing, put back what drifted, delete what a rename left behind; never touch foreign objects. */
export function planChildren(
  mb: ModelBooster,
  wanted: BoosterChildren,
  observed: Observed,
  isOurLastWrite: (o: Child) => boolean = () => false,
): ChildPlan {
  const uid = mb.metadata.uid;
  const actions: ChildAction[] = [];
  const conflicts: string[] = [];
  for (const kind of CHILD_KINDS) {
    const want = wanted[kind];
    const seen = observed[kind];
    const live = seen.named;
    if (want && live && !ownedBy(live, uid)) {
      conflicts.push(
        `${KIND_NAMES[kind]} ${live.metadata.namespace ?? ''}/${live.metadata.name} already exists and is owned by ` +
          `${describeOwner(live)}, not by this ModelBooster: delete or rename it, or rename the booster's backend`,
      );
    } else if (want && !live) actions.push({ type: 'create', kind, object: want });
    else if (want && live && !upToDate(live, want, isOurLastWrite(live))) {
      const object = structuredClone(want);
      object.metadata = { ...object.metadata, resourceVersion: live.metadata.resourceVersion };
      actions.push({ type: 'replace', kind, object });
    }
    for (const o of seen.labelled) {
      if (o.metadata.name === want?.metadata.name || !ownedBy(o, uid)) continue;
      actions.push({ type: 'delete', kind, name: o.metadata.name, uid: o.metadata.uid ?? '' });
    }
  }
  return { actions, conflicts };
}

// ---- status --------------------------------------------------------------------------------------------------

export const CONDITION_INITIALIZED = 'Initialized';
export const CONDITION_ACTIVE = 'Active';
export const CONDITION_FAILED = 'Failed';

export interface StatusInputs {
  /** the owned ModelServing reports Available=True */
  servingAvailable: boolean;
  /** why the last reconcile could not converge (a conflict or an API error), if it could not */
  failure?: string;
  now: string;
}

function setCondition(list: Condition[], c: Omit<Condition, 'lastTransitionTime'>, now: string): Condition[] {
  const old = list.find((x) => x.type === c.type);
  const keep = old && old.status === c.status;
  const next: Condition = { ...c, lastTransitionTime: keep ? (old.lastTransitionTime ?? now) : now };
  return old ? list.map((x) => (x.type === c.type ? next : x)) : [...list, next];
}

/** The booster's next status (upstream's three conditions; Failed also goes back to False when its cause is gone). */
export function nextStatus(mb: ModelBooster, s: StatusInputs): NonNullable<ModelBooster['status']> {
  const generation = mb.metadata.generation;
  let conditions = [...(mb.status?.conditions ?? [])];
  if (!conditions.some((c) => c.type === CONDITION_INITIALIZED))
    conditions = setCondition(
      conditions,
      { type: CONDITION_INITIALIZED, status: 'True', reason: 'ModelCreating', message: 'ModelBooster initialized' },
      s.now,
    );
  conditions = setCondition(
    conditions,
    s.servingAvailable && !s.failure
      ? { type: CONDITION_ACTIVE, status: 'True', reason: 'ModelAvailable', message: 'ModelBooster is ready' }
      : { type: CONDITION_ACTIVE, status: 'False', reason: 'ModelProcessing', message: 'ModelBooster not ready yet' },
    s.now,
  );
  const failed = conditions.find((c) => c.type === CONDITION_FAILED);
  if (s.failure)
    conditions = setCondition(
      conditions,
      { type: CONDITION_FAILED, status: 'True', reason: 'ModelAbnormal', message: s.failure },
      s.now,
    );
  else if (failed?.status === 'True')
    conditions = setCondition(
      conditions,
      {
        type: CONDITION_FAILED,
        status: 'False',
        reason: 'ModelRecovered',
        message: 'the cause of the failure is gone',
      },
      s.now,
    );
  conditions = conditions.map((c) => ({ ...c, observedGeneration: generation }));
  return { conditions, observedGeneration: generation };
}

/** Equal apart from transition times that did not move (no write needed). */
export function sameStatus(a: ModelBooster['status'], b: ModelBooster['status']): boolean {
  return JSON.stringify(a ?? {}) === JSON.stringify(b ?? {});
}
