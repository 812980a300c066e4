// The model templates of `kthena create manifest` and `kthena get template(s)`: ModelBooster documents under
// templates/<Vendor>/<Model>.yaml, rendered with LiquidJS (docs/decisions/0004-liquidjs-model-templates.md).
// Values reach a template as `values.<key>`; each key carries its default in the template (`| default: …`), strings
// are emitted through `json` (so a value can never break out of its YAML scalar) and counts through `int`.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Liquid } from 'liquidjs';
import { CliError } from './connect.js';

/** The catalogue lives beside src/ and dist/ at the package root, so the same path works from both. */
export const TEMPLATES_DIR = fileURLToPath(new URL('../../templates/', import.meta.url));

export interface TemplateInfo {
  /** `Vendor/Model`, the name users pass to -t. */
  name: string;
  description: string;
  file: string;
}

export type Values = Record<string, unknown>;

const NO_DESCRIPTION = 'No description available';

function descriptionOf(text: string): string {
  const m = /^#\s*Description:\s*(.+)$/m.exec(text);
  return m ? m[1].trim() : NO_DESCRIPTION;
}

/** Every template, sorted by name. */
export function listTemplates(dir = TEMPLATES_DIR): TemplateInfo[] {
  const out: TemplateInfo[] = [];
  for (const vendor of readdirSync(dir, { withFileTypes: true })) {
    if (!vendor.isDirectory()) continue;
    for (const f of readdirSync(join(dir, vendor.name))) {
      if (!f.endsWith('.yaml')) continue;
      const file = join(dir, vendor.name, f);
      out.push({
        name: `${vendor.name}/${f.slice(0, -5)}`,
        description: descriptionOf(readFileSync(file, 'utf8')),
        file,
      });
    }
  }
  return out.sort((a, b) => a.name.localeCompare(b.name));
}

/** `Vendor/Model`, or a bare `Model` searched across vendors (upstream's lookup); unknown names list the known ones. */
export function findTemplate(name: string, dir = TEMPLATES_DIR): TemplateInfo {
  const all = listTemplates(dir);
  const exact = all.find((t) => t.name === name);
  if (exact) return exact;
  const bare = all.filter((t) => !name.includes('/') && t.name.split('/')[1] === name);
  if (bare.length === 1) return bare[0];
  const why = bare.length > 1 ? `is ambiguous (${bare.map((t) => t.name).join(', ')})` : 'does not exist';
  throw new CliError(`template "${name}" ${why}; known templates:\n  ${all.map((t) => t.name).join('\n  ')}`);
}

function wholeNumber(v: unknown): number {
  if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0) return v;
  if (typeof v === 'string' && /^\d{1,15}$/.test(v.trim())) return Number(v.trim());
  throw new Error(`expected a whole number, got ${JSON.stringify(v)}`);
}

function engine(): Liquid {
  const liquid = new Liquid({ strictFilters: true, ownPropertyOnly: true });
  liquid.registerFilter('int', wholeNumber);
  return liquid;
}

/** The value keys a template reads (`values.<key>`), sorted. */
export function valueKeys(text: string): string[] {
  const keys = new Set<string>();
  for (const v of engine().fullVariablesSync(text)) {
    const m = /^values\.([A-Za-z0-9_]+)/.exec(v);
    if (m) keys.add(m[1]);
  }
  return [...keys].sort();
}

/**
 * Renders a template with `values`. A key the template does not read is an error naming where it came from (a typo
 * would otherwise be ignored silently); a render error names the value key on the failing line.
 */
export function renderTemplate(t: TemplateInfo, values: Values, sources: Record<string, string> = {}): string {
  const text = readFileSync(t.file, 'utf8');
  const known = valueKeys(text);
  for (const key of Object.keys(values)) {
    if (!known.includes(key))
      throw new CliError(
        `${sources[key] ?? 'value'} ${key}: template ${t.name} has no value "${key}"; its values are: ${known.join(', ')}`,
      );
  }
  try {
    return engine().parseAndRenderSync(text, { values });
  } catch (err) {
    const msg = (err as Error).message;
    const line = /line:(\d+)/.exec(msg);
    const key = line ? /values\.([A-Za-z0-9_]+)/.exec(text.split('\n')[Number(line[1]) - 1] ?? '')?.[1] : undefined;
    const cause = msg.replace(/, line:\d+, col:\d+$/, '');
    throw new CliError(key ? `${sources[key] ?? 'value'} ${key}: ${cause}` : `template ${t.name}: ${cause}`);
  }
}
