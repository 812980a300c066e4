import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { KINDS, renderApiDoc } from './index.js';

const ROOT = join(import.meta.dirname, '..', '..');

test('docs/api.md is what the generator produces (run `npx tsx scripts/gen-api.ts`)', () => {
  assert.equal(readFileSync(join(ROOT, 'docs', 'api.md'), 'utf8'), renderApiDoc());
});

test('the reference documents every field of every kind, with links to examples', () => {
  const doc = renderApiDoc();
  for (const kind of Object.keys(KINDS)) {
    assert.match(doc, new RegExp(`^## ${kind}$`, 'm'));
  }
  const undocumented = doc.split('\n').filter((l) => l.startsWith('| `') && l.endsWith('|  |'));
  assert.deepEqual(undocumented, [], 'fields without a description');
  for (const field of [
    'spec.rules[].targetModels[].weight',
    'spec.template.roles[].maxUnavailable',
    'spec.disaggregatedTarget.ratioConstraint.minRatio',
  ]) {
    assert.ok(doc.includes(`| \`${field}\` |`), field);
  }
  assert.match(doc, /\| `spec\.rules\[\]\.targetModels\[\]\.weight` \| int32 \| `100` \| 0–100 \|/);
  assert.match(doc, /examples: \[examples\/router\/\]/);
  for (const dir of doc.matchAll(/\(\.\.\/examples\/([a-z]+)\/\)/g)) {
    assert.ok(readdirSync(join(ROOT, 'examples', dir[1])).length > 0, dir[1]);
  }
});
