// Semantic rules of ModelServing: upstream's CEL rules (unique role names) and its validating webhook.
import { parseModelServingOptions } from '../modelserving-options.js';
import type { PathSeg, ProblemSink } from '../problems.js';
import { resolveIntOrPercent } from '../values.js';
import { isDns1035Label } from './metadata.js';
import { int, list, obj, str } from './util.js';

/** Image references: if set, not blank and without whitespace (upstream issue #1509). */
export function imageProblem(image: unknown): string | undefined {
  if (typeof image !== 'string' || image === '') return undefined;
  if (image.trim() === '') return 'must not be blank';
  if (/\s/.test(image)) return `${JSON.stringify(image)} must not contain whitespace`;
  return undefined;
}

function checkTemplateImages(tpl: unknown, path: PathSeg[], sink: ProblemSink): void {
  const spec = obj(obj(tpl)?.spec);
  if (!spec) return;
  for (const field of ['initContainers', 'containers'] as const) {
    list(spec[field]).forEach((c, j) => {
      const p = imageProblem(obj(c)?.image);
      if (p) sink.error([...path, 'spec', field, j, 'image'], p);
    });
  }
}

export function modelServingRules(ms: Record<string, any>, sink: ProblemSink): void {
  // Our kthena.io/* options (beyond upstream): a malformed value is refused rather than silently ignored.
  const annotations = obj(obj(ms.metadata)?.annotations) as Record<string, string> | undefined;
  for (const p of parseModelServingOptions(annotations).problems)
    sink.error(['metadata', 'annotations', p.annotation], p.message);
  const spec = obj(ms.spec);
  if (!spec) return;
  const replicas = int(spec.replicas) ?? 1;
  const template = obj(spec.template);
  const roles = list(template?.roles);
  const name = str(obj(ms.metadata)?.name);
  const rollout = obj(spec.rolloutStrategy);
  const rolloutType = str(rollout?.type) ?? 'ServingGroupRollingUpdate';
  const roleRolling = rolloutType === 'RoleRollingUpdate';

  const seen = new Map<string, number>();
  const roleReplicas = new Map<string, number>();
  roles.forEach((role, i) => {
    const r = obj(role);
    if (!r) return;
    const rp: PathSeg[] = ['spec', 'template', 'roles', i];
    const rname = str(r.name);
    const rrep = int(r.replicas) ?? 1;
    const workers = int(r.workerReplicas);
    if (rname !== undefined && rname !== '') {
      const first = seen.get(rname);
      if (first !== undefined)
        sink.error([...rp, 'name'], `roles name must be unique: "${rname}" is already used by roles[${first}]`);
      else seen.set(rname, i);
      roleReplicas.set(rname, rrep);
      if (!isDns1035Label(rname)) {
        sink.error(
          [...rp, 'name'],
          `${JSON.stringify(rname)} must be a DNS-1035 label: lowercase letters, digits and '-', starting with a letter`,
        );
      } else if (name && workers !== undefined) {
        // Pod names are <ms>-<group>-<role>-<replica>-<worker>; upstream checks the widest such name.
        const longest = `${name}-${replicas}-${rname}-${rrep}-${workers}`;
        if (!isDns1035Label(longest)) {
          sink.error(
            [...rp, 'name'],
            `pod names such as "${longest}" would not be valid DNS-1035 labels (at most 63 characters, starting with a letter): shorten metadata.name or the role name`,
          );
        }
      }
    }
    if (workers !== undefined && workers > 0 && r.workerTemplate === undefined) {
      sink.error([...rp, 'workerTemplate'], `is required when workerReplicas is ${workers}`);
    }
    checkTemplateImages(r.entryTemplate, [...rp, 'entryTemplate'], sink);
    checkTemplateImages(r.workerTemplate, [...rp, 'workerTemplate'], sink);
    if (r.partition !== undefined && !roleRolling) {
      sink.error([...rp, 'partition'], 'is only allowed with rolloutStrategy.type RoleRollingUpdate');
    }
    if (roleRolling) {
      const mu = r.maxUnavailable ?? 1;
      if (typeof mu === 'number' || typeof mu === 'string') {
        const res = resolveIntOrPercent(mu, rrep, false);
        if ('error' in res) sink.error([...rp, 'maxUnavailable'], res.error);
        else if (res.value < 1)
          sink.error(
            [...rp, 'maxUnavailable'],
            `resolves to 0 of ${rrep} role replicas, so the update could never progress`,
          );
        else if (res.value > rrep)
          sink.error([...rp, 'maxUnavailable'], `must not exceed the role's replicas (${rrep}), got ${res.value}`);
      }
      if (typeof r.partition === 'number' || typeof r.partition === 'string') {
        const res = resolveIntOrPercent(r.partition, rrep, true);
        if ('error' in res) sink.error([...rp, 'partition'], res.error);
      }
    }
  });

  const minRole = obj(obj(template?.gangPolicy)?.minRoleReplicas);
  if (minRole) {
    for (const [role, v] of Object.entries(minRole)) {
      const p: PathSeg[] = ['spec', 'template', 'gangPolicy', 'minRoleReplicas', { key: role }];
      const max = roleReplicas.get(role);
      if (max === undefined) {
        sink.error(
          p,
          `"${role}" is not a role of this ModelServing (roles: ${[...roleReplicas.keys()].join(', ') || 'none'})`,
        );
      } else if (typeof v === 'number' && (v < 0 || v > max)) {
        sink.error(p, `must be between 0 and the role's replicas (${max}), got ${v}`);
      }
    }
  }

  const nt = obj(template?.networkTopology);
  for (const which of ['groupPolicy', 'rolePolicy'] as const) {
    const pol = obj(nt?.[which]);
    if (pol && pol.highestTierAllowed !== undefined && pol.highestTierName !== undefined) {
      sink.error(['spec', 'template', 'networkTopology', which], 'set highestTierAllowed or highestTierName, not both');
    }
  }

  const ru = obj(rollout?.rollingUpdateConfiguration);
  if (ru) {
    const rp: PathSeg[] = ['spec', 'rolloutStrategy', 'rollingUpdateConfiguration'];
    if (roleRolling) {
      sink.error(
        rp,
        'is not allowed with type RoleRollingUpdate: set maxUnavailable and partition on each role instead',
      );
    } else {
      const mu = ru.maxUnavailable ?? 1;
      if (typeof mu === 'number' || typeof mu === 'string') {
        const res = resolveIntOrPercent(mu, replicas, false);
        if ('error' in res) sink.error([...rp, 'maxUnavailable'], res.error);
        else if (res.value === 0)
          sink.error(
            [...rp, 'maxUnavailable'],
            `resolves to 0 of ${replicas} replicas, so the update could never progress`,
          );
      }
      if (typeof ru.partition === 'number' || typeof ru.partition === 'string') {
        const res = resolveIntOrPercent(ru.partition, replicas, true);
        if ('error' in res) sink.error([...rp, 'partition'], res.error);
      }
    }
  }

  if (spec.recoveryPolicy === 'ServingGroupRecreate' && roleRolling) {
    sink.error(
      'spec.recoveryPolicy',
      'ServingGroupRecreate cannot be combined with rolloutStrategy.type RoleRollingUpdate',
    );
  }

  list(spec.plugins).forEach((pl, i) => {
    for (const [j, role] of list(obj(obj(pl)?.scope)?.roles).entries()) {
      if (typeof role === 'string' && roleReplicas.size > 0 && !roleReplicas.has(role)) {
        sink.warn(['spec', 'plugins', i, 'scope', 'roles', j], `"${role}" is not a role of this ModelServing`);
      }
    }
  });
}
