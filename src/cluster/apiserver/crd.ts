// CustomResourceDefinitions: validation and server-written status of the CRD object itself, and
// the ResourceType a registered (Established) CRD serves.
import { cause, type StatusCause } from './errors.js';
import { META_GETTERS, pathGetter } from './selectors.js';
import { crdTable, crTable } from './tables.js';
import { ALL_VERBS, type ResourceType, type Strategy, type StrategyContext } from './types.js';
import { checkName, deepEqual, type Obj, rfc3339 } from './util.js';

/** Kubernetes version priority: GA > beta > alpha, higher numbers first, others last by name. */
export function compareKubeVersions(a: string, b: string): number {
  const parse = (v: string): [number, number, number] | undefined => {
    const m = /^v(\d+)(?:(alpha|beta)(\d+))?$/.exec(v);
    if (!m) return undefined;
    const stage = m[2] === 'alpha' ? 0 : m[2] === 'beta' ? 1 : 2;
    return [stage, Number(m[1]), Number(m[3] ?? 0)];
  };
  const pa = parse(a);
  const pb = parse(b);
  if (pa && !pb) return -1;
  if (!pa && pb) return 1;
  if (!pa || !pb) return a < b ? -1 : a > b ? 1 : 0;
  for (let i = 0; i < 3; i++) if (pa[i] !== pb[i]) return pb[i] - pa[i];
  return 0;
}

function namesOf(crd: Obj): Obj {
  const n = structuredClone(crd.spec?.names ?? {});
  if (n.kind && !n.singular) n.singular = String(n.kind).toLowerCase();
  if (n.kind && !n.listKind) n.listKind = `${n.kind}List`;
  return n;
}

function validateCrd(crd: Obj, old: Obj | undefined): StatusCause[] {
  const out: StatusCause[] = [];
  const spec = crd.spec;
  if (!spec || typeof spec !== 'object') return [cause.required('spec')];
  if (!spec.group) out.push(cause.required('spec.group'));
  else if (checkName(spec.group, 'subdomain') || !String(spec.group).includes('.'))
    out.push(cause.invalid('spec.group', spec.group, 'should be a domain with at least one dot'));
  const names = spec.names ?? {};
  if (!names.plural) out.push(cause.required('spec.names.plural'));
  else if (checkName(names.plural, 'label'))
    out.push(cause.invalid('spec.names.plural', names.plural, 'a lowercase RFC 1123 label is required'));
  if (!names.kind) out.push(cause.required('spec.names.kind'));
  if (names.singular && checkName(names.singular, 'label'))
    out.push(cause.invalid('spec.names.singular', names.singular, 'a lowercase RFC 1123 label is required'));
  if (!['Namespaced', 'Cluster'].includes(spec.scope))
    out.push(cause.notSupported('spec.scope', spec.scope ?? '', ['Cluster', 'Namespaced']));
  const versions: Obj[] = Array.isArray(spec.versions) ? spec.versions : [];
  if (versions.length === 0)
    out.push(cause.required('spec.versions', 'must have exactly one version marked as storage version'));
  const storage = versions.filter((v) => v?.storage === true);
  if (versions.length > 0 && storage.length !== 1)
    out.push(
      cause.invalid('spec.versions', versions.length, 'must have exactly one version marked as storage version'),
    );
  const seen = new Set<string>();
  versions.forEach((v, i) => {
    if (!v?.name) out.push(cause.required(`spec.versions[${i}].name`));
    else if (seen.has(v.name)) out.push(cause.duplicate(`spec.versions[${i}].name`, v.name));
    else seen.add(v.name);
    if (typeof v?.served !== 'boolean') out.push(cause.required(`spec.versions[${i}].served`));
    if (!v?.schema?.openAPIV3Schema)
      out.push(cause.required(`spec.versions[${i}].schema.openAPIV3Schema`, 'schemas are required'));
  });
  if (spec.group && names.plural && crd.metadata?.name !== `${names.plural}.${spec.group}`)
    out.push(cause.invalid('metadata.name', crd.metadata?.name, `must be spec.names.plural+"."+spec.group`));
  if (old) {
    if (old.spec?.group !== spec.group) out.push(cause.invalid('spec.group', spec.group, 'field is immutable'));
    if (old.spec?.scope !== spec.scope) out.push(cause.invalid('spec.scope', spec.scope, 'field is immutable'));
  }
  return out;
}

