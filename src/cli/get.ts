// `kthena get <resource> [NAME]`: lists Kthena objects (upstream's columns and status words, -o table|yaml|json,
// -n, -A; NAME filters by substring as upstream's does) and the model-template catalogue (`templates`, `template NAME`).
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { stringify } from 'yaml';
import { apiVersionOf, KubeApiError, type KubeClient, type KubeObject } from '../kube/index.js';
import { CliError, type ConnOptions, connOptions, withClient } from './connect.js';
import { type CliKind, findKind, formatTable, tableRows } from './resources.js';
import { findTemplate, listTemplates, valueKeys } from './templates.js';

export const OUTPUTS = ['table', 'yaml', 'json'] as const;
export type Output = (typeof OUTPUTS)[number];

export function outputArg(v: string): Output {
  if ((OUTPUTS as readonly string[]).includes(v)) return v as Output;
  throw new InvalidArgumentError(`--output must be one of ${OUTPUTS.join(', ')}, got "${v}"`);
}

export interface GetOptions extends ConnOptions {
  output: Output;
  allNamespaces?: boolean;
}

/** What a command prints: stdout, plus a note for stderr (kubectl's "No resources found"). */
export interface Printed {
  stdout: string;
  stderr?: string;
}

function encode(value: unknown, output: Output): string {
  return output === 'json' ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

export function getTemplates(output: Output): Printed {
  const all = listTemplates();
  if (output !== 'table')
    return {
      stdout: encode(
        all.map(({ name, description }) => ({ name, description })),
        output,
      ),
    };
  return { stdout: formatTable([['NAME', 'DESCRIPTION'], ...all.map((t) => [t.name, t.description])]) };
}

export function getTemplate(name: string | undefined, output: Output): Printed {
  if (!name) throw new CliError('get template: a template NAME is required (see `kthena get templates`)');
  const t = findTemplate(name);
  const source = readFileSync(t.file, 'utf8');
  if (output === 'json')
    return {
      stdout: encode({ name: t.name, description: t.description, values: valueKeys(source), template: source }, output),
    };
  return { stdout: source };
}

/** A 404 on a collection means the API server does not serve the kind: say which CRD is missing and how to add it. */
export function crdHint(err: unknown, kind: CliKind): unknown {
  if (!(err instanceof KubeApiError && err.status === 404)) return err;
  return new CliError(
    `the API server does not serve ${kind.ref.plural}.${kind.ref.group}: install the Kthena CRDs (kthena crds | kubectl apply -f -)`,
  );
}

/** Lists one kind in one namespace (or all) and prints it; `nameFilter` keeps names containing it. */
export async function getObjects(
  client: KubeClient,
  kind: CliKind,
  namespace: string,
  nameFilter: string | undefined,
  o: GetOptions,
  nowMs = Date.now(),
): Promise<Printed> {
  const list = await client
    .list<KubeObject>(kind.ref, { namespace: o.allNamespaces ? undefined : namespace })
    .catch((err) => {
      throw crdHint(err, kind);
    });
  const items = list.items
    .filter((x) => !nameFilter || (x.metadata?.name ?? '').includes(nameFilter))
    .map((x) => ({ apiVersion: apiVersionOf(kind.ref), kind: kind.ref.kind, ...x }))
    .sort((a, b) =>
      `${a.metadata?.namespace}/${a.metadata?.name}`.localeCompare(`${b.metadata?.namespace}/${b.metadata?.name}`),
    );
  if (o.output !== 'table') return { stdout: encode({ apiVersion: 'v1', kind: 'List', items }, o.output) };
  if (items.length === 0)
    return { stdout: '', stderr: `No resources found${o.allNamespaces ? '' : ` in ${namespace} namespace`}.\n` };
  return { stdout: formatTable(tableRows(kind, items, !!o.allNamespaces, nowMs)) };
}

export async function runGet(resource: string, name: string | undefined, o: GetOptions): Promise<Printed> {
  if (resource === 'templates') return getTemplates(o.output);
  if (resource === 'template') return getTemplate(name, o.output);
  const kind = findKind(resource);
  return withClient(o, (c, ns) => getObjects(c, kind, ns, name, o));
}

export function print(p: Printed): void {
  if (p.stderr) process.stderr.write(p.stderr);
  process.stdout.write(p.stdout);
}

export function register(program: Command): void {
  connOptions(
    program
      .command('get')
      .description(
        'list model-boosters (model-booster), model-servings (ms), autoscaling-policies (asp), model-routes (mroute), model-servers (mserver), templates, or show template NAME',
      )
      .argument('<resource>', 'resource type, e.g. model-boosters, ms, asp, mroute, mserver, templates, template')
      .argument('[name]', 'only objects whose name contains NAME (for `template`, the template name)'),
  )
    .option('-o, --output <format>', 'table, yaml or json', outputArg, 'table' as Output)
    .option('-A, --all-namespaces', 'list across all namespaces')
    .action(async (resource: string, name: string | undefined, o: GetOptions) =>
      print(await runGet(resource, name, o)),
    );
}
