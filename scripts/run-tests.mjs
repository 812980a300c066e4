#!/usr/bin/env node
// Runs every *.test.ts under the given roots (directories or single test files; default: src, bench, test) with node:test through tsx.
// Node 20's test runner does not discover .ts files or expand globs, so we list them here.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const roots = process.argv.slice(2).filter((a) => !a.startsWith('--'));
const passthrough = process.argv.slice(2).filter((a) => a.startsWith('--'));
const files = [];
function walk(dir) {
  if (dir.endsWith('.test.ts')) {
    files.push(dir);
    return;
  }
  let entries;
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const name of entries.sort()) {
    if (name === 'node_modules' || name === 'dist' || name.startsWith('.')) continue;
    const p = join(dir, name);
    if (statSync(p).isDirectory()) walk(p);
    else if (name.endsWith('.test.ts')) files.push(p);
  }
}
for (const r of roots.length ? roots : ['src', 'bench', 'test']) walk(r);
if (files.length === 0) {
  console.error('no test files found');
  process.exit(1);
}
const concurrency = process.env.TEST_CONCURRENCY ?? '2';
const r = spawnSync(
  process.execPath,
  [
    '--import',
    'tsx',
    '--test',
    `--test-concurrency=${concurrency}`,
    // A test that hangs fails after 10 minutes instead of holding the whole run (and CI) until its own limit.
    '--test-timeout=600000',
    '--test-reporter=spec',
    ...passthrough,
    ...files,
  ],
  { stdio: 'inherit' },
);
process.exit(r.status ?? 1);