function condition(type: string, status: string, reason: string, message: string, now: number, prev?: Obj[]): Obj {
  const before = prev?.find((c) => c.type === type);
  const lastTransitionTime = before && before.status === status ? before.lastTransitionTime : rfc3339(now);
  return { type, status, lastTransitionTime, reason, message };
}

/** Server-written CRD status: accepted names, stored versions, NamesAccepted/Established. */
function computeCrdStatus(
  crd: Obj,
  old: Obj | undefined,
  ctx: StrategyContext & { conflicts?: (crd: Obj) => string | undefined },
): void {
  const names = namesOf(crd);
  crd.spec.names = names;
  crd.spec.conversion ??= { strategy: 'None' };
  for (const v of crd.spec.versions ?? []) if (v && typeof v === 'object') v.deprecated ??= undefined;
  const prev: Obj[] | undefined = old?.status?.conditions;
  const conflict = ctx.conflicts?.(crd);
  const storage = (crd.spec.versions ?? []).find((v: Obj) => v?.storage)?.name;
  const stored = new Set<string>(old?.status?.storedVersions ?? []);
  if (storage) stored.add(storage);
  const conds = conflict
    ? [
        condition('NamesAccepted', 'False', 'NameConflict', conflict, ctx.nowMs, prev),
        condition('Established', 'False', 'NotAccepted', 'not all names are accepted', ctx.nowMs, prev),
      ]
    : [
        condition('NamesAccepted', 'True', 'NoConflicts', 'no conflicts found', ctx.nowMs, prev),
        condition(
          'Established',
          'True',
          'InitialNamesAccepted',
          'the initial names have been accepted',
          ctx.nowMs,
          prev,
        ),
      ];
  const terminating = prev?.find((c) => c.type === 'Terminating');
  if (terminating) conds.push(terminating);
  crd.status = {
    conditions: conds,
    acceptedNames: conflict ? (old?.status?.acceptedNames ?? { plural: '', kind: '' }) : names,
    storedVersions: [...stored],
  };
}

export function crdStrategy(): Partial<Strategy> {
  return {
    tracksGeneration: true,
    strategicMerge: false,
    fieldGetters: META_GETTERS,
    table: crdTable,
    topLevel: ['spec', 'status'],
    validate: (o, old) => validateCrd(o, old),
    prepareCreate(o, ctx) {
      if (o.spec && typeof o.spec === 'object') computeCrdStatus(o, undefined, ctx);
    },
    prepareUpdate(o, old, ctx) {
      if (o.spec && typeof o.spec === 'object') computeCrdStatus(o, old, ctx);
    },
  };
}

export function isEstablished(crd: Obj): boolean {
  return (crd.status?.conditions ?? []).some((c: Obj) => c.type === 'Established' && c.status === 'True');
}

/**
 * CEL rules are not evaluated in general; these hand-written checks stand in for the rules of CRDs we
 * ship (Volcano HyperNode member selectors).
 */
const HAND_RULES: Record<string, (o: Obj) => StatusCause[]> = {
  'topology.volcano.sh/hypernodes': (o) => {
    const out: StatusCause[] = [];
    const members = o.spec?.members;
    if (!Array.isArray(members)) return out;
    members.forEach((m: Obj, i: number) => {
      const sel = m?.selector;
      if (!sel || typeof sel !== 'object') return;
      const kinds = ['exactMatch', 'regexMatch', 'labelMatch'].filter((k) => sel[k] !== undefined && sel[k] !== null);
      if (kinds.length !== 1)
        out.push(
          cause.invalid(
            `spec.members[${i}].selector`,
            'object',
            'exactly one of exactMatch, regexMatch or labelMatch must be set',
          ),
        );
      if (sel.labelMatch && m.type !== 'Node')
        out.push(
          cause.invalid(
            `spec.members[${i}].selector`,
            'object',
            'labelMatch can only be used with the Node member type',
          ),
        );
      if (sel.regexMatch?.pattern !== undefined) {
        try {
          new RegExp(String(sel.regexMatch.pattern));
        } catch {
          out.push(
            cause.invalid(
              `spec.members[${i}].selector.regexMatch.pattern`,
              sel.regexMatch.pattern,
              'must be a valid regular expression',
            ),
          );
        }
      }
    });
    return out;
  },
};

