// The router's house rules about imports, kept by a test (DESIGN.md §2): no cycle between two files, no two rooms of
// src/router that import each other (an import that runs back up), and the planes apart — the router's production
// code imports nothing of the engine simulator, and the simulator nothing of the router (both share src/tokens).
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

const SRC = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const ROUTER = join(SRC, 'router');

/** Production .ts files under a root (tests, declarations and testing/ scaffolding left out). */
function sources(root: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const n of readdirSync(d)) {
      const p = join(d, n);
      if (statSync(p).isDirectory()) {
        if (n !== 'testing') walk(p);
      } else if (n.endsWith('.ts') && !n.endsWith('.test.ts') && !n.endsWith('.d.ts')) out.push(p);
    }
  };
  walk(root);
  return out;
}

/** Relative imports and re-exports of a file, resolved to .ts paths (type-only imports count: they couple too). */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of text.matchAll(/^(?:import|export)\b[^;]*?\bfrom\s+'(\.[^']+)'/gms))
    out.push(resolve(dirname(file), m[1].replace(/\.js$/, '.ts')));
  return out;
}

/** The room of a router file: its first directory under src/router ('.' for the files at the top). */
const roomOf = (f: string) => {
  const r = relative(ROUTER, f);
  return r.includes('/') ? r.slice(0, r.indexOf('/')) : '.';
};

/**
 * Known rooms that still import each other, to be split (each entry: why it is allowed for now). telemetry/ holds
 * both the metrics every room reports to and the debug endpoints that read the scheduler and the store.
 */
const KNOWN_ROOM_PAIRS: ReadonlySet<string> = new Set(['scheduler|telemetry', 'store|telemetry']);

test('no import cycle between files of src/router', () => {
  const files = sources(ROUTER);
  const graph = new Map(files.map((f) => [f, importsOf(f).filter((t) => t.startsWith(`${ROUTER}/`))]));
  const state = new Map<string, 'open' | 'done'>();
  const cycles: string[] = [];
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 'open');
    stack.push(f);
    for (const t of graph.get(f) ?? []) {
      if (state.get(t) === 'open')
        cycles.push([...stack.slice(stack.indexOf(t)), t].map((x) => relative(ROUTER, x)).join(' → '));
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of files) if (!state.has(f)) visit(f);
  assert.deepEqual(cycles, []);
});

test('no two rooms of src/router import each other (nothing runs back up)', () => {
  const edges = new Map<string, Map<string, string>>();
  for (const f of sources(ROUTER))
    for (const t of importsOf(f)) {
      if (!t.startsWith(`${ROUTER}/`)) continue;
      const a = roomOf(f);
      const b = roomOf(t);
      if (a === b || a === '.') continue; // the door and the wiring at the top may import every room
      if (!edges.has(a)) edges.set(a, new Map());
      edges.get(a)?.set(b, `${relative(ROUTER, f)} → ${relative(ROUTER, t)}`);
    }
  const back: string[] = [];
  for (const [a, to] of edges)
    for (const [b, example] of to) {
      const pair = [a, b].sort().join('|');
      if (a < b && edges.get(b)?.has(a) && !KNOWN_ROOM_PAIRS.has(pair))
        back.push(`${a} ⇄ ${b}: ${example}; ${edges.get(b)?.get(a)}`);
    }
  assert.deepEqual(back, []);
});

test('the planes stay apart: router ↛ engine simulator, engine simulator ↛ router', () => {
  const crossing = (root: string, other: string) =>
    sources(join(SRC, root)).flatMap((f) =>
      importsOf(f)
        .filter((t) => t.startsWith(`${join(SRC, other)}/`))
        .map((t) => `${relative(SRC, f)} → ${relative(SRC, t)}`),
    );
  assert.deepEqual(crossing('router', 'engine'), []);
  assert.deepEqual(crossing('engine', 'router'), []);
});
