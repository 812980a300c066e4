// Reads manifest files: multi-document YAML (JSON is YAML too), with the line of each document and of each
// field, and clear errors for broken input — syntax errors with their line, oversized or absurdly nested
// documents, alias bombs — never an exception.
import { type Document, isMap, isScalar, isSeq, LineCounter, parseAllDocuments } from 'yaml';
import type { Problem } from './problems.js';

/** The API server's default limit for one request body (3 MiB); a bigger object could never be stored. */
export const MAX_DOCUMENT_BYTES = 3 * 1024 * 1024;
/** Whole-file limit beyond which we do not even parse. */
export const MAX_FILE_BYTES = 64 * 1024 * 1024;
/** Deeper than any real manifest; guards the recursive tools downstream. */
export const MAX_NESTING_DEPTH = 100;

export interface ManifestDoc {
  /** 0-based position of the document in its file, counting only non-empty documents. */
  index: number;
  /** 1-based line where the document's content starts. */
  line: number;
  obj: unknown;
  /** 1-based line of the node at a problem path such as `spec.rules[0].targetModels[1].weight` (nearest existing parent). */
  lineOf?: (path: string) => number | undefined;
  /** YAML-level warnings, e.g. an unquoted `yes` that kubectl (YAML 1.1) would read as a boolean. */
  warnings?: Problem[];
}

export type ManifestError = Problem & { source: string; index: number; line?: number };

export interface ParsedManifests {
  docs: ManifestDoc[];
  errors: ManifestError[];
}

const OVERSIZED = '__kthena_oversized_document__';

export function parseManifests(text: string, source: string): ParsedManifests {
  const docs: ManifestDoc[] = [];
  const errors: ManifestError[] = [];
  if (text.length > MAX_FILE_BYTES) {
    errors.push({
      source,
      index: 0,
      path: '',
      message: `file is ${mb(text.length)}; at most ${mb(MAX_FILE_BYTES)} is read`,
    });
    return { docs, errors };
  }
  const oversized = new Map<number, number>(); // placeholder line → original size
  const input = text.length > MAX_DOCUMENT_BYTES ? blankOversized(text, oversized) : text;
  const lineCounter = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    // uniqueKeys is checked below in linear time; the parser's own check is quadratic in the keys of a map.
    const all = parseAllDocuments(input, { lineCounter, uniqueKeys: false, prettyErrors: false });
    // parseAllDocuments returns an EmptyStream (not an array) for empty input.
    parsed = Array.isArray(all) ? all : [];
  } catch (e) {
    errors.push({ source, index: 0, path: '', message: `cannot parse: ${errorMessage(e)}` });
    return { docs, errors };
  }
  let index = 0;
  for (const doc of parsed) {
    const start = doc.range?.[0] ?? 0;
    const end = doc.range?.[2] ?? input.length;
    const contentStart = doc.contents?.range?.[0] ?? start;
    const line = lineCounter.linePos(contentStart).line;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const errLine = lineCounter.linePos(e.pos[0]).line;
      errors.push({
        source,
        index,
        line: errLine,
        path: '',
        message: `YAML syntax error at line ${errLine}: ${firstLine(e.message)}`,
      });
      index++;
      continue;
    }
    if (doc.contents === null) continue; // empty document (e.g. a trailing `---` or comments only)
    const placeholder = isScalar(doc.contents) && doc.contents.value === OVERSIZED;
    if (placeholder || end - start > MAX_DOCUMENT_BYTES) {
      const size = placeholder ? (oversized.get(line) ?? 0) : end - start;
      errors.push({
        source,
        index,
        line,
        path: '',
        message: `document is ${mb(size)}; the Kubernetes API server accepts at most ${mb(MAX_DOCUMENT_BYTES)} per object`,
      });
      index++;
      continue;
    }
    const dup = duplicateKey(doc);
    if (dup) {
      const dupLine = lineCounter.linePos(dup.offset).line;
      errors.push({
        source,
        index,
        line: dupLine,
        path: '',
        message: `YAML error at line ${dupLine}: key "${dup.key}" appears twice in the same map`,
      });
      index++;
      continue;
    }
    let obj: unknown;
    try {
      obj = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      errors.push({ source, index, line, path: '', message: `cannot read document: ${errorMessage(e)}` });
      index++;
      continue;
    }
    if (depth(obj) > MAX_NESTING_DEPTH) {
      errors.push({
        source,
        index,
        line,
        path: '',
        message: `document is nested deeper than ${MAX_NESTING_DEPTH} levels`,
      });
      index++;
      continue;
    }
    const warnings = yaml11Booleans(doc);
    // A `kind: List` (what `kubectl get -o yaml` prints) holds its objects under `items`.
    if (isList(obj)) {
      obj.items.forEach((item, i) => {
        const prefix = `items[${i}]`;
        docs.push({
          index,
          line,
          obj: item,
          lineOf: (p) => lineOfPath(doc, lineCounter, `${prefix}${p ? `.${p}` : ''}`),
          warnings: warnings
            .filter((w) => w.path.startsWith(`${prefix}.`))
            .map((w) => ({ ...w, path: w.path.slice(prefix.length + 1) })),
        });
      });
    } else {
      docs.push({ index, line, obj, lineOf: (p) => lineOfPath(doc, lineCounter, p), warnings });
    }
    index++;
  }
  return { docs, errors };
}

/**
 * Replaces each document larger than the limit with a one-line placeholder followed by as many newlines, so
 * the parser never spends time on it and the lines of later documents stay where they were.
 */
