// `kthena create manifest -t TEMPLATE`: renders a model template with values (a values file, then --set, then
// --name and --namespace), checks the result with the same validator as `kthena validate`, prints it between
// `================` lines as upstream does, and — after a [y/N] question, or with --yes — creates each document.
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline/promises';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { type ManifestDoc, parseManifests, validate } from '../api/index.js';
import { apiVersionOf, type KubeClient, type KubeObject } from '../kube/index.js';
import { CliError, type ConnOptions, connOptions, withClient } from './connect.js';
import { CLI_KINDS } from './resources.js';
import { findTemplate, renderTemplate, type TemplateInfo, type Values } from './templates.js';

export const RULE = '================';

export interface ValueOptions {
  valuesFile?: string;
  set?: string[];
  name?: string;
  /** -n as given on the command line (wins over the values), or undefined. */
  namespace?: string;
}

/** The values and, per key, where it came from (for error messages). */
export function buildValues(o: ValueOptions): { values: Values; sources: Record<string, string> } {
  const values: Values = {};
  const sources: Record<string, string> = {};
  const put = (k: string, v: unknown, from: string) => {
    values[k] = v;
    sources[k] = from;
  };
  if (o.valuesFile !== undefined) {
    const from = `--values-file ${o.valuesFile}:`;
    let doc: unknown;
    try {
      doc = parseYaml(readFileSync(o.valuesFile, 'utf8'));
    } catch (err) {
      throw new CliError(`${from} ${(err as Error).message.split('\n')[0]}`);
    }
    if (doc === null || doc === undefined) doc = {};
    if (typeof doc !== 'object' || Array.isArray(doc))
      throw new CliError(
        `${from} must be a map of value keys to values, got ${Array.isArray(doc) ? 'a list' : typeof doc}`,
      );
    for (const [k, v] of Object.entries(doc as Record<string, unknown>)) {
      if (v !== null && typeof v === 'object')
        throw new CliError(`${from} ${k}: must be a string, number or boolean (templates take flat values)`);
      put(k, v, from);
    }
  }
  for (const item of o.set ?? []) {
    for (const pair of item.split(',')) {
      const eq = pair.indexOf('=');
      if (eq <= 0) throw new CliError(`--set: "${pair}" is not key=value`);
      put(pair.slice(0, eq).trim(), pair.slice(eq + 1), '--set');
    }
  }
  if (o.name !== undefined) put('name', o.name, '--name');
  if (o.namespace !== undefined) put('namespace', o.namespace, '--namespace');
  return { values, sources };
}

/** Renders and validates; a document that fails validation is an error listing each field path. */
export function renderManifest(
  t: TemplateInfo,
  v: ReturnType<typeof buildValues>,
): { yaml: string; docs: ManifestDoc[] } {
  const yaml = renderTemplate(t, v.values, v.sources);
  const parsed = parseManifests(yaml, t.name);
  const problems = parsed.errors.map((e) => `${e.path ? `${e.path}: ` : ''}${e.message}`);
  for (const doc of parsed.docs)
    for (const p of validate(doc.obj).errors) problems.push(`${p.path ? `${p.path}: ` : ''}${p.message}`);
  if (problems.length > 0)
    throw new CliError(
      `template ${t.name} rendered an invalid manifest with these values:\n  ${problems.join('\n  ')}`,
    );
  return { yaml, docs: parsed.docs };
}

/** Creates each document (create only, never update, as upstream); returns kubectl-style result lines. */
export async function createDocs(client: KubeClient, namespace: string, docs: ManifestDoc[]): Promise<string> {
  let out = '';
  for (const { obj } of docs) {
    const o = obj as KubeObject;
    const kind = CLI_KINDS.find((k) => k.ref.kind === o.kind && apiVersionOf(k.ref) === o.apiVersion);
    if (!kind) throw new CliError(`cannot create ${o.apiVersion}/${o.kind}: not a Kthena kind this command creates`);
    const ns = o.metadata?.namespace ?? namespace;
    await client.create(kind.ref, { ...o, metadata: { ...o.metadata, namespace: ns } }, { namespace: ns });
    out += `${kind.ref.kind.toLowerCase()}.${kind.ref.group}/${o.metadata?.name} created\n`;
  }
  return out;
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}

interface ManifestOptions extends ConnOptions, ValueOptions {
  template: string;
  dryRun?: boolean;
  yes?: boolean;
}

async function runManifest(o: ManifestOptions, namespaceGiven: boolean): Promise<void> {
  const t = findTemplate(o.template);
  const v = buildValues({ ...o, namespace: namespaceGiven ? o.namespace : undefined });
  if (v.values.namespace === undefined) v.values.namespace = o.namespace ?? 'default';
  const { yaml, docs } = renderManifest(t, v);
  const text = yaml.endsWith('\n') ? yaml : `${yaml}\n`;
  // A dry run prints the bare manifest, so it pipes into `kubectl apply -f -` or `kthena validate -f`; before
  // creating, the manifest stands between rules above the question, as upstream shows it.
  if (o.dryRun) {
    process.stdout.write(text);
    return;
  }
  process.stdout.write(`${RULE}\n${text}${RULE}\n`);
  if (!o.yes) {
    if (!process.stdin.isTTY)
      throw new CliError(
        'refusing to create without confirmation: standard input is not a terminal; pass --yes to create, or --dry-run to print only',
      );
    if (!(await confirm('Create these resources? [y/N] '))) {
      process.stderr.write('cancelled: nothing was created\n');
      return;
    }
  }
  process.stdout.write(await withClient(o, (c, ns) => createDocs(c, String(v.values.namespace ?? ns), docs)));
}

export function register(program: Command): void {
  const create = program.command('create').description('create Kthena objects from model templates');
  const manifest = connOptions(
    create
      .command('manifest')
      .description('render a model template (see `kthena get templates`), print it, and create it after confirmation'),
    'namespace of the created objects: the `namespace` value (default: default, as upstream)',
  )
    .requiredOption('-t, --template <name>', 'template name, Vendor/Model or a bare Model')
    .option('-f, --values-file <file>', 'YAML map of template values')
    .option('--set <k=v,...>', 'template values (repeatable; strings)', (v: string, prev: string[] = []) => [
      ...prev,
      v,
    ])
    .option('--name <name>', 'the ModelBooster name (the `name` value)')
    .option('--dry-run', 'print the manifest only')
    .option('-y, --yes', 'create without asking');
  manifest.action(async (o: ManifestOptions) => runManifest(o, manifest.getOptionValueSource('namespace') === 'cli'));
}
