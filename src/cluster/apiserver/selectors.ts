// Label and field selectors: parsing the query-string syntax and matching objects.
// Label selectors follow apimachinery's labels.Parse grammar (equality- and set-based);
// field selectors support only =, ==, != over a per-kind table of fields.
import { errors } from './errors.js';

export type LabelRequirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type LabelSelector = LabelRequirement[];

const KEY_RE =
  /^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;
const VALUE_RE = /^([A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?)?$/;

function checkKey(key: string, whole: string): void {
  if (!KEY_RE.test(key) || key.length > 317)
    throw errors.badRequest(`unable to parse requirement: invalid label key "${key}" in "${whole}"`);
}
function checkValue(v: string, whole: string): void {
  if (!VALUE_RE.test(v) || v.length > 63)
    throw errors.badRequest(`unable to parse requirement: invalid label value: "${v}" in "${whole}"`);
}

/** Splits on commas that are not inside parentheses. */
function splitTop(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

export function parseLabelSelector(input: string | undefined | null): LabelSelector {
  if (!input?.trim()) return [];
  if ((input.match(/\(/g) ?? []).length !== (input.match(/\)/g) ?? []).length)
    throw errors.badRequest(`unable to parse requirement: unbalanced parentheses in "${input}"`);
  const reqs: LabelSelector = [];
  for (const raw of splitTop(input)) {
    const part = raw.trim();
    if (!part) throw errors.badRequest(`unable to parse requirement: found '', expected: identifier in "${input}"`);
    let m = /^!\s*(\S+)$/.exec(part);
    if (m) {
      checkKey(m[1], input);
      reqs.push({ op: 'notexists', key: m[1] });
      continue;
    }
    m = /^(\S+?)\s+(in|notin)\s*\(([^()]*)\)$/.exec(part);
    if (m) {
      checkKey(m[1], input);
      const values = m[3]
        .split(',')
        .map((v) => v.trim())
        .filter((v, _i, a) => v !== '' || a.length === 1);
      for (const v of values) checkValue(v, input);
      reqs.push({ op: m[2] as 'in' | 'notin', key: m[1], values });
      continue;
    }
    m = /^([^=!\s]+)\s*(==|=|!=)\s*([^=!\s]*)$/.exec(part);
    if (m) {
      checkKey(m[1], input);
      checkValue(m[3], input);
      reqs.push({ op: m[2] === '!=' ? 'neq' : 'eq', key: m[1], value: m[3] });
      continue;
    }
    if (/^[^\s=!(),]+$/.test(part)) {
      checkKey(part, input);
      reqs.push({ op: 'exists', key: part });
      continue;
    }
    throw errors.badRequest(`unable to parse requirement: invalid label selector "${input}"`);
  }
  return reqs;
}

export function matchLabels(sel: LabelSelector, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  for (const r of sel) {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case 'eq':
        if (!has || v !== r.value) return false;
        break;
      case 'neq':
        if (has && v === r.value) return false;
        break;
      case 'in':
        if (!has || !r.values.includes(v)) return false;
        break;
      case 'notin':
        if (has && r.values.includes(v)) return false;
        break;
      case 'exists':
        if (!has) return false;
        break;
      case 'notexists':
        if (has) return false;
        break;
    }
  }
  return true;
}

/** metav1.LabelSelector (matchLabels + matchExpressions) → requirements. */
export function fromLabelSelectorObject(s: {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}): LabelSelector {
  const out: LabelSelector = [];
  for (const [key, value] of Object.entries(s.matchLabels ?? {})) out.push({ op: 'eq', key, value });
  for (const e of s.matchExpressions ?? []) {
    const op = e.operator;
    if (op === 'In') out.push({ op: 'in', key: e.key, values: e.values ?? [] });
    else if (op === 'NotIn') out.push({ op: 'notin', key: e.key, values: e.values ?? [] });
    else if (op === 'Exists') out.push({ op: 'exists', key: e.key });
    else if (op === 'DoesNotExist') out.push({ op: 'notexists', key: e.key });
    else throw errors.badRequest(`"${op}" is not a valid label selector operator`);
  }
  return out;
}

export interface FieldRequirement {
  field: string;
  op: 'eq' | 'neq';
  value: string;
}
export type FieldSelector = FieldRequirement[];

/** Per-kind field accessors; metadata.name / metadata.namespace are always available. */
export type FieldGetters = Record<string, (obj: any) => string>;

export function parseFieldSelector(input: string | undefined | null, getters: FieldGetters): FieldSelector {
  if (!input?.trim()) return [];
  const out: FieldSelector = [];
  for (const raw of input.split(',')) {
    const part = raw.trim();
    const m = /^([^=!]+?)\s*(==|=|!=)\s*(.*)$/.exec(part);
    if (!m) throw errors.badRequest(`invalid selector: '${input}'; can't understand '${part}'`);
    const field = m[1].trim();
    if (!getters[field]) {
      const known = Object.keys(getters)
        .map((k) => `"${k}"`)
        .join(', ');
      throw errors.badRequest(`"${field}" is not a known field selector: only ${known}`);
    }
    out.push({ field, op: m[2] === '!=' ? 'neq' : 'eq', value: m[3].trim() });
  }
  return out;
}

export function matchFields(sel: FieldSelector, obj: any, getters: FieldGetters): boolean {
  for (const r of sel) {
    const v = getters[r.field](obj);
    if (r.op === 'eq' ? v !== r.value : v === r.value) return false;
  }
  return true;
}

/** Helper to build a getter from a dotted path; missing values read as "". */
export function pathGetter(path: string): (obj: any) => string {
  const parts = path.split('.');
  return (obj: any) => {
    let cur = obj;
    for (const p of parts) {
      if (cur === null || cur === undefined) return '';
      cur = cur[p];
    }
    if (cur === null || cur === undefined) return '';
    return String(cur);
  };
}

/** Field selectors every kind supports. */
export const META_GETTERS: FieldGetters = {
  'metadata.name': pathGetter('metadata.name'),
  'metadata.namespace': pathGetter('metadata.namespace'),
};