function blankOversized(text: string, sizes: Map<number, number>): string {
  const sep = /^(---|\.\.\.)(?=[ \t\r\n]|$)[^\n]*$/gm;
  const bounds: number[] = [0];
  for (const m of text.matchAll(sep)) bounds.push(m.index, m.index + m[0].length);
  bounds.push(text.length);
  let out = '';
  let line = 1;
  for (let i = 0; i < bounds.length; i += 2) {
    const chunk = text.slice(bounds[i], bounds[i + 1]);
    const marker = i + 2 < bounds.length ? text.slice(bounds[i + 1], bounds[i + 2]) : '';
    const lines = countNewlines(chunk);
    if (chunk.length > MAX_DOCUMENT_BYTES) {
      const startLine = line + (chunk.startsWith('\n') ? 1 : 0);
      sizes.set(startLine, chunk.length);
      out += `${chunk.startsWith('\n') ? '\n' : ''}${OVERSIZED}${'\n'.repeat(Math.max(0, lines - (chunk.startsWith('\n') ? 1 : 0)))}`;
    } else out += chunk;
    out += marker;
    line += lines + countNewlines(marker);
  }
  return out;
}

function countNewlines(s: string): number {
  let n = 0;
  for (let i = s.indexOf('\n'); i !== -1; i = s.indexOf('\n', i + 1)) n++;
  return n;
}

// Plain scalars YAML 1.1 (and so kubectl, through go-yaml v2) reads as booleans, while YAML 1.2 reads strings.
const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** Unquoted yes/no/on/off values: this tool and kubectl would read them differently. */
function yaml11Booleans(doc: Document.Parsed): Problem[] {
  const out: Problem[] = [];
  const stack: Array<[unknown, Array<string | number>]> = [[doc.contents, []]];
  while (stack.length > 0 && out.length < 20) {
    const [node, path] = stack.pop()!;
    if (isMap(node)) {
      // Pushed in reverse so warnings come out in document order.
      for (const pair of [...node.items].reverse()) {
        const key = isScalar(pair.key) ? String(pair.key.value) : '?';
        stack.push([pair.value, [...path, key]]);
      }
    } else if (isSeq(node)) {
      for (let i = node.items.length - 1; i >= 0; i--) stack.push([node.items[i], [...path, i]]);
    } else if (
      isScalar(node) &&
      node.type === 'PLAIN' &&
      typeof node.value === 'string' &&
      YAML11_BOOL.test(node.value)
    ) {
      out.push({
        path: formatYamlPath(path),
        message: `unquoted ${node.value} is the boolean ${/^[yYoO]/.test(node.value) && node.value.toLowerCase() !== 'off' ? 'true' : 'false'} for kubectl (YAML 1.1) but a string here; write "${node.value}" or true/false`,
      });
    }
  }
  return out;
}

function formatYamlPath(path: Array<string | number>): string {
  let out = '';
  for (const s of path) out += typeof s === 'number' ? `[${s}]` : out === '' ? s : `.${s}`;
  return out;
}

/** The first key that appears twice in one mapping (checked iteratively, in linear time). */
function duplicateKey(doc: Document.Parsed): { key: string; offset: number } | undefined {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<unknown>();
      for (const pair of node.items) {
        const k = isScalar(pair.key) ? pair.key.value : pair.key;
        if (seen.has(k)) {
          const range = isScalar(pair.key) ? pair.key.range : undefined;
          return { key: String(k), offset: range?.[0] ?? 0 };
        }
        seen.add(k);
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      for (const item of node.items) stack.push(item);
    }
  }
  return undefined;
}

function isList(obj: unknown): obj is { items: unknown[] } {
  if (typeof obj !== 'object' || obj === null) return false;
  const o = obj as Record<string, unknown>;
  return o.apiVersion === 'v1' && o.kind === 'List' && Array.isArray(o.items);
}

/** Splits `a.b[0][x.y/z].c` into ['a','b',0,'x.y/z','c']. */
export function parsePath(path: string): Array<string | number> {
  const out: Array<string | number> = [];
  const re = /([^.[\]]+)|\[([^\]]*)\]/g;
  for (const m of path.matchAll(re)) {
    if (m[1] !== undefined) out.push(m[1]);
    else out.push(/^\d+$/.test(m[2]) ? Number(m[2]) : m[2]);
  }
  return out;
}

function lineOfPath(doc: Document.Parsed, lc: LineCounter, path: string): number | undefined {
  const segs = parsePath(path);
  for (let n = segs.length; n >= 0; n--) {
    try {
      const node = doc.getIn(segs.slice(0, n), true) as { range?: [number, number, number] } | undefined;
      if (node && typeof node === 'object' && node.range) return lc.linePos(node.range[0]).line;
    } catch {
      // a segment that does not address a collection: try the parent
    }
  }
  return undefined;
}

/** Nesting depth, measured without recursion so hostile input cannot blow the stack here. */
function depth(root: unknown): number {
  let max = 0;
  const stack: Array<[unknown, number]> = [[root, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (d > max) max = d;
    if (max > MAX_NESTING_DEPTH) return max;
    if (typeof v === 'object' && v !== null) {
      for (const c of Array.isArray(v) ? v : Object.values(v))
        if (typeof c === 'object' && c !== null) stack.push([c, d + 1]);
    }
  }
  return max;
}

function mb(n: number): string {
  return `${(n / (1024 * 1024)).toFixed(1)} MiB`;
}

function firstLine(s: string): string {
  if (/call stack/i.test(s)) return 'document is nested too deeply';
  return s.split('\n')[0];
}

function errorMessage(e: unknown): string {
  if (e instanceof RangeError || (e instanceof Error && /call stack/i.test(e.message)))
    return 'document is nested too deeply';
  return e instanceof Error ? firstLine(e.message) : String(e);
}
