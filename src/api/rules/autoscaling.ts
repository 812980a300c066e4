// Semantic rules of AutoscalingPolicy (upstream's CEL rules and validating webhook): exactly one target,
// metric targets, per-role bounds and the prefill/decode ratio constraint, behaviour windows.
import type { PathSeg, ProblemSink } from '../problems.js';
import { parseDurationMs, parseQuantity } from '../values.js';
import { entries, int, list, obj, str } from './util.js';

const TARGETS = ['homogeneousTarget', 'heterogeneousTarget', 'disaggregatedTarget'] as const;
const MAX_WINDOW_MS = 30 * 60 * 1000;

/** Checks a metrics list (targetValue > 0 and finite, names unique); returns the names. */
function checkMetrics(metrics: unknown, path: PathSeg[], sink: ProblemSink): string[] {
  const names: string[] = [];
  list(metrics).forEach((m, i) => {
    const mo = obj(m);
    if (!mo) return;
    const name = str(mo.name);
    if (name !== undefined && name !== '') {
      if (names.includes(name)) sink.error([...path, i, 'name'], `metric "${name}" is listed twice`);
      names.push(name);
    }
    if (mo.targetValue !== undefined) {
      const v = parseQuantity(mo.targetValue);
      if (v !== undefined && (!(v > 0) || !Number.isFinite(v))) {
        sink.error([...path, i, 'targetValue'], `must be greater than 0, got ${JSON.stringify(mo.targetValue)}`);
      }
    }
  });
  return names;
}

function checkTargetRef(ref: unknown, path: PathSeg[], sink: ProblemSink): void {
  const r = obj(ref);
  if (!r) return;
  const kind = str(r.kind) ?? '';
  if (kind !== '' && kind !== 'ModelServing')
    sink.error([...path, 'kind'], `must be ModelServing (or left empty), got ${JSON.stringify(kind)}`);
  if ((str(r.name) ?? '') === '') sink.error([...path, 'name'], 'is required: the name of the ModelServing to scale');
  const av = str(r.apiVersion);
  if (av !== undefined && av !== '') {
    const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
    if (group !== 'workload.serving.volcano.sh') {
      sink.error([...path, 'apiVersion'], `must be in group workload.serving.volcano.sh, got ${JSON.stringify(av)}`);
    }
  }
}

function checkSourceKeys(
  sources: unknown,
  metricNames: string[],
  path: PathSeg[],
  sink: ProblemSink,
  asError: boolean,
): void {
  for (const [key, source] of entries(sources)) {
    // CEL on MetricSource: exactly one of pod / prometheus.
    const so = obj(source);
    if (so) {
      const hasPod = so.pod !== undefined && so.pod !== null;
      const hasProm = so.prometheus !== undefined && so.prometheus !== null;
      if (!hasPod && !hasProm) sink.error([...path, { key }], 'one of pod or prometheus must be set');
      if (hasPod && hasProm)
        sink.error([...path, { key }], 'pod and prometheus are mutually exclusive: choose one source');
      const url = str(obj(so.prometheus)?.serverURL);
      if (url && URL.canParse(url) && !/^https?:$/.test(new URL(url).protocol)) {
        sink.error([...path, { key }, 'prometheus', 'serverURL'], 'must be an http:// or https:// URL');
      }
    }
    if (!metricNames.includes(key)) {
      const msg = `"${key}" is not one of the metrics (${metricNames.join(', ') || 'none'}); its source is never read`;
      if (asError) sink.error([...path, { key }], msg);
      else sink.warn([...path, { key }], msg);
    }
  }
}

function checkMinMax(t: Record<string, any>, path: PathSeg[], sink: ProblemSink): void {
  const min = int(t.minReplicas);
  const max = int(t.maxReplicas);
  if (min !== undefined && max !== undefined && min > max) {
    sink.error([...path, 'minReplicas'], `must not exceed maxReplicas (${max}), got ${min}`);
  }
}

