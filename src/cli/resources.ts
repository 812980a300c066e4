// The kinds `kthena get` and `kthena describe` know: upstream's resource names and aliases, the table columns each
// prints, and the status each kind summarises into one word. Pure: objects in, strings out.
import type { ModelRoute, ModelServer, ModelServing } from '../api/index.js';
import {
  AUTOSCALING_POLICIES,
  age,
  type KubeObject,
  MODEL_BOOSTERS,
  MODEL_ROUTES,
  MODEL_SERVERS,
  MODEL_SERVINGS,
  PODS,
  type ResourceRef,
  SERVICES,
} from '../kube/index.js';
import { CliError } from './connect.js';

type Condition = { type?: string; status?: string };

export interface Column {
  header: string;
  cell: (o: KubeObject, nowMs: number) => string;
}

export interface CliKind {
  /** The name upstream's CLI lists it under (plural). */
  name: string;
  /** Upstream's aliases; the API's own plural and singular names (modelboosters, modelbooster) select it too. */
  aliases: string[];
  ref: ResourceRef;
  columns: Column[];
  /** The one-word status of an object, for kinds that have one. */
  status?: (o: KubeObject) => string;
  /** Kinds whose objects this kind owns (listed by `describe`, matched by ownerReferences uid). */
  children: ResourceRef[];
}

function conditions(o: KubeObject): Condition[] {
  const c = (o as { status?: { conditions?: unknown } }).status?.conditions;
  return Array.isArray(c) ? (c as Condition[]) : [];
}

/** The first condition type in `order` whose status is True; `Unknown` when none is. */
export function statusByPrecedence(o: KubeObject, order: readonly [type: string, shown: string][]): string {
  const trueTypes = new Set(
    conditions(o)
      .filter((c) => c.status === 'True')
      .map((c) => c.type),
  );
  for (const [type, shown] of order) if (trueTypes.has(type)) return shown;
  return 'Unknown';
}

/** Upstream's ModelBooster precedence: Failed > Active > Initialized > Unknown. */
export const boosterStatus = (o: KubeObject): string =>
  statusByPrecedence(o, [
    ['Failed', 'Failed'],
    ['Active', 'Active'],
    ['Initialized', 'Initialized'],
  ]);

/** Upstream's ModelServing precedence: Available > Updating (UpdateInProgress) > Progressing > Unknown. */
export const servingStatus = (o: KubeObject): string =>
  statusByPrecedence(o, [
    ['Available', 'Available'],
    ['UpdateInProgress', 'Updating'],
    ['Progressing', 'Progressing'],
  ]);

const NAME: Column = { header: 'NAME', cell: (o) => o.metadata?.name ?? '' };
const AGE: Column = { header: 'AGE', cell: (o, now) => age(o.metadata?.creationTimestamp as string | undefined, now) };
const spec = <T>(o: KubeObject) => ((o as { spec?: T }).spec ?? {}) as Partial<T>;

export const CLI_KINDS: CliKind[] = [
  {
    name: 'model-boosters',
    aliases: ['model-booster'],
    ref: MODEL_BOOSTERS,
    columns: [NAME, { header: 'STATUS', cell: boosterStatus }, AGE],
    status: boosterStatus,
    children: [MODEL_SERVINGS, MODEL_SERVERS, MODEL_ROUTES, AUTOSCALING_POLICIES],
  },
  {
    name: 'model-servings',
    aliases: ['ms', 'model-serving'],
    ref: MODEL_SERVINGS,
    columns: [
      NAME,
      {
        header: 'READY',
        cell: (o) => {
          const ms = o as Partial<ModelServing>;
          return `${ms.status?.availableReplicas ?? 0}/${ms.spec?.replicas ?? 1}`;
        },
      },
      { header: 'STATUS', cell: servingStatus },
      AGE,
    ],
    status: servingStatus,
    children: [PODS, SERVICES],
  },
  {
    name: 'autoscaling-policies',
    aliases: ['asp', 'autoscaling-policy'],
    ref: AUTOSCALING_POLICIES,
    columns: [NAME, AGE],
    children: [],
  },
  {
    name: 'model-routes',
    aliases: ['mroute', 'model-route'],
    ref: MODEL_ROUTES,
    columns: [
      NAME,
      { header: 'MODEL', cell: (o) => spec<ModelRoute['spec']>(o).modelName ?? '' },
      { header: 'RULES', cell: (o) => String(spec<ModelRoute['spec']>(o).rules?.length ?? 0) },
      AGE,
    ],
    children: [],
  },
  {
    name: 'model-servers',
    aliases: ['mserver', 'model-server'],
    ref: MODEL_SERVERS,
    columns: [
      NAME,
      { header: 'ENGINE', cell: (o) => spec<ModelServer['spec']>(o).inferenceEngine ?? '' },
      { header: 'PORT', cell: (o) => String(spec<ModelServer['spec']>(o).workloadPort?.port ?? '') },
      AGE,
    ],
    children: [],
  },
];

/** The kind a word names, or a CliError listing the known words. */
export function findKind(word: string): CliKind {
  const w = word.toLowerCase();
  const k = CLI_KINDS.find(
    (c) => c.name === w || c.aliases.includes(w) || c.ref.plural === w || c.ref.kind.toLowerCase() === w,
  );
  if (k) return k;
  throw new CliError(`unknown resource type "${word}"; known: ${knownWords().join(', ')}`);
}

export function knownWords(): string[] {
  return ['templates', 'template', ...CLI_KINDS.flatMap((c) => [c.name, ...c.aliases])];
}

/** Rows of cells (header first) for `objects`, with a NAMESPACE column first when listing every namespace. */
export function tableRows(kind: CliKind, objects: KubeObject[], allNamespaces: boolean, nowMs: number): string[][] {
  const cols = allNamespaces
    ? [{ header: 'NAMESPACE', cell: (o: KubeObject) => o.metadata?.namespace ?? '' }, ...kind.columns]
    : kind.columns;
  return [cols.map((c) => c.header), ...objects.map((o) => cols.map((c) => c.cell(o, nowMs)))];
}

/** Columns padded to their widest cell plus three spaces, as kubectl aligns them. */
export function formatTable(rows: string[][]): string {
  if (rows.length === 0) return '';
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return (
    rows
      .map((r) =>
        r
          .map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] + 3)))
          .join('')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}
