// Pod-specific server behaviour: defaulting on create (what a 1.32 apiserver plus default admission
// add), validation, the narrow set of mutable spec fields, graceful deletion and the binding subresource.

import { parseQuantity } from '../../api/index.js';
import { cause, type StatusCause } from './errors.js';
import type { StrategyContext } from './types.js';
import { deepEqual, type Obj, rfc3339 } from './util.js';

function imagePullPolicy(image: string): string {
  const last = image.split('/').pop() ?? image;
  if (last.includes('@')) return 'IfNotPresent';
  const tag = last.includes(':') ? last.split(':').pop() : undefined;
  return !tag || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

function defaultContainer(c: Obj): void {
  if (!c || typeof c !== 'object') return;
  c.terminationMessagePath ??= '/dev/termination-log';
  c.terminationMessagePolicy ??= 'File';
  if (typeof c.image === 'string') c.imagePullPolicy ??= imagePullPolicy(c.image);
  c.resources ??= {};
  // A limit without a request implies the request (core/v1 defaulting).
  const r = c.resources;
  if (r.limits && typeof r.limits === 'object') {
    r.requests ??= {};
    for (const [k, v] of Object.entries(r.limits)) if (r.requests[k] === undefined) r.requests[k] = v;
  }
  for (const p of c.ports ?? []) if (p && typeof p === 'object') p.protocol ??= 'TCP';
}

export function qosClass(spec: Obj): string {
  const containers: Obj[] = [...(spec.containers ?? []), ...(spec.initContainers ?? [])];
  let any = false;
  let guaranteed = true;
  for (const c of containers) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const k of ['cpu', 'memory']) {
      if (req[k] !== undefined || lim[k] !== undefined) any = true;
      if (lim[k] === undefined || parseQuantity(lim[k]) !== parseQuantity(req[k] ?? lim[k])) guaranteed = false;
    }
  }
  if (!any) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}

export function preparePodCreate(pod: Obj, _ctx: StrategyContext): void {
  pod.spec ??= {};
  const spec: Obj = pod.spec;
  spec.restartPolicy ??= 'Always';
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= 'ClusterFirst';
  spec.schedulerName ??= 'default-scheduler';
  spec.securityContext ??= {};
  spec.enableServiceLinks ??= true;
  spec.priority ??= 0;
  spec.preemptionPolicy ??= 'PreemptLowerPriority';
  spec.serviceAccountName ??= 'default';
  spec.serviceAccount ??= spec.serviceAccountName;
  const tolerations: Obj[] = Array.isArray(spec.tolerations) ? spec.tolerations : [];
  for (const key of ['node.kubernetes.io/not-ready', 'node.kubernetes.io/unreachable']) {
    if (!tolerations.some((t) => t && t.key === key && (t.effect === 'NoExecute' || !t.effect)))
      tolerations.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 });
  }
  spec.tolerations = tolerations;
  if (Array.isArray(spec.containers)) spec.containers.forEach(defaultContainer);
  if (Array.isArray(spec.initContainers)) spec.initContainers.forEach(defaultContainer);
  pod.status = { phase: 'Pending', qosClass: qosClass(spec) };
}

function validateContainers(list: unknown, path: string, causes: StatusCause[], names: Set<string>): void {
  if (list === undefined) return;
  if (!Array.isArray(list)) {
    causes.push(cause.typeInvalid(path, list, 'must be a list'));
    return;
  }
  list.forEach((c: Obj, i: number) => {
    const p = `${path}[${i}]`;
    if (!c || typeof c !== 'object') {
      causes.push(cause.typeInvalid(p, c, 'must be an object'));
      return;
    }
    if (!c.name) causes.push(cause.required(`${p}.name`));
    else if (names.has(c.name)) causes.push(cause.duplicate(`${p}.name`, c.name));
    else names.add(c.name);
    if (!c.image || typeof c.image !== 'string') causes.push(cause.required(`${p}.image`));
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const [kind, m] of [
      ['requests', req],
      ['limits', lim],
    ] as const) {
      for (const [k, v] of Object.entries(m as Obj)) {
        const q = parseQuantity(v);
        if (q === undefined)
          causes.push(cause.invalid(`${p}.resources.${kind}[${k}]`, v, 'quantities must match the regular expression'));
        else if (q < 0)
          causes.push(cause.invalid(`${p}.resources.${kind}[${k}]`, v, 'must be greater than or equal to 0'));
      }
    }
    for (const [k, v] of Object.entries(lim as Obj)) {
      const l = parseQuantity(v);
      const r = parseQuantity(req[k]);
      if (l === undefined || r === undefined) continue;
      const extended = k.includes('/') && !k.startsWith('kubernetes.io/') && !k.startsWith('requests.');
      if (extended) {
        if (r !== l)
          causes.push(cause.invalid(`${p}.resources.requests[${k}]`, req[k], `must be equal to ${k} limit of ${v}`));
        if (!Number.isInteger(l)) causes.push(cause.invalid(`${p}.resources.limits[${k}]`, v, 'must be an integer'));
      } else if (r > l) {
        causes.push(
          cause.invalid(`${p}.resources.requests`, req[k], `must be less than or equal to ${k} limit of ${v}`),
        );
      }
    }
  });
}

