// `kthena describe <resource> NAME`: one object as kubectl describe shows it — metadata, the one-word status, the
// spec, the conditions, the objects it owns (by ownerReferences uid) and its events — or a model template's values.
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { age, apiVersionOf, EVENTS, type KubeClient, type KubeObject } from '../kube/index.js';
import { CliError, type ConnOptions, connOptions, withClient } from './connect.js';
import { renderManifest } from './create.js';
import { type Printed, print } from './get.js';
import { type CliKind, findKind, formatTable } from './resources.js';
import { findTemplate, valueKeys } from './templates.js';

type Obj = KubeObject & { spec?: unknown; status?: Record<string, unknown> };
interface Condition {
  type?: string;
  status?: string;
  reason?: string;
  message?: string;
  lastTransitionTime?: string;
}
interface KubeEvent extends KubeObject {
  involvedObject?: { kind?: string; name?: string; uid?: string };
  type?: string;
  reason?: string;
  message?: string;
  count?: number;
  lastTimestamp?: string;
  eventTime?: string;
  source?: { component?: string };
  reportingComponent?: string;
}

const indent = (text: string, by = '  ') =>
  text
    .trimEnd()
    .split('\n')
    .map((l) => by + l)
    .join('\n');

// kubectl describe leaves this one out: it repeats the whole object.
const LAST_APPLIED = 'kubectl.kubernetes.io/last-applied-configuration';

function pairs(m: Record<string, string> | undefined): string {
  const e = Object.entries(m ?? {}).filter(([k]) => k !== LAST_APPLIED);
  return e.length === 0 ? '<none>' : e.map(([k, v]) => `${k}=${v}`).join('\n                ');
}

function section(title: string, rows: string[][]): string {
  if (rows.length <= 1) return `${title}\n  <none>`;
  return `${title}\n${indent(formatTable(rows))}`;
}

/** The text of `describe` for one object; `children` and `events` are already fetched. Pure. */
export function formatDescribe(
  kind: CliKind,
  o: Obj,
  children: KubeObject[],
  events: KubeEvent[],
  nowMs: number,
): string {
  const m = o.metadata ?? {};
  const status = o.status ?? {};
  const conditions = (Array.isArray(status.conditions) ? status.conditions : []) as Condition[];
  const { conditions: _c, ...otherStatus } = status;
  const created = m.creationTimestamp as string | undefined;
  const lines = [
    `Name:           ${m.name}`,
    `Namespace:      ${m.namespace ?? ''}`,
    `Kind:           ${kind.ref.kind} (${apiVersionOf(kind.ref)})`,
    `Labels:         ${pairs(m.labels)}`,
    `Annotations:    ${pairs(m.annotations)}`,
    `Created:        ${created ?? '<unknown>'} (${age(created, nowMs)} ago)`,
    `Generation:     ${m.generation ?? '<none>'} (observed: ${(status.observedGeneration as number | undefined) ?? '<none>'})`,
  ];
  if (kind.status) lines.push(`Status:         ${kind.status(o)}`);
  const owner = m.ownerReferences?.[0];
  if (owner) lines.push(`Controlled By:  ${owner.kind}/${owner.name}`);
  lines.push(`Spec:\n${indent(stringify(o.spec ?? {}))}`);
  if (Object.keys(otherStatus).length > 0) lines.push(`Status Fields:\n${indent(stringify(otherStatus))}`);
  lines.push(
    section('Conditions:', [
      ['TYPE', 'STATUS', 'REASON', 'MESSAGE', 'LAST TRANSITION'],
      ...conditions.map((c) => [
        c.type ?? '',
        c.status ?? '',
        c.reason ?? '',
        c.message ?? '',
        c.lastTransitionTime ? `${age(c.lastTransitionTime, nowMs)} ago` : '',
      ]),
    ]),
  );
  lines.push(
    section('Owned Objects:', [
      ['KIND', 'NAME', 'AGE'],
      ...children.map((c) => [
        c.kind ?? '',
        c.metadata?.name ?? '',
        age(c.metadata?.creationTimestamp as string, nowMs),
      ]),
    ]),
  );
  lines.push(
    section('Events:', [
      ['TYPE', 'REASON', 'AGE', 'FROM', 'MESSAGE'],
      ...events.map((e) => [
        e.type ?? '',
        e.reason ?? '',
        `${age(e.lastTimestamp ?? e.eventTime, nowMs)}${(e.count ?? 1) > 1 ? ` (x${e.count})` : ''}`,
        e.source?.component ?? e.reportingComponent ?? '',
        e.message ?? '',
      ]),
    ]),
  );
  return `${lines.join('\n')}\n`;
}

async function ownedBy(client: KubeClient, kind: CliKind, o: Obj, ns: string): Promise<KubeObject[]> {
  const uid = o.metadata?.uid;
  if (!uid) return [];
  const out: KubeObject[] = [];
  for (const ref of kind.children) {
    const list = await client.list<KubeObject>(ref, { namespace: ns });
    for (const c of list.items)
      if (c.metadata?.ownerReferences?.some((r) => r.uid === uid)) out.push({ ...c, kind: ref.kind });
  }
  return out;
}

async function eventsOf(client: KubeClient, kind: CliKind, o: Obj, ns: string): Promise<KubeEvent[]> {
  const list = await client.list<KubeEvent>(EVENTS, { namespace: ns });
  const when = (e: KubeEvent) => Date.parse(e.lastTimestamp ?? e.eventTime ?? '') || 0;
  return list.items
    .filter((e) =>
      e.involvedObject?.uid
        ? e.involvedObject.uid === o.metadata?.uid
        : e.involvedObject?.kind === kind.ref.kind && e.involvedObject?.name === o.metadata?.name,
    )
    .sort((a, b) => when(a) - when(b));
}

export async function describeObject(client: KubeClient, kind: CliKind, name: string, ns: string): Promise<string> {
  const o = await client.get<Obj>(kind.ref, name, ns);
  const [children, events] = await Promise.all([ownedBy(client, kind, o, ns), eventsOf(client, kind, o, ns)]);
  return formatDescribe(kind, o, children, events, Date.now());
}

export function describeTemplate(name: string): string {
  const t = findTemplate(name);
  const { yaml } = renderManifest(t, { values: {}, sources: {} });
  return [
    `Name:         ${t.name}`,
    `Description:  ${t.description}`,
    `Values:       ${valueKeys(readFileSync(t.file, 'utf8')).join(', ')}`,
    'Manifest with the default values:',
    indent(yaml.replace(/^#.*\n/gm, '')),
    '',
  ].join('\n');
}

export async function runDescribe(resource: string, name: string, o: ConnOptions): Promise<Printed> {
  if (resource === 'template' || resource === 'templates') return { stdout: describeTemplate(name) };
  const kind = findKind(resource);
  if (!name) throw new CliError(`describe ${resource}: a NAME is required`);
  return { stdout: await withClient(o, (c, ns) => describeObject(c, kind, name, ns)) };
}

export function register(program: Command): void {
  connOptions(
    program
      .command('describe')
      .description(
        'show one object in detail (spec, status, conditions, owned objects, events): template, model-booster, model-serving (ms), autoscaling-policy (asp), model-route (mroute), model-server (mserver)',
      )
      .argument('<resource>', 'resource type')
      .argument('<name>', 'object name'),
  ).action(async (resource: string, name: string, o: ConnOptions) => print(await runDescribe(resource, name, o)));
}
