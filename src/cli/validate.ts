// `kthena validate -f FILE|DIR …`: schema + semantic validation of manifests, printing every problem with its
// file, line, document and field path. Exit status 1 when any document has an error.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MAX_DOCUMENT_BYTES, parseManifests, validate } from '../api/index.js';
// Registers the router-local EngineEndpoint kind, so config directories for `kthena router --config-dir` validate.
import '../router/sources/manifests.js';

const MANIFEST_EXT = /\.(ya?ml|json)$/i;

export interface ValidateCliOptions {
  strict?: boolean;
  quiet?: boolean;
}

/** Files to read under the given paths (directories recursively, manifest extensions only, sorted). */
export function collectFiles(paths: string[]): { files: string[]; missing: string[]; walked: Set<string> } {
  const files: string[] = [];
  const missing: string[] = [];
  /** Files found by walking a directory rather than named (see notManifest). */
  const walked = new Set<string>();
  const walk = (dir: string) => {
    for (const name of readdirSync(dir).sort()) {
      if (name.startsWith('.') || name === 'node_modules') continue;
      const p = join(dir, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (MANIFEST_EXT.test(name)) {
        files.push(p);
        walked.add(p);
      }
    }
  };
  for (const p of paths) {
    let st: ReturnType<typeof statSync>;
    try {
      st = statSync(p);
    } catch {
      missing.push(p);
      continue;
    }
    if (st.isDirectory()) walk(p);
    else files.push(p);
  }
  return { files, missing, walked };
}

/**
 * A JSON file met in a directory that is no Kubernetes object at all (neither apiVersion nor kind): a Grafana
 * dashboard next to manifests (deploy/grafana), a package.json. Skipped like foreign kinds; named explicitly, it is
 * still an error.
 */
function notManifest(file: string, text: string): boolean {
  if (!/\.json$/i.test(file)) return false;
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) && !('apiVersion' in v) && !('kind' in v);
  } catch {
    return false;
  }
}

/** Validates everything under `paths`, writing a report through `out`; returns the exit status. */
/** `out` gets the report (findings and the summary); `err` what stops the run before or while reading files. */
export function runValidate(
  paths: string[],
  opts: ValidateCliOptions,
  out: (line: string) => void,
  err: (line: string) => void = out,
): number {
  if (paths.length === 0) {
    err('error: no files given (use -f FILE|DIR)');
    return 1;
  }
  const { files, missing, walked } = collectFiles(paths);
  let errors = 0;
  let warnings = 0;
  let docs = 0;
  let skipped = 0;
  for (const m of missing) {
    err(`${m}: error: no such file or directory`);
    errors++;
  }
  if (files.length === 0 && missing.length === 0) {
    err(`error: no .yaml, .yml or .json files under ${paths.join(', ')}`);
    return 1;
  }
  for (const file of files) {
    let text: string;
    try {
      const size = statSync(file).size;
      if (size > 16 * MAX_DOCUMENT_BYTES) {
        err(`${file}: error: file is ${(size / 1048576).toFixed(1)} MiB, too large to be a manifest`);
        errors++;
        continue;
      }
      text = readFileSync(file, 'utf8');
    } catch (e) {
      err(`${file}: error: cannot read: ${e instanceof Error ? e.message : String(e)}`);
      errors++;
      continue;
    }
    if (walked.has(file) && notManifest(file, text)) {
      skipped++;
      if (!opts.quiet) out(`${file}:1: note: not a Kubernetes manifest (no apiVersion or kind), skipped (not checked)`);
      continue;
    }
    const parsed = parseManifests(text, file);
    for (const e of parsed.errors) {
      out(`${file}:${e.line ?? 1}: document ${e.index + 1}: error: ${e.path ? `${e.path}: ` : ''}${e.message}`);
      errors++;
    }
    for (const doc of parsed.docs) {
      docs++;
      const r = validate(doc.obj, { strict: opts.strict });
      const what = describeDoc(doc.obj);
      if (isForeign(doc.obj, r.errors)) {
        skipped++;
        if (!opts.quiet)
          out(`${file}:${doc.line}: document ${doc.index + 1}${what}: note: not a Kthena kind, skipped (not checked)`);
        continue;
      }
      for (const p of r.errors) {
        const line = (p.path && doc.lineOf?.(p.path)) || doc.line;
        out(`${file}:${line}: document ${doc.index + 1}${what}: error: ${p.path ? `${p.path}: ` : ''}${p.message}`);
        errors++;
      }
      if (!opts.quiet) {
        for (const p of [...(doc.warnings ?? []), ...r.warnings]) {
          const line = (p.path && doc.lineOf?.(p.path)) || doc.line;
          out(`${file}:${line}: document ${doc.index + 1}${what}: warning: ${p.path ? `${p.path}: ` : ''}${p.message}`);
          warnings++;
        }
      }
    }
  }
  const summary = `${docs} document${docs === 1 ? '' : 's'} in ${files.length} file${files.length === 1 ? '' : 's'}${skipped > 0 ? `, ${skipped} of other kinds skipped` : ''}`;
  if (errors > 0) {
    out(
      `FAILED: ${errors} error${errors === 1 ? '' : 's'}, ${warnings} warning${warnings === 1 ? '' : 's'} (${summary})`,
    );
    return 1;
  }
  out(`OK: ${summary}${warnings > 0 ? `, ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}`);
  return 0;
}

/** Groups whose kinds this validator owns; an unknown kind in them is an error, elsewhere it is someone else's. */
const KTHENA_GROUPS = new Set(['workload.serving.volcano.sh', 'networking.serving.volcano.sh', 'router.kthena.io']);

/**
 * A document of a kind Kthena does not own (KEDA ScaledObjects, RBAC, ServiceMonitors, Gateway API, Deployments…):
 * the only problem found is the unknown kind, outside Kthena's API groups.
 */
export function isForeign(obj: unknown, errors: readonly { path: string; message: string }[]): boolean {
  if (errors.length !== 1 || errors[0].path !== 'kind' || !errors[0].message.startsWith('unknown kind')) return false;
  const av = (obj as { apiVersion?: unknown }).apiVersion;
  if (typeof av !== 'string') return false;
  const group = av.includes('/') ? av.slice(0, av.indexOf('/')) : '';
  return !KTHENA_GROUPS.has(group);
}

function describeDoc(obj: unknown): string {
  if (typeof obj !== 'object' || obj === null) return '';
  const o = obj as { kind?: unknown; metadata?: { name?: unknown } };
  const kind = typeof o.kind === 'string' ? o.kind : undefined;
  const name = typeof o.metadata?.name === 'string' ? o.metadata.name : undefined;
  if (!kind) return '';
  return ` (${kind}${name ? `/${name}` : ''})`;
}

export function register(program: Command): void {
  program
    .command('validate')
    .description(
      'validate Kthena manifests (multi-document YAML or JSON): schema, defaults and upstream semantic rules',
    )
    .argument('[paths...]', 'files or directories to validate')
    .option('-f, --filename <path...>', 'file or directory (repeatable)')
    .option('--strict', 'treat unknown fields as errors (like kubectl --validate=strict)')
    .option('-q, --quiet', 'do not print warnings')
    .action((paths: string[], opts: { filename?: string[]; strict?: boolean; quiet?: boolean }) => {
      const all = [...(opts.filename ?? []), ...paths];
      const status = runValidate(
        all,
        { strict: opts.strict, quiet: opts.quiet },
        (l) => process.stdout.write(`${l}\n`),
        (l) => process.stderr.write(`${l}\n`),
      );
      process.exitCode = status;
    });
}