export function validatePod(pod: Obj, old: Obj | undefined): StatusCause[] {
  const causes: StatusCause[] = [];
  const spec = pod.spec;
  if (!spec || typeof spec !== 'object') return [cause.required('spec')];
  const names = new Set<string>();
  if (!Array.isArray(spec.containers) || spec.containers.length === 0) causes.push(cause.required('spec.containers'));
  validateContainers(spec.containers, 'spec.containers', causes, names);
  validateContainers(spec.initContainers, 'spec.initContainers', causes, names);
  const rp = spec.restartPolicy;
  if (rp !== undefined && !['Always', 'OnFailure', 'Never'].includes(rp))
    causes.push(cause.notSupported('spec.restartPolicy', rp, ['Always', 'OnFailure', 'Never']));
  if (old) causes.push(...validatePodUpdate(pod, old));
  return causes;
}

/** Only image, activeDeadlineSeconds, added tolerations and removed schedulingGates may change. */
function validatePodUpdate(pod: Obj, old: Obj): StatusCause[] {
  const a = structuredClone(pod.spec ?? {});
  const b = structuredClone(old.spec ?? {});
  // Neutralise the mutable fields, then the rest must be equal.
  const ca: Obj[] = a.containers ?? [];
  const cb: Obj[] = b.containers ?? [];
  ca.forEach((c, i) => {
    if (cb[i] && c) c.image = cb[i].image;
  });
  const ia: Obj[] = a.initContainers ?? [];
  const ib: Obj[] = b.initContainers ?? [];
  ia.forEach((c, i) => {
    if (ib[i] && c) c.image = ib[i].image;
  });
  a.activeDeadlineSeconds = b.activeDeadlineSeconds;
  const oldTol: Obj[] = b.tolerations ?? [];
  const newTol: Obj[] = a.tolerations ?? [];
  const keepsOld = oldTol.every((t) => newTol.some((n) => deepEqual(n, t)));
  if (keepsOld) a.tolerations = b.tolerations;
  const oldGates: Obj[] = b.schedulingGates ?? [];
  const newGates: Obj[] = a.schedulingGates ?? [];
  if (newGates.every((g) => oldGates.some((o) => deepEqual(o, g)))) a.schedulingGates = b.schedulingGates;
  // nodeName is set through the binding subresource only; a PUT carrying the same value is fine.
  if (deepEqual(a, b)) return [];
  return [
    cause.forbidden(
      'spec',
      'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
    ),
  ];
}

export function podGracePeriod(pod: Obj, requested: number | undefined): number {
  const phase = pod.status?.phase;
  if (!pod.spec?.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  let grace = requested ?? pod.spec?.terminationGracePeriodSeconds ?? 30;
  if (grace < 0) grace = 1;
  return grace;
}

/** Applies a Binding to a pod (returns the new pod) — the scheduler's `pods/binding` write. */
export function bindPod(pod: Obj, nodeName: string, nowMs: number): Obj {
  const next = structuredClone(pod);
  next.spec.nodeName = nodeName;
  next.status ??= {};
  const status: Obj = next.status;
  status.conditions ??= [];
  const conds: Obj[] = status.conditions;
  const existing = conds.find((c) => c.type === 'PodScheduled');
  if (existing) {
    if (existing.status !== 'True') existing.lastTransitionTime = rfc3339(nowMs);
    existing.status = 'True';
    delete existing.reason;
    delete existing.message;
  } else conds.push({ type: 'PodScheduled', status: 'True', lastProbeTime: null, lastTransitionTime: rfc3339(nowMs) });
  return next;
}
