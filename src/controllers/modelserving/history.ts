// Revision history and rollback of a ModelServing (`kthena rollout history|undo`), as pure functions over
// the ModelServing and its ControllerRevisions. The controller records one ControllerRevision per template
// (revision.ts, plan.ts); these functions read that record and say what going back means.
import { stringify } from 'yaml';
import { withDefaults } from './api-compat.js';
import { ANNOTATION_CHANGE_CAUSE, LABEL_NAME, LABEL_REVISION } from './naming.js';
import { modelServingRevision, rolesFromControllerRevision } from './revision.js';
import type { ControllerRevision, ModelServing, Role } from './types.js';

export const RESOURCE_NAMES = ['modelserving', 'modelservings', 'modelserving.workload.serving.volcano.sh'];
export const QUALIFIED = 'modelserving.workload.serving.volcano.sh';

export class RolloutError extends Error {}

/** `modelserving/NAME` or `modelserving NAME` → NAME; anything else is a clear error. */
export function parseTarget(args: string[]): string {
  const [first, second, ...rest] = args;
  if (!first) throw new RolloutError('a resource is required: modelserving/NAME');
  let type: string;
  let name: string | undefined;
  if (first.includes('/')) {
    if (second !== undefined) throw new RolloutError(`unexpected argument "${second}" after ${first}`);
    [type, name] = [first.slice(0, first.indexOf('/')), first.slice(first.indexOf('/') + 1)];
  } else {
    if (rest.length > 0) throw new RolloutError(`unexpected argument "${rest[0]}"`);
    [type, name] = [first, second];
  }
  if (!RESOURCE_NAMES.includes(type.toLowerCase()))
    throw new RolloutError(
      `the server doesn't have a resource type "${type}" for rollout: only modelserving/NAME is supported`,
    );
  if (!name) throw new RolloutError(`a name is required: ${type}/NAME`);
  if (!/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253)
    throw new RolloutError(`invalid resource name "${name}": must be a lowercase RFC 1123 subdomain`);
  return name;
}

export interface HistoryEntry {
  number: number;
  revision: string;
  changeCause?: string;
  roles?: Role[];
  object: ControllerRevision;
}

/** The ControllerRevisions of this ModelServing (same name label and owner uid), oldest first. */
export function history(ms: ModelServing, revisions: ControllerRevision[]): HistoryEntry[] {
  const uid = ms.metadata.uid;
  return revisions
    .filter((cr) => cr.metadata?.labels?.[LABEL_NAME] === ms.metadata.name)
    .filter((cr) => !uid || (cr.metadata?.ownerReferences ?? []).some((o) => o.uid === uid))
    .map((cr) => ({
      number: cr.revision ?? 0,
      revision: cr.metadata?.labels?.[LABEL_REVISION] ?? '',
      changeCause: cr.metadata?.annotations?.[ANNOTATION_CHANGE_CAUSE],
      roles: rolesFromControllerRevision(cr),
      object: cr,
    }))
    .sort((a, b) => a.number - b.number);
}

/** The revision hash of the ModelServing's template as it stands (with the CRD defaults, as the controller sees it). */
export function currentRevision(ms: ModelServing): string {
  return modelServingRevision(withDefaults(ms).spec.template.roles);
}

/** `kubectl rollout history` layout. */
export function formatHistory(ms: ModelServing, entries: HistoryEntry[]): string {
  const lines = [`${QUALIFIED}/${ms.metadata.name}`];
  const rows = [['REVISION', 'CHANGE-CAUSE'], ...entries.map((e) => [String(e.number), e.changeCause ?? '<none>'])];
  const w = Math.max(...rows.map((r) => r[0].length)) + 2;
  for (const [a, b] of rows) lines.push(`${a.padEnd(w)}${b}`);
  return `${lines.join('\n')}\n`;
}

/** `--revision N`: that revision's roles as YAML. */
export function formatRevision(ms: ModelServing, entries: HistoryEntry[], n: number): string {
  const e = entries.find((x) => x.number === n);
  if (!e) throw new RolloutError(`unable to find the specified revision ${n} in the history of ${ms.metadata.name}`);
  if (!e.roles) throw new RolloutError(`revision ${n} does not hold a ModelServing template`);
  const head = [
    `${QUALIFIED}/${ms.metadata.name} with revision #${n}`,
    `Revision hash: ${e.revision}`,
    `Change cause:  ${e.changeCause ?? '<none>'}`,
    'Roles:',
  ];
  const body = stringify(e.roles)
    .trimEnd()
    .split('\n')
    .map((l) => `  ${l}`);
  return `${[...head, ...body].join('\n')}\n`;
}

export type UndoDecision =
  | { kind: 'skip'; number: number; message: string }
  | { kind: 'rollback'; number: number; roles: Role[] };

/**
 * What `undo` does: `--to-revision N` (0 = the previous one, i.e. the newest recorded revision that is not the
 * current template). The recorded roles bring back the pod-shaping fields; counts (`replicas`,
 * `maxUnavailable`, `partition`) stay as they are now, since they are not part of a revision (as a
 * Deployment's rollback restores its pod template, not its replica count).
 */
export function planUndo(ms: ModelServing, entries: HistoryEntry[], toRevision = 0): UndoDecision {
  if (entries.length === 0) throw new RolloutError(`no rollout history found for ${QUALIFIED}/${ms.metadata.name}`);
  const current = currentRevision(ms);
  let target: HistoryEntry | undefined;
  if (toRevision === 0) {
    target = [...entries].reverse().find((e) => e.revision !== current);
    if (!target)
      throw new RolloutError(`no revision to roll back to for ${QUALIFIED}/${ms.metadata.name}: it has one revision`);
  } else {
    target = entries.find((e) => e.number === toRevision);
    if (!target)
      throw new RolloutError(
        `unable to find the specified revision ${toRevision} in the history of ${ms.metadata.name}`,
      );
  }
  if (target.revision === current)
    return {
      kind: 'skip',
      number: target.number,
      message: `skipped rollback (current template already matches revision ${target.number})`,
    };
  if (!target.roles) throw new RolloutError(`revision ${target.number} does not hold a ModelServing template`);
  const now = new Map(ms.spec.template.roles.map((r) => [r.name, r]));
  const roles = target.roles.map((recorded) => {
    const out: Role = structuredClone(recorded);
    const cur = now.get(recorded.name);
    if (cur) {
      for (const k of ['replicas', 'maxUnavailable', 'partition'] as const) {
        if (cur[k] === undefined) delete out[k];
        else (out as unknown as Record<string, unknown>)[k] = cur[k];
      }
    }
    return out;
  });
  return { kind: 'rollback', number: target.number, roles };
}