export function autoscalingPolicyRules(policy: Record<string, any>, sink: ProblemSink): void {
  const spec = obj(policy.spec);
  if (!spec) return;
  const specMetrics = checkMetrics(spec.metrics, ['spec', 'metrics'], sink);
  const set = TARGETS.filter((t) => spec[t] !== undefined && spec[t] !== null);
  if (set.length === 0) {
    sink.error('spec', 'set exactly one of homogeneousTarget, heterogeneousTarget or disaggregatedTarget');
  } else if (set.length > 1) {
    sink.error('spec', `set exactly one target, not ${set.join(' and ')}`);
  }

  const homo = obj(spec.homogeneousTarget);
  if (homo) {
    const p: PathSeg[] = ['spec', 'homogeneousTarget'];
    if (specMetrics.length === 0)
      sink.error('spec.metrics', 'a homogeneousTarget needs at least one metric to scale on');
    checkTargetRef(obj(homo.target)?.targetRef, [...p, 'target', 'targetRef'], sink);
    checkSourceKeys(obj(homo.target)?.metricSources, specMetrics, [...p, 'target', 'metricSources'], sink, false);
    checkMinMax(homo, p, sink);
  }

  const hetero = obj(spec.heterogeneousTarget);
  if (hetero) {
    if (specMetrics.length === 0)
      sink.error('spec.metrics', 'a heterogeneousTarget needs at least one metric to scale on');
    const names = new Map<string, number>();
    list(hetero.params).forEach((param, i) => {
      const po = obj(param);
      if (!po) return;
      const p: PathSeg[] = ['spec', 'heterogeneousTarget', 'params', i];
      const ref = obj(obj(po.target)?.targetRef);
      checkTargetRef(ref, [...p, 'target', 'targetRef'], sink);
      const n = str(ref?.name);
      if (n) {
        const first = names.get(n);
        if (first !== undefined)
          sink.error(
            [...p, 'target', 'targetRef', 'name'],
            `ModelServing "${n}" is already targeted by params[${first}]`,
          );
        else names.set(n, i);
      }
      checkSourceKeys(obj(po.target)?.metricSources, specMetrics, [...p, 'target', 'metricSources'], sink, false);
      checkMinMax(po, p, sink);
    });
  }

  const dis = obj(spec.disaggregatedTarget);
  if (dis) checkDisaggregated(dis, specMetrics, sink);

  checkBehavior(obj(spec.behavior), sink);
}