/** Strategy of custom resources (apiextensions-apiserver customresource/strategy.go). */
function crStrategy(selectable: string[], rules?: (o: Obj) => StatusCause[]): Strategy {
  const getters = { ...META_GETTERS };
  for (const f of selectable) getters[f.replace(/^\./, '')] = pathGetter(f.replace(/^\./, ''));
  return {
    tracksGeneration: true,
    allowUnconditionalUpdate: false,
    returnDeletedObject: false,
    strategicMerge: false,
    nameRule: 'subdomain',
    fieldGetters: getters,
    validate: rules ? (o) => rules(o) : undefined,
  };
}

/** The ResourceType a CRD serves, or undefined when it is not (yet) established. */
export function crdToType(crd: Obj): ResourceType | undefined {
  if (!isEstablished(crd)) return undefined;
  const spec = crd.spec;
  const names = namesOf(crd);
  const served: Obj[] = (spec.versions ?? []).filter((v: Obj) => v.served);
  if (served.length === 0) return undefined;
  const versions = served.map((v) => v.name as string).sort(compareKubeVersions);
  const storage = (spec.versions as Obj[]).find((v) => v.storage)?.name as string;
  // Subresources and selectable fields are per version; the double uses the storage version's
  // (or the first served one's) settings for all versions.
  const ref = (spec.versions as Obj[]).find((v) => v.name === storage) ?? served[0];
  const sub = ref.subresources ?? {};
  const t: ResourceType = {
    group: spec.group,
    versions,
    storageVersion: storage,
    plural: names.plural,
    singular: names.singular,
    kind: names.kind,
    listKind: names.listKind,
    namespaced: spec.scope === 'Namespaced',
    shortNames: names.shortNames ?? [],
    categories: names.categories ?? [],
    verbs: ALL_VERBS,
    status: sub.status !== undefined && sub.status !== null,
    scale: sub.scale
      ? {
          specReplicasPath: sub.scale.specReplicasPath,
          statusReplicasPath: sub.scale.statusReplicasPath,
          labelSelectorPath: sub.scale.labelSelectorPath,
        }
      : undefined,
    extraSubresources: [],
    builtin: false,
    strategy: crStrategy(
      (ref.selectableFields ?? []).map((f: Obj) => f.jsonPath),
      HAND_RULES[`${spec.group}/${names.plural}`],
    ),
    crd: {
      name: crd.metadata.name,
      uid: crd.metadata.uid,
      schemas: Object.fromEntries(served.map((v) => [v.name, v.schema?.openAPIV3Schema])),
      columns: Object.fromEntries(served.map((v) => [v.name, v.additionalPrinterColumns ?? []])),
      deprecated: Object.fromEntries(
        served.map((v) => [
          v.name,
          v.deprecated ? (v.deprecationWarning ?? `${spec.group}/${v.name} ${names.kind} is deprecated`) : undefined,
        ]),
      ),
      selectableFields: {},
    },
  };
  t.strategy.table = crTable(t);
  return t;
}

/** Whether two CRD name sets collide (same group: plural, singular, short names or kind). */
export function namesConflict(a: Obj, b: Obj): string | undefined {
  if (a.spec?.group !== b.spec?.group) return undefined;
  const na = namesOf(a);
  const nb = b.status?.acceptedNames?.plural ? b.status.acceptedNames : namesOf(b);
  if (na.plural === nb.plural) return `"${na.plural}" is already in use`;
  if (na.singular && na.singular === nb.singular) return `"${na.singular}" is already in use`;
  for (const s of na.shortNames ?? []) if ((nb.shortNames ?? []).includes(s)) return `"${s}" is already in use`;
  if (na.kind === nb.kind) return `"${na.kind}" is already in use`;
  if (deepEqual(na, nb)) return 'names are already in use';
  return undefined;
}
