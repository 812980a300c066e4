// A small JSONPath evaluator for printer columns and scale paths: `.a.b`, `[0]`, `['k']`, `[*]`,
// and filters `[?(@.type=="Ready")]`. Returns every match (printer columns show the first or all).

type Step = { kind: 'key'; key: string } | { kind: 'index'; index: number } | { kind: 'all' } | Filter;
interface Filter {
  kind: 'filter';
  path: string[];
  op: '==' | '!=' | 'exists';
  value?: string | number | boolean;
}

const cache = new Map<string, Step[]>();

export function compileJsonPath(expr: string): Step[] {
  const hit = cache.get(expr);
  if (hit) return hit;
  let s = expr.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1);
  if (s.startsWith('$')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    const ch = s[i];
    if (ch === '.') {
      i++;
      let j = i;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      const key = s.slice(i, j);
      if (key === '*') steps.push({ kind: 'all' });
      else if (key) steps.push({ kind: 'key', key });
      i = j;
    } else if (ch === '[') {
      const end = findClose(s, i);
      if (end < 0) throw new Error(`unterminated [ in JSONPath ${expr}`);
      const inner = s.slice(i + 1, end).trim();
      i = end + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$/.test(inner) || /^".*"$/.test(inner)) steps.push({ kind: 'key', key: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) steps.push(parseFilter(inner.slice(2, -1), expr));
      else throw new Error(`unsupported JSONPath segment [${inner}] in ${expr}`);
    } else {
      let j = i;
      while (j < s.length && s[j] !== '.' && s[j] !== '[') j++;
      steps.push({ kind: 'key', key: s.slice(i, j) });
      i = j;
    }
  }
  cache.set(expr, steps);
  return steps;
}

function findClose(s: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < s.length; i++) {
    const c = s[i];
    if (quote) {
      if (c === quote) quote = '';
      continue;
    }
    if (c === '"' || c === "'") quote = c;
    else if (c === '[') depth++;
    else if (c === ']') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

function parseFilter(f: string, expr: string): Filter {
  const m = /^@((?:\.[A-Za-z0-9_\-/]+)+)\s*(==|!=)\s*(.+)$/.exec(f.trim());
  if (m) {
    const raw = m[3].trim();
    let value: string | number | boolean;
    if (/^'.*'$/.test(raw) || /^".*"$/.test(raw)) value = raw.slice(1, -1);
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (!Number.isNaN(Number(raw))) value = Number(raw);
    else throw new Error(`unsupported JSONPath filter value ${raw} in ${expr}`);
    return { kind: 'filter', path: m[1].slice(1).split('.'), op: m[2] as '==' | '!=', value };
  }
  const e = /^@((?:\.[A-Za-z0-9_\-/]+)+)$/.exec(f.trim());
  if (e) return { kind: 'filter', path: e[1].slice(1).split('.'), op: 'exists' };
  throw new Error(`unsupported JSONPath filter ${f} in ${expr}`);
}

export function evalJsonPath(obj: unknown, expr: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const step of compileJsonPath(expr)) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (v === null || typeof v !== 'object') continue;
      if (step.kind === 'key') {
        const x = (v as Record<string, unknown>)[step.key];
        if (x !== undefined) next.push(x);
      } else if (step.kind === 'index') {
        if (!Array.isArray(v)) continue;
        const x = v[step.index < 0 ? v.length + step.index : step.index];
        if (x !== undefined) next.push(x);
      } else if (step.kind === 'all') {
        next.push(...(Array.isArray(v) ? v : Object.values(v)));
      } else {
        if (!Array.isArray(v)) continue;
        for (const item of v) {
          let x: unknown = item;
          for (const p of step.path) x = x && typeof x === 'object' ? (x as Record<string, unknown>)[p] : undefined;
          if (step.op === 'exists' ? x !== undefined : step.op === '==' ? x === step.value : x !== step.value)
            next.push(item);
        }
      }
    }
    cur = next;
  }
  return cur;
}