function checkDisaggregated(dis: Record<string, any>, specMetrics: string[], sink: ProblemSink): void {
  const base: PathSeg[] = ['spec', 'disaggregatedTarget'];
  checkTargetRef(dis.targetRef, [...base, 'targetRef'], sink);
  const roles = obj(dis.roles) ?? {};
  for (const [role, param] of Object.entries(roles)) {
    const rp: PathSeg[] = [...base, 'roles', { key: role }];
    const po = obj(param);
    if (!po) continue;
    if (role.trim() === '') sink.error(rp, 'role names must not be empty');
    checkMinMax(po, rp, sink);
    const min = int(po.minReplicas);
    const max = int(po.maxReplicas);
    const fixed = max !== undefined && max > 0 && min === max;
    const roleMetrics = po.metrics !== undefined ? checkMetrics(po.metrics, [...rp, 'metrics'], sink) : undefined;
    const effective = roleMetrics ?? specMetrics;
    if (fixed) continue;
    if (effective.length === 0) {
      sink.error(
        rp,
        "a role that can scale needs metrics: set spec.metrics or this role's metrics (or make it fixed with minReplicas == maxReplicas)",
      );
      continue;
    }
    if (entries(po.metricSources).length === 0) {
      sink.error([...rp, 'metricSources'], `is required: say where to read ${effective.join(', ')} for this role`);
    } else {
      checkSourceKeys(po.metricSources, effective, [...rp, 'metricSources'], sink, true);
    }
  }
  const rc = obj(dis.ratioConstraint);
  if (!rc) return;
  const rcp: PathSeg[] = [...base, 'ratioConstraint'];
  const num = str(rc.numeratorRole);
  const den = str(rc.denominatorRole);
  if (num !== undefined && num === den) sink.error(rcp, 'numeratorRole and denominatorRole must differ');
  if (Object.keys(roles).length < 2) sink.error(rcp, 'a ratio constraint needs two roles in disaggregatedTarget.roles');
  const numP = num !== undefined ? obj(roles[num]) : undefined;
  const denP = den !== undefined ? obj(roles[den]) : undefined;
  if (num !== undefined && !numP) sink.error([...rcp, 'numeratorRole'], `"${num}" is not one of the roles`);
  if (den !== undefined && !denP) sink.error([...rcp, 'denominatorRole'], `"${den}" is not one of the roles`);
  const minR = parseQuantity(rc.minRatio);
  const maxR = parseQuantity(rc.maxRatio);
  if (minR !== undefined && (!Number.isFinite(minR) || minR < 0))
    sink.error([...rcp, 'minRatio'], 'must be a finite number ≥ 0');
  if (maxR !== undefined && (!Number.isFinite(maxR) || maxR <= 0))
    sink.error([...rcp, 'maxRatio'], 'must be a finite number > 0');
  if (minR !== undefined && maxR !== undefined && minR > maxR) {
    sink.error([...rcp, 'minRatio'], `must not exceed maxRatio (${rc.maxRatio}), got ${rc.minRatio}`);
  }
  if (numP && denP) {
    const nMin = int(numP.minReplicas) ?? 0;
    const nMax = int(numP.maxReplicas) ?? 0;
    const dMin = int(denP.minReplicas) ?? 0;
    const dMax = int(denP.maxReplicas) ?? 0;
    if ((nMin === 0) !== (dMin === 0)) {
      sink.error(
        rcp,
        `roles "${num}" and "${den}" must scale to zero together: set minReplicas 0 on both or on neither`,
      );
    }
    if (maxR !== undefined && dMax > 0 && nMin / dMax > maxR) {
      sink.error(
        rcp,
        `cannot be met: even at ${num}.minReplicas=${nMin} and ${den}.maxReplicas=${dMax} the ratio ${fmt(nMin / dMax)} exceeds maxRatio ${rc.maxRatio}`,
      );
    }
    if (minR !== undefined && dMin > 0 && nMax / dMin < minR) {
      sink.error(
        rcp,
        `cannot be met: even at ${num}.maxReplicas=${nMax} and ${den}.minReplicas=${dMin} the ratio ${fmt(nMax / dMin)} stays below minRatio ${rc.minRatio}`,
      );
    }
  }
}

function fmt(n: number): string {
  return Number.isInteger(n) ? String(n) : n.toFixed(3);
}

function checkBehavior(behavior: Record<string, any> | undefined, sink: ProblemSink): void {
  if (!behavior) return;
  const fields: Array<[PathSeg[], unknown]> = [];
  const down = obj(behavior.scaleDown);
  const up = obj(behavior.scaleUp);
  const stable = obj(up?.stablePolicy);
  const panic = obj(up?.panicPolicy);
  const b: PathSeg[] = ['spec', 'behavior'];
  if (down) {
    fields.push([[...b, 'scaleDown', 'period'], down.period]);
    fields.push([[...b, 'scaleDown', 'stabilizationWindow'], down.stabilizationWindow]);
  }
  if (stable) {
    fields.push([[...b, 'scaleUp', 'stablePolicy', 'period'], stable.period]);
    fields.push([[...b, 'scaleUp', 'stablePolicy', 'stabilizationWindow'], stable.stabilizationWindow]);
  }
  if (panic) {
    fields.push([[...b, 'scaleUp', 'panicPolicy', 'period'], panic.period]);
    fields.push([[...b, 'scaleUp', 'panicPolicy', 'panicModeHold'], panic.panicModeHold]);
  }
  for (const [p, v] of fields) {
    if (typeof v !== 'string') continue;
    const ms = parseDurationMs(v);
    if (ms === undefined) continue; // the schema reported it
    if (ms < 0 || ms > MAX_WINDOW_MS) sink.error(p, `must be between 0s and 30m, got ${v}`);
  }
}
