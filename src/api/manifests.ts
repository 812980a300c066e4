// Reads manifest files: multi-document YAML (JSON is YAML too), with the line of each document and of each
// field, and clear errors for broken input — syntax errors with their line, oversized or absurdly nested
// documents, alias bombs — never an exception.
import { type Document, LineCounter, parseAllDocuments } from 'yaml';
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
}

export type ManifestError = Problem & { source: string; index: number; line?: number };

export interface ParsedManifests {
  docs: ManifestDoc[];
  errors: ManifestError[];
}

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
  const lineCounter = new LineCounter();
  let parsed: Document.Parsed[];
  try {
    const all = parseAllDocuments(text, { lineCounter, uniqueKeys: true, prettyErrors: false });
    // parseAllDocuments returns an EmptyStream (not an array) for empty input.
    parsed = Array.isArray(all) ? all : [];
  } catch (e) {
    errors.push({ source, index: 0, path: '', message: `cannot parse: ${errorMessage(e)}` });
    return { docs, errors };
  }
  let index = 0;
  for (const doc of parsed) {
    const start = doc.range?.[0] ?? 0;
    const end = doc.range?.[2] ?? text.length;
    const contentStart = doc.contents?.range?.[0] ?? start;
    const line = lineCounter.linePos(contentStart).line;
    if (doc.errors.length > 0) {
      const e = doc.errors[0];
      const errLine = e.linePos?.[0]?.line ?? line;
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
    if (end - start > MAX_DOCUMENT_BYTES) {
      errors.push({
        source,
        index,
        line,
        path: '',
        message: `document is ${mb(end - start)}; the Kubernetes API server accepts at most ${mb(MAX_DOCUMENT_BYTES)} per object`,
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
    // A `kind: List` (what `kubectl get -o yaml` prints) holds its objects under `items`.
    if (isList(obj)) {
      obj.items.forEach((item, i) => {
        docs.push({
          index,
          line,
          obj: item,
          lineOf: (p) => lineOfPath(doc, lineCounter, `items[${i}]${p ? `.${p}` : ''}`),
        });
      });
    } else {
      docs.push({ index, line, obj, lineOf: (p) => lineOfPath(doc, lineCounter, p) });
    }
    index++;
  }
  return { docs, errors };
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
  return s.split('\n')[0];
}

function errorMessage(e: unknown): string {
  if (e instanceof RangeError) return 'document is nested too deeply';
  return e instanceof Error ? firstLine(e.message) : String(e);
}
